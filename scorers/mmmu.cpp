#include "scorers/mmmu.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "common/python_text.h"
#include "scorers/relaxed_accuracy.h"

namespace gemma::scorers::mmmu {
namespace {

// ---- multiple choice: parse_multi_choice_response ----

std::string strip_char(std::string text, char c) {
  const size_t begin = text.find_first_not_of(c);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(c) - begin + 1);
}

size_t python_word_count(std::string_view text) {  // len(text.split())
  size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || (c >= '\t' && c <= '\r');
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

// The letter the response picks, or "" when nothing matches (lmms-eval's older parser then draws a
// random letter; here such a response counts as wrong, as in lmms-eval's current mmmu_mcq_utils).
std::string parse_multi_choice(std::string response, const std::vector<std::string>& options) {
  for (char c : {',', '.', '!', '?', ';', ':', '\''}) response = strip_char(response, c);
  response = " " + response + " ";
  std::vector<std::string> candidates;
  bool index_answer = true, with_brackets = false;
  auto letters = [&] {
    std::vector<std::string> all;
    for (size_t i = 0; i < options.size(); ++i) all.push_back(std::string(1, static_cast<char>('A' + i)));
    return all;
  }();
  for (const std::string& c : letters)
    if (response.find("(" + c + ")") != std::string::npos) candidates.push_back(c), with_brackets = true;
  if (candidates.empty())
    for (const std::string& c : letters)
      if (response.find(c + " ") != std::string::npos) candidates.push_back(c);
  if (candidates.empty())
    for (const std::string& c : letters)
      if (response.find(c + ".") != std::string::npos) candidates.push_back(c);
  const std::string lower = python_lower(response);
  if (candidates.empty() && python_word_count(response) > 5)
    for (size_t i = 0; i < options.size(); ++i)
      if (lower.find(python_lower(options[i])) != std::string::npos)
        candidates.push_back(letters[i]), index_answer = false;
  if (candidates.empty()) return "";
  if (candidates.size() == 1) return candidates.front();
  // The candidate whose mark occurs last (np.argmax: the first of equal positions).
  long best_position = -2;
  std::string best;
  for (const std::string& c : candidates) {
    size_t found;
    if (!index_answer)
      found = lower.rfind(python_lower(options[static_cast<size_t>(c[0] - 'A')]));
    else
      found = response.rfind(with_brackets ? "(" + c + ")" : " " + c + " ");
    const long position = found == std::string::npos ? -1 : static_cast<long>(found);
    if (position > best_position) best_position = position, best = c;
  }
  return best;
}

// ---- open questions: parse_open_response / normalize_str / eval_open ----

struct Normalized {  // normalize_str's items: a float (rounded to 2 places) or a lower-cased string
  bool is_number = false;
  double number = 0;
  std::string text;
};

double python_round2(double value) {  // round(value, 2): correctly rounded, ties to even
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return std::strtod(buffer, nullptr);
}

std::vector<Normalized> normalize_str(std::string_view raw) {
  const std::string text = python_strip(raw);
  std::string no_commas;
  for (char c : text)
    if (c != ',') no_commas += c;
  if (const auto number = python_float(no_commas)) return {{true, python_round2(*number), {}}};
  const std::string lower = python_lower(text);
  if (code_point_length(lower) == 1) return {{false, 0, " " + lower}, {false, 0, lower + " "}};
  return {{false, 0, lower}};
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) {  // \w, with every non-ASCII byte counted as a word character
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || u >= 0x80;
}
size_t digits_end(std::string_view s, size_t i) {
  while (i < s.size() && is_digit(s[i])) ++i;
  return i;
}

// re.findall of a pattern whose match at position i (or npos) `match_at` computes, left to right,
// non-overlapping.
template <typename MatchAt>
std::vector<std::string> findall(std::string_view s, MatchAt match_at) {
  std::vector<std::string> found;
  for (size_t i = 0; i < s.size();) {
    const size_t end = match_at(i);
    if (end == std::string::npos || end == i) {
      ++i;
      continue;
    }
    found.emplace_back(s.substr(i, end - i));
    i = end;
  }
  return found;
}

// extract_numbers: the official MMMU patterns, matched by hand (RE2 has no lookahead):
//   commas      -?\b\d{1,3}(?:,\d{3})+\b
//   scientific  -?\d+(?:\.\d+)?[eE][+-]?\d+
//   simple      -?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])
std::vector<std::string> extract_numbers(std::string_view s) {
  auto boundary = [&](size_t p) {
    const bool before = p > 0 && is_word(s[p - 1]), after = p < s.size() && is_word(s[p]);
    return before != after;
  };
  auto commas = [&](size_t i) -> size_t {
    size_t j = i < s.size() && s[i] == '-' ? i + 1 : i;
    if (j >= s.size() || !is_digit(s[j]) || !boundary(j)) return std::string::npos;
    const size_t run = digits_end(s, j);
    if (run - j > 3) return std::string::npos;
    std::vector<size_t> ends;
    for (size_t k = run; k + 3 < s.size() + 0 && s[k] == ',' && digits_end(s, k + 1) >= k + 4; k += 4)
      ends.push_back(k + 4);
    for (auto it = ends.rbegin(); it != ends.rend(); ++it)
      if (boundary(*it)) return *it;
    return std::string::npos;
  };
  auto exponent_at = [&](size_t p) -> size_t {  // [eE][+-]?\d+ at p: its end, or npos
    if (p >= s.size() || (s[p] != 'e' && s[p] != 'E')) return std::string::npos;
    size_t q = p + 1;
    if (q < s.size() && (s[q] == '+' || s[q] == '-') && q + 1 < s.size() && is_digit(s[q + 1])) ++q;
    if (q >= s.size() || !is_digit(s[q])) return std::string::npos;
    return digits_end(s, q);
  };
  auto scientific = [&](size_t i) -> size_t {
    size_t j = i < s.size() && s[i] == '-' ? i + 1 : i;
    if (j >= s.size() || !is_digit(s[j])) return std::string::npos;
    const size_t run = digits_end(s, j);
    if (run + 1 < s.size() && s[run] == '.' && is_digit(s[run + 1])) {
      const size_t with_fraction = exponent_at(digits_end(s, run + 1));
      if (with_fraction != std::string::npos) return with_fraction;
    }
    return exponent_at(run);
  };
  auto lookahead_ok = [&](size_t p) {
    return exponent_at(p) == std::string::npos && !(p < s.size() && (s[p] == ',' || is_digit(s[p])));
  };
  auto simple = [&](size_t i) -> size_t {
    size_t j = i < s.size() && s[i] == '-' ? i + 1 : i;
    if (j >= s.size()) return std::string::npos;
    if (is_digit(s[j])) {
      const size_t run = digits_end(s, j);
      if (run + 1 < s.size() && s[run] == '.' && is_digit(s[run + 1])) {  // \d+\.\d+
        const size_t end = digits_end(s, run + 1);
        if (lookahead_ok(end)) return end;
      }
      if (boundary(run) && lookahead_ok(run)) return run;  // \d+\b
      return std::string::npos;
    }
    if (s[j] == '.' && j + 1 < s.size() && is_digit(s[j + 1])) {  // \.\d+
      const size_t end = digits_end(s, j + 1);
      if (lookahead_ok(end)) return end;
    }
    return std::string::npos;
  };
  std::vector<std::string> all = findall(s, commas);
  for (auto& n : findall(s, scientific)) all.push_back(std::move(n));
  for (auto& n : findall(s, simple)) all.push_back(std::move(n));
  return all;
}

std::vector<Normalized> parse_open_response(const std::string& response) {
  std::string text = strip_char(python_strip(response), '.');
  text = python_lower(text);
  // re.split(r"\.\s(?=[A-Z])|\n", ...) on lower-cased text: only the "\n" alternative can match.
  std::vector<std::string> pieces;
  for (size_t start = 0;;) {
    const size_t nl = text.find('\n', start);
    pieces.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  std::vector<std::string> indicators = {"could be ",  "so ",    "is ",     "thus ",
                                         "therefore ", "final ", "answer ", "result "};
  std::vector<std::string> keys;
  for (size_t p = 0; p < pieces.size(); ++p) {
    if (p + 1 == pieces.size()) indicators.push_back("=");
    std::string shortest;  // "" is falsy in the original: a later indicator then replaces it
    for (const std::string& indicator : indicators) {
      const size_t at = pieces[p].rfind(indicator);
      if (at == std::string::npos) continue;
      const std::string tail = python_strip(std::string_view(pieces[p]).substr(at + indicator.size()));
      if (shortest.empty() || code_point_length(tail) < code_point_length(shortest)) shortest = tail;
    }
    if (!shortest.empty() && shortest != ":" && shortest != "," && shortest != "." && shortest != "!" &&
        shortest != "?" && shortest != ";" && shortest != "'")
      keys.push_back(shortest);
  }
  if (keys.empty()) keys.push_back(text);
  std::vector<std::string> predictions = keys;
  for (const std::string& key : keys)
    for (auto& number : extract_numbers(key)) predictions.push_back(std::move(number));
  std::vector<Normalized> normalized;
  for (const std::string& prediction : predictions)
    for (Normalized& n : normalize_str(prediction)) normalized.push_back(std::move(n));
  return normalized;
}

bool eval_open(const std::string& gold, const std::vector<Normalized>& predictions) {
  const std::vector<Normalized> answers = normalize_str(gold);
  for (const Normalized& prediction : predictions)
    for (const Normalized& answer : answers) {
      if (!prediction.is_number && !answer.is_number && prediction.text.find(answer.text) != std::string::npos)
        return true;
      if (prediction.is_number && answer.is_number && prediction.number == answer.number) return true;
    }
  return false;
}

}  // namespace

std::string parse_multiple_choice_response(const std::string& response, const std::vector<std::string>& options) {
  return parse_multi_choice(response, options);
}

bool open_response_matches(const std::string& response, const std::string& answer) {
  return eval_open(answer, parse_open_response(response));
}

double mmmu_accuracy(const std::string& response, const std::string& answer, const std::vector<std::string>& options) {
  if (options.empty()) return open_response_matches(response, answer) ? 1.0 : 0.0;
  return parse_multiple_choice_response(response, options) == answer ? 1.0 : 0.0;
}

}  // namespace gemma::scorers::mmmu
