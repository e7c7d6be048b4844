#include "scorers/relaxed_accuracy.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/error.h"
#include "common/python_text.h"

namespace gemma::scorers {
namespace {

// The zero of every run of ten Unicode decimal digits (category Nd), which Python's float()
// accepts in place of ASCII digits; generated from CPython 3.11's unicodedata.
constexpr char32_t kDigitZeros[] = {
    0x30,    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,   0xc66,
    0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,  0x1810,  0x1946,
    0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,  0xa8d0,  0xa900,  0xa9d0,
    0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0,
    0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
    0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0};

// Replaces every non-ASCII decimal digit by its ASCII digit (CPython does the same before parsing:
// _PyUnicode_TransformDecimalAndSpaceToASCII); any other non-ASCII code point makes the text invalid.
std::optional<std::string> ascii_digits(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      out += static_cast<char>(lead);
      ++i;
      continue;
    }
    const size_t length = (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return std::nullopt;
    char32_t c = lead & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    bool digit = false;
    for (char32_t zero : kDigitZeros)
      if (c >= zero && c < zero + 10) {
        out += static_cast<char>('0' + (c - zero));
        digit = true;
        break;
      }
    if (!digit) return std::nullopt;
    i += length;
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// digitpart: digit (["_"] digit)*, starting at text[pos]; appends the digits to `digits` and
// returns the position after it, or npos when there is none.
size_t digit_part(const std::string& text, size_t pos, std::string& digits) {
  if (pos >= text.size() || !is_digit(text[pos])) return std::string::npos;
  while (pos < text.size()) {
    if (is_digit(text[pos])) {
      digits += text[pos++];
    } else if (text[pos] == '_' && pos + 1 < text.size() && is_digit(text[pos + 1])) {
      ++pos;
    } else {
      break;
    }
  }
  return pos;
}

std::string ascii_lower(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

}  // namespace

std::optional<double> python_float(std::string_view text) {
  const auto converted = ascii_digits(python_strip(text));
  if (!converted || converted->empty()) return std::nullopt;
  const std::string& s = *converted;
  size_t pos = 0;
  std::string literal;
  if (s[pos] == '+' || s[pos] == '-') literal += s[pos++];
  const std::string rest = ascii_lower(s.substr(pos));
  if (rest == "inf" || rest == "infinity")
    return literal == "-" ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  if (rest == "nan") return std::numeric_limits<double>::quiet_NaN();
  // decimal literal: digitpart ["." [digitpart]] | "." digitpart, then an optional exponent.
  bool mantissa = false;
  size_t next = digit_part(s, pos, literal);
  if (next != std::string::npos) {
    pos = next;
    mantissa = true;
  }
  if (pos < s.size() && s[pos] == '.') {
    literal += '.';
    ++pos;
    next = digit_part(s, pos, literal);
    if (next != std::string::npos) {
      pos = next;
      mantissa = true;
    }
  }
  if (!mantissa) return std::nullopt;
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    literal += 'e';
    ++pos;
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) literal += s[pos++];
    next = digit_part(s, pos, literal);
    if (next == std::string::npos) return std::nullopt;
    pos = next;
  }
  if (pos != s.size()) return std::nullopt;
  // strtod rounds correctly, as CPython's float() does; out-of-range values become +-inf or 0
  // as in Python.
  return std::strtod(literal.c_str(), nullptr);
}

std::optional<double> chartqa_to_float(std::string_view text) {
  if (!text.empty() && text.back() == '%') {
    size_t end = text.size();
    while (end > 0 && text[end - 1] == '%') --end;
    const auto value = python_float(text.substr(0, end));
    if (!value) return std::nullopt;
    return *value / 100.0;
  }
  return python_float(text);
}

bool relaxed_correctness(std::string_view prediction, std::string_view target, double max_relative_change) {
  const auto predicted = chartqa_to_float(prediction);
  const auto gold = chartqa_to_float(target);
  if (predicted && gold && *gold != 0.0)  // Python truthiness: 0.0 is false, NaN is true
    return std::fabs(*predicted - *gold) / std::fabs(*gold) <= max_relative_change;
  return python_lower(prediction) == python_lower(target);
}

double relaxed_accuracy(std::string_view prediction, const std::vector<std::string>& references,
                        double max_relative_change) {
  if (references.empty()) fail("relaxed accuracy: no reference to score the prediction against");
  for (const std::string& reference : references)
    if (relaxed_correctness(prediction, reference, max_relative_change)) return 1.0;
  return 0.0;
}

}  // namespace gemma::scorers
