#include "scorers/squad.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "common/python_text.h"
#include "common/utf8.h"

namespace gemma::scorers {
namespace {

constexpr std::string_view kAsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";  // string.punctuation

// Python's \w for str patterns: str.isalnum() or "_". Exact for ASCII; beyond ASCII an
// approximation: every code point is a word character except whitespace, combining diacritics and
// the common punctuation/symbol blocks (Latin-1, General Punctuation, arrows/maths/box symbols, CJK
// and full-width punctuation, Arabic/Devanagari/Thai punctuation). Only matters where an ASCII
// "a"/"an"/"the" touches such a character with no space between.
bool is_word_character(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (python_isspace(c)) return false;
  if (c >= 0x80 && c <= 0xBF)  // Latin-1 symbols; ª ² ³ µ ¹ º ¼ ½ ¾ are alphanumeric in Python
    return c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA || (c >= 0xBC && c <= 0xBE);
  if (c == 0xD7 || c == 0xF7) return false;
  if (c >= 0x300 && c <= 0x36F) return false;    // combining diacritical marks (category Mn)
  if (c >= 0x2000 && c <= 0x206F) return false;  // general punctuation
  if (c >= 0x2190 && c <= 0x2BFF) return false;  // arrows, maths operators, technical, box drawing
  if ((c >= 0x3000 && c <= 0x3004) || (c >= 0x3008 && c <= 0x3020)) return false;  // CJK punctuation
  if ((c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
      (c >= 0xFF5B && c <= 0xFF65))
    return false;  // full-width punctuation
  if (c == 0x60C || c == 0x61B || c == 0x61F || (c >= 0x66A && c <= 0x66D) || c == 0x6D4) return false;
  if (c == 0x964 || c == 0x965 || c == 0xE3F || c == 0xE4F || c == 0xE5A || c == 0xE5B) return false;
  return true;
}

bool word_character_before(std::string_view text, size_t pos) {
  if (pos == 0) return false;
  size_t start = pos - 1;
  while (start > 0 && is_utf8_continuation(static_cast<unsigned char>(text[start]))) --start;
  return is_word_character(decode_utf8_at(text, start).code_point);
}

bool word_character_at(std::string_view text, size_t pos) {
  return pos < text.size() && is_word_character(decode_utf8_at(text, pos).code_point);
}

// Counter(tokens) as a map.
std::map<std::string, int> token_counts(const std::vector<std::string>& tokens) {
  std::map<std::string, int> counts;
  for (const std::string& token : tokens) ++counts[token];
  return counts;
}

}  // namespace

std::string remove_ascii_punctuation(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text)
    if (kAsciiPunctuation.find(c) == std::string_view::npos) out += c;
  return out;
}

std::string remove_english_articles(std::string_view text) {
  // The alternation tries "a" before "an", but "\b" after "a" fails inside "an", so the regex matches
  // exactly the whole words a/an/the, left to right, without overlaps.
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t matched = 0;
    if (!word_character_before(text, pos)) {
      for (std::string_view article : {"a", "an", "the"}) {
        if (text.substr(pos, article.size()) == article && !word_character_at(text, pos + article.size())) {
          matched = article.size();
          break;
        }
      }
    }
    if (matched > 0) {
      out += ' ';
      pos += matched;
    } else {
      out += text[pos++];
    }
  }
  return out;
}

std::string squad_normalize_answer(std::string_view text) {
  const std::string cleaned = remove_english_articles(remove_ascii_punctuation(python_lower(text)));
  std::string joined;
  for (const std::string& word : python_split(cleaned)) joined += (joined.empty() ? "" : " ") + word;
  return joined;
}

double squad_exact(std::string_view gold, std::string_view prediction) {
  return squad_normalize_answer(gold) == squad_normalize_answer(prediction) ? 1.0 : 0.0;
}

double squad_f1(std::string_view gold, std::string_view prediction) {
  const std::vector<std::string> gold_tokens = python_split(squad_normalize_answer(gold));
  const std::vector<std::string> prediction_tokens = python_split(squad_normalize_answer(prediction));
  if (gold_tokens.empty() || prediction_tokens.empty()) return gold_tokens == prediction_tokens ? 1.0 : 0.0;
  const auto gold_counts = token_counts(gold_tokens);
  int common = 0;
  for (const auto& [token, count] : token_counts(prediction_tokens)) {
    const auto it = gold_counts.find(token);
    if (it != gold_counts.end()) common += std::min(count, it->second);
  }
  if (common == 0) return 0.0;
  const double precision = static_cast<double>(common) / static_cast<double>(prediction_tokens.size());
  const double recall = static_cast<double>(common) / static_cast<double>(gold_tokens.size());
  return 2.0 * precision * recall / (precision + recall);
}

double squad_exact_first_reference(const std::string& prediction, const std::vector<std::string>& references) {
  return references.empty() ? 0.0 : squad_exact(references.front(), prediction);
}

double squad_f1_first_reference(const std::string& prediction, const std::vector<std::string>& references) {
  return references.empty() ? 0.0 : squad_f1(references.front(), prediction);
}

double squad_exact_max_over_references(const std::string& prediction, const std::vector<std::string>& references) {
  double best = 0.0;
  for (const std::string& reference : references) best = std::max(best, squad_exact(reference, prediction));
  return best;
}

double squad_f1_max_over_references(const std::string& prediction, const std::vector<std::string>& references) {
  double best = 0.0;
  for (const std::string& reference : references) best = std::max(best, squad_f1(reference, prediction));
  return best;
}

}  // namespace gemma::scorers
