#include "scorers/choice_answer.h"

#include <array>
#include <cctype>
#include <string_view>
#include <tuple>

#include "common/python_text.h"
#include "scorers/single_reference.h"

namespace gemma::scorers {
namespace {

// Python's str.strip(c) for one character: every leading and trailing c removed.
std::string strip_char(std::string text, char c) {
  const size_t begin = text.find_first_not_of(c);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(c) - begin + 1);
}

bool is_alpha_byte(char c) {  // str.isalpha() for one code point; non-ASCII counted as a letter
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

}  // namespace

std::string ai2d_extract(const std::string& response) {
  size_t i = 0;
  while (i < response.size() && (response[i] == ' ' || (response[i] >= '\t' && response[i] <= '\r'))) ++i;
  if (i + 1 < response.size() && response[i] >= 'A' && response[i] <= 'Z' && response[i + 1] == '.')
    return response.substr(i, 1);
  return response;
}

double ai2d_exact_match(const ExactMatch& exact_match, const std::string& prediction,
                        const std::vector<std::string>& references) {
  return exact_match.score(ai2d_extract(prediction), references);
}

std::string extract_mcq_answer(const std::string& response) {
  std::string text = python_strip(response);
  if (text.empty()) return "";
  for (char c : {',', '.', '!', '?', ';', ':', '\'', '"'}) text = strip_char(text, c);
  text = " " + text + " ";
  const std::string lower = python_lower(text);  // ASCII positions line up with `text`
  struct Candidate {
    char letter;
    size_t position;
    int priority;
  };
  std::vector<Candidate> candidates;
  const std::string letters = "ABCDEFGH";
  const std::array<std::pair<std::string, int>, 5> formats = {{{"(X)", 6}, {"X.", 5}, {"X:", 4}, {"X)", 3}, {"X ", 2}}};
  for (const auto& [format, priority] : formats)
    for (char letter : letters) {
      std::string needle = format;
      needle[needle.find('X')] = letter;
      const size_t at = text.rfind(needle);
      if (at != std::string::npos) candidates.push_back({letter, at, priority});
    }
  static const char* const kPhrases[] = {"the answer is",
                                         "answer is",
                                         "the correct answer is",
                                         "correct answer is",
                                         "the best answer is",
                                         "best answer is",
                                         "the correct option is",
                                         "correct option is",
                                         "the best option is",
                                         "best option is",
                                         "the choice is",
                                         "choice is",
                                         "the correct choice is",
                                         "correct choice is",
                                         "i choose",
                                         "i select",
                                         "i pick",
                                         "my answer is",
                                         "my choice is",
                                         "옵션",
                                         "정답은",
                                         "답은",
                                         "답:",
                                         "答案是",
                                         "答案为",
                                         "选",
                                         "答えは"};
  for (const char* phrase : kPhrases) {
    const size_t at = lower.find(phrase);
    if (at == std::string::npos) continue;
    for (char letter : letters) {
      const size_t found = text.find(letter, at + std::string_view(phrase).size());
      if (found != std::string::npos) candidates.push_back({letter, found, 7});
    }
  }
  const std::string stripped = python_strip(text);
  for (char letter : letters) {
    if (!stripped.empty() && stripped.front() == letter && (stripped.size() == 1 || !is_alpha_byte(stripped[1])))
      candidates.push_back({letter, 0, 10});
    if (!stripped.empty() && stripped.back() == letter &&
        (stripped.size() == 1 || !is_alpha_byte(stripped[stripped.size() - 2])))
      candidates.push_back({letter, text.size() - 1, 9});
  }
  if (candidates.empty())
    for (char letter : letters) {
      const size_t at = text.rfind(letter);
      if (at != std::string::npos) candidates.push_back({letter, at, 0});
    }
  if (candidates.empty()) return "";
  // sorted(key=(priority, position), reverse=True)[0]: the first of the maximal keys.
  const Candidate* best = &candidates.front();
  for (const Candidate& c : candidates)
    if (std::tie(c.priority, c.position) > std::tie(best->priority, best->position)) best = &c;
  return std::string(1, best->letter);
}

double realworldqa_accuracy(const std::string& prediction, const std::vector<std::string>& refs) {
  const std::string& gold = single_reference(refs, "realworldqa accuracy");
  if (gold == "A" || gold == "B" || gold == "C" || gold == "D")
    return extract_mcq_answer(prediction) == gold ? 1.0 : 0.0;
  std::string pred = python_strip(python_lower(prediction));
  while (!pred.empty() && pred.back() == '.') pred.pop_back();
  return pred == python_strip(python_lower(gold)) ? 1.0 : 0.0;
}

double blink_accuracy(const std::string& prediction, const std::vector<std::string>& references) {
  return prediction.size() == 1 && std::toupper(static_cast<unsigned char>(prediction[0])) ==
                                       single_reference(references, "blink accuracy")[0]
             ? 1.0
             : 0.0;
}

}  // namespace gemma::scorers
