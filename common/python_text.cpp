#include "common/python_text.h"

#include <vector>

#include "common/utf8.h"

namespace gemma {
namespace {

struct CodePoint {
  char32_t value;
  std::string_view bytes;  // as found in the text
  bool valid;
};

std::vector<CodePoint> decode(std::string_view text) {
  std::vector<CodePoint> code_points;
  code_points.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8_at(text, pos);
    code_points.push_back({c.code_point, text.substr(pos, c.length), c.valid});
    pos += c.length;
  }
  return code_points;
}

// Latin Extended-A alternates upper/lower case in pairs; which parity is upper case flips twice.
char32_t latin_extended_a_lower(char32_t c) {
  if (c == 0x178) return 0xFF;  // Ÿ -> ÿ
  const bool even_is_upper = (c <= 0x137) || (c >= 0x14A && c <= 0x177);
  const bool odd_is_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
  if (even_is_upper && c % 2 == 0) return c + 1;
  if (odd_is_upper && c % 2 == 1) return c + 1;
  return c;
}

// Simple (one-to-one) lower-case mapping for the covered scripts; `c` itself when none applies.
char32_t simple_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE) return c == 0xD7 ? c : c + 32;
  if (c >= 0x100 && c <= 0x17F) return latin_extended_a_lower(c);
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  return c;
}

bool is_cased_letter(char32_t c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  if (simple_lower(c) != c) return true;
  return (c >= 0xDF && c <= 0xFF && c != 0xF7) || (c >= 0x100 && c <= 0x17F) || (c >= 0x3AC && c <= 0x3CE) ||
         (c >= 0x430 && c <= 0x45F);
}

constexpr char32_t kCapitalSigma = 0x3A3, kSmallSigma = 0x3C3, kFinalSigma = 0x3C2;

// Python applies Unicode's Final_Sigma rule: Σ at the end of a word lower-cases to ς.
bool is_final_sigma(const std::vector<CodePoint>& text, size_t i) {
  const bool after_letter = i > 0 && is_cased_letter(text[i - 1].value);
  const bool before_letter = i + 1 < text.size() && is_cased_letter(text[i + 1].value);
  return after_letter && !before_letter;
}

}  // namespace

bool python_isspace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

char32_t first_code_point(std::string_view text) { return decode_utf8_at(text, 0).code_point; }

char32_t last_code_point(std::string_view text) {
  size_t start = text.size() - 1;
  while (start > 0 && text.size() - start < 4 && is_utf8_continuation(static_cast<unsigned char>(text[start]))) --start;
  const Utf8Char c = decode_utf8_at(text, start);
  return start + c.length == text.size() ? c.code_point : kReplacementCharacter;
}

size_t code_point_length(std::string_view text) {
  size_t count = 0;
  for (char byte : text) count += is_utf8_continuation(static_cast<unsigned char>(byte)) ? 0 : 1;
  return count;
}

std::string python_strip(std::string_view text) {
  size_t begin = 0;
  while (begin < text.size()) {
    const Utf8Char c = decode_utf8_at(text, begin);
    if (!python_isspace(c.code_point)) break;
    begin += c.length;
  }
  size_t end = text.size();
  while (end > begin) {
    const std::string_view head = text.substr(begin, end - begin);
    if (!python_isspace(last_code_point(head))) break;
    size_t start = end - 1;
    while (start > begin && is_utf8_continuation(static_cast<unsigned char>(text[start]))) --start;
    end = start;
  }
  return std::string(text.substr(begin, end - begin));
}

std::string python_lower(std::string_view text) {
  const std::vector<CodePoint> code_points = decode(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < code_points.size(); ++i) {
    const char32_t c = code_points[i].value;
    if (!code_points[i].valid) {
      out += code_points[i].bytes;  // not UTF-8: kept byte for byte
    } else if (c == 0x130) {        // İ -> i + combining dot above (Python's full mapping)
      append_utf8(out, 'i');
      append_utf8(out, 0x307);
    } else if (c == kCapitalSigma) {
      append_utf8(out, is_final_sigma(code_points, i) ? kFinalSigma : kSmallSigma);
    } else {
      append_utf8(out, simple_lower(c));
    }
  }
  return out;
}

std::vector<std::string> python_split(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i < text.size();) {
    const Utf8Char c = decode_utf8_at(text, i);
    const size_t length = c.length;
    if (python_isspace(c.code_point)) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word.append(text.substr(i, length));
    }
    i += length;
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(text);
  std::string out;
  size_t pos = 0;
  for (size_t hit = text.find(from); hit != std::string_view::npos; hit = text.find(from, pos)) {
    out.append(text.substr(pos, hit - pos)).append(to);
    pos = hit + from.size();
  }
  return out.append(text.substr(pos));
}

}  // namespace gemma
