#pragma once
// Python `str` semantics on UTF-8 text, for the few operations lm-eval's prompt assembly, filters and
// scorers rely on: Python counts and tests code points, not bytes. Torch-free.
#include <string>
#include <string_view>
#include <vector>

namespace gemma {

// Python's str.isspace() for one code point: bidirectional classes WS/B/S and category Zs.
bool python_isspace(char32_t c);

// The first / last code point of `text` (U+FFFD when the bytes there are not valid UTF-8);
// the text must not be empty.
char32_t first_code_point(std::string_view text);
char32_t last_code_point(std::string_view text);

// Python's len(str): the number of code points (continuation bytes are not counted).
size_t code_point_length(std::string_view text);

// Python's str.strip() with no argument: leading and trailing Unicode whitespace removed.
std::string python_strip(std::string_view text);

// Python's str.split() with no argument: runs of Unicode whitespace separate words.
std::vector<std::string> python_split(std::string_view text);

// Python's str.lower() for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (the scripts of the
// benchmarks evaluated here); other code points are kept as they are. Python's few one-to-many
// mappings (U+0130 -> "i" + U+0307) are applied as well.
std::string python_lower(std::string_view text);

// Python's str.replace(old, new): every non-overlapping occurrence of `from`, left to right, replaced
// by `to`. An empty `from` leaves the text as it is (no caller wants Python's insert-between-characters).
std::string replace_all(std::string_view text, std::string_view from, std::string_view to);

}  // namespace gemma
