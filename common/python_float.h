#pragma once
// Python's float(str) and the Unicode decimal digits it reads, shared by the scorers that canonicalise
// numbers the way their Python reference does (DROP's _normalize, ChartQA's relaxed_correctness, VQA's
// comma rule). Torch-free.
#include <optional>
#include <string_view>

namespace gemma {

// The value 0-9 of a Unicode decimal digit (category Nd, as CPython 3.11's unicodedata.decimal reads
// it: ASCII, Arabic-Indic, Devanagari, Thai, full-width, ...); nullopt for any other code point.
std::optional<int> unicode_decimal_value(char32_t c);

// Python's float(text) (CPython Objects/floatobject.c float_from_string): surrounding Unicode
// whitespace, a sign, digits with single "_" between them, ".", an exponent, "inf"/"infinity"/"nan" in
// any case; any Unicode decimal digit reads as its ASCII digit. nullopt where Python raises ValueError
// ("1,000", "", "5%", "0x10"). Correctly rounded; out-of-range values become +-inf or 0 as in Python.
std::optional<double> python_float(std::string_view text);

}  // namespace gemma
