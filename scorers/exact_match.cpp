#include "scorers/exact_match.h"

#include <re2/re2.h>

#include "common/error.h"
#include "common/python_text.h"

namespace gemma::scorers {
namespace {

// Python's string.punctuation: ASCII only.
constexpr std::string_view kPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

std::string remove_chars(std::string_view text, bool (*drop)(char)) {
  std::string kept;
  kept.reserve(text.size());
  for (char c : text)
    if (!drop(c)) kept += c;
  return kept;
}

bool is_punctuation(char c) { return kPunctuation.find(c) != std::string_view::npos; }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

ExactMatch::ExactMatch(const ExactMatchOptions& options) : options_(options) {
  RE2::Options re2_options;
  re2_options.set_log_errors(false);
  for (const std::string& pattern : options.regexes_to_ignore) {
    auto regex = std::make_unique<re2::RE2>(pattern, re2_options);
    if (!regex->ok())
      fail("exact_match: regexes_to_ignore entry {} does not compile with RE2: {}", pattern, regex->error());
    ignore_.push_back(std::move(regex));
  }
}

ExactMatch::~ExactMatch() = default;
ExactMatch::ExactMatch(ExactMatch&&) noexcept = default;
ExactMatch& ExactMatch::operator=(ExactMatch&&) noexcept = default;

std::string ExactMatch::normalize(std::string_view text) const {
  std::string normalized(text);
  // re.sub(pattern, "", x) for each pattern in order. RE2 differs from Python only for patterns that
  // can match the empty string right after another match, which none of the tasks' patterns can.
  for (const auto& regex : ignore_) RE2::GlobalReplace(&normalized, *regex, "");
  if (options_.ignore_case) normalized = python_lower(normalized);
  if (options_.ignore_punctuation) normalized = remove_chars(normalized, is_punctuation);
  if (options_.ignore_numbers) normalized = remove_chars(normalized, is_ascii_digit);
  return normalized;
}

double ExactMatch::score(std::string_view prediction, const std::vector<std::string>& references) const {
  const std::string normalized_prediction = normalize(prediction);
  for (const std::string& reference : references)
    if (normalize(reference) == normalized_prediction) return 1.0;
  return 0.0;
}

double exact_match(std::string_view prediction, const std::vector<std::string>& references,
                   const ExactMatchOptions& options) {
  return ExactMatch(options).score(prediction, references);
}

}  // namespace gemma::scorers
