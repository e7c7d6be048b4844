#include "common/python_float.h"

#include <cstdlib>
#include <limits>
#include <string>

#include "common/python_text.h"
#include "common/utf8.h"

namespace gemma {
namespace {

// The zero of every run of ten Unicode decimal digits (category Nd); generated from CPython 3.11's
// unicodedata: [c for c in range(0x110000) if unicodedata.decimal(chr(c), -1) == 0].
constexpr char32_t kDigitZeros[] = {
    0x30,    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,   0xc66,
    0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,  0x1810,  0x1946,
    0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,  0xa8d0,  0xa900,  0xa9d0,
    0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0,
    0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
    0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0};

// Every Unicode decimal digit replaced by its ASCII digit, as CPython does before parsing
// (_PyUnicode_TransformDecimalAndSpaceToASCII); nullopt when any other non-ASCII character is left,
// which no float literal can hold.
std::optional<std::string> ascii_digits(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8_at(text, pos);
    pos += c.length;
    if (c.code_point < 0x80) {
      out += static_cast<char>(c.code_point);
      continue;
    }
    const std::optional<int> digit = c.valid ? unicode_decimal_value(c.code_point) : std::nullopt;
    if (!digit) return std::nullopt;
    out += static_cast<char>('0' + *digit);
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool equals_ignoring_ascii_case(std::string_view text, std::string_view lower_word) {
  if (text.size() != lower_word.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
    if (c != lower_word[i]) return false;
  }
  return true;
}

// Python's digitpart: digit (["_"] digit)*, starting at `pos`; appends the digits to `out` and
// returns the position after it, or npos when there is no digit at `pos`.
size_t scan_digit_part(std::string_view text, size_t pos, std::string& out) {
  if (pos >= text.size() || !is_digit(text[pos])) return std::string_view::npos;
  while (pos < text.size()) {
    if (is_digit(text[pos])) {
      out += text[pos++];
    } else if (text[pos] == '_' && pos + 1 < text.size() && is_digit(text[pos + 1])) {
      ++pos;
    } else {
      break;
    }
  }
  return pos;
}

// The decimal literal of Python's float() grammar without sign, underscores removed (what strtod
// reads); nullopt when `text` is not one.
std::optional<std::string> decimal_literal(std::string_view text) {
  std::string literal;
  size_t pos = 0;
  const size_t integer_end = scan_digit_part(text, pos, literal);
  const bool has_integer = integer_end != std::string_view::npos;
  if (has_integer) pos = integer_end;
  bool has_fraction = false;
  if (pos < text.size() && text[pos] == '.') {
    literal += '.';
    const size_t fraction_end = scan_digit_part(text, pos + 1, literal);
    has_fraction = fraction_end != std::string_view::npos;
    pos = has_fraction ? fraction_end : pos + 1;
  }
  if (!has_integer && !has_fraction) return std::nullopt;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    literal += 'e';
    ++pos;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) literal += text[pos++];
    pos = scan_digit_part(text, pos, literal);
    if (pos == std::string_view::npos) return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  return literal;
}

}  // namespace

std::optional<int> unicode_decimal_value(char32_t c) {
  for (char32_t zero : kDigitZeros)
    if (c >= zero && c < zero + 10) return static_cast<int>(c - zero);
  return std::nullopt;
}

std::optional<double> python_float(std::string_view raw) {
  const std::optional<std::string> converted = ascii_digits(python_strip(raw));
  if (!converted) return std::nullopt;
  std::string_view text = *converted;
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  double magnitude;
  if (equals_ignoring_ascii_case(text, "inf") || equals_ignoring_ascii_case(text, "infinity")) {
    magnitude = std::numeric_limits<double>::infinity();
  } else if (equals_ignoring_ascii_case(text, "nan")) {
    magnitude = std::numeric_limits<double>::quiet_NaN();  // float("-nan") keeps its sign, as here
  } else {
    const std::optional<std::string> literal = decimal_literal(text);
    if (!literal) return std::nullopt;
    magnitude = std::strtod(literal->c_str(), nullptr);  // correctly rounded, as CPython's float()
  }
  return negative ? -magnitude : magnitude;
}

}  // namespace gemma
