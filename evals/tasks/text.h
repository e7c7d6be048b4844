#pragma once
// Python string methods the lm-eval task templates call that common/python_text.h does not cover,
// with Python's semantics on UTF-8 text (the rendered prompt must be byte-identical to lm-eval's).
#include <string>
#include <string_view>

namespace gemma::evals::tasks {

// str.capitalize(): first character upper-cased, the rest lower-cased (python_lower). The first
// character's upper-casing covers ASCII and Latin-1; other first characters are kept as they are,
// a deviation from Python only for text starting outside those ranges.
std::string py_capitalize(std::string_view text);

}  // namespace gemma::evals::tasks
