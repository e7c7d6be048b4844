#include "scorers/drop.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/python_text.h"
#include "scorers/squad.h"

namespace gemma::scorers::drop {
namespace {

// The F1 of the best one-to-one assignment of predicted to gold bags (scipy's
// linear_sum_assignment on -scores, then the per-gold scores averaged over max(#gold, #predicted)
// slots): only the optimum's total matters, found by a DP over subsets of the smaller side.
double best_assignment_total(const std::vector<std::vector<double>>& scores_gold_by_predicted) {
  const size_t golds = scores_gold_by_predicted.size();
  const size_t predicted = golds == 0 ? 0 : scores_gold_by_predicted.front().size();
  if (golds == 0 || predicted == 0) return 0.0;
  const bool golds_smaller = golds <= predicted;
  const size_t small = golds_smaller ? golds : predicted, large = golds_smaller ? predicted : golds;
  if (small > 20) fail("DROP F1: {} spans on both sides are too many to align", small);
  auto score = [&](size_t small_index, size_t large_index) {
    return golds_smaller ? scores_gold_by_predicted[small_index][large_index]
                         : scores_gold_by_predicted[large_index][small_index];
  };
  const double unreachable = -1.0;
  std::vector<double> best(size_t{1} << small, unreachable);  // best[mask]: small items in mask used
  best[0] = 0.0;
  for (size_t item = 0; item < large; ++item) {
    std::vector<double> next = best;  // the large item stays unassigned
    for (size_t mask = 0; mask < best.size(); ++mask) {
      if (best[mask] < 0.0) continue;
      for (size_t s = 0; s < small; ++s)
        if (!(mask & (size_t{1} << s)))
          next[mask | (size_t{1} << s)] = std::max(next[mask | (size_t{1} << s)], best[mask] + score(s, item));
    }
    best = std::move(next);
  }
  return *std::max_element(best.begin(), best.end());
}

// _match_numbers_if_present: a gold bag with numbers only matches a predicted bag sharing one.
bool numbers_match_if_present(const std::set<std::string>& gold, const std::set<std::string>& predicted) {
  bool gold_has_number = false;
  for (const std::string& word : gold) {
    if (!is_number(word)) continue;
    gold_has_number = true;
    if (predicted.count(word) > 0) return true;
  }
  return !gold_has_number;
}

// numpy's round(x, 2) on a float64: rint(x * 100) / 100, halves to even.
double numpy_round_2(double value) { return std::nearbyint(value * 100.0) / 100.0; }

}  // namespace

bool is_number(std::string_view text) { return python_float(text).has_value(); }

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buffer[64];
  // Shortest round-trip digits, as Python's repr (David Gay's mode 0) picks them.
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const std::string scientific(buffer, result.ptr);  // "-1.5e-05", "4e+00"
  const size_t e = scientific.find('e');
  std::string mantissa = scientific.substr(0, e);
  const int exponent = std::stoi(scientific.substr(e + 1));
  std::string sign;
  if (mantissa.front() == '-') {
    sign = "-";
    mantissa.erase(0, 1);
  }
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  if (exponent < -4 || exponent >= 16) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    const int magnitude = std::abs(exponent);
    return out + (exponent < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + std::to_string(magnitude);
  }
  if (exponent < 0) return sign + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  const size_t integer_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) return sign + digits + std::string(integer_digits - digits.size(), '0') + ".0";
  return sign + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

std::string normalize(std::string_view answer) {
  std::string normalized;
  size_t start = 0;
  while (start <= answer.size()) {  // re.split(" |-", answer): every space and hyphen separates
    size_t end = answer.find_first_of(" -", start);
    if (end == std::string_view::npos) end = answer.size();
    std::string token = python_lower(answer.substr(start, end - start));
    if (!is_number(token)) token = remove_ascii_punctuation(token);
    if (const auto number = python_float(token)) token = python_float_repr(*number);
    for (const std::string& word : python_split(remove_english_articles(token)))
      normalized += (normalized.empty() ? "" : " ") + word;  // white_space_fix, then " ".join(tokens)
    start = end + 1;
  }
  return normalized;
}

AnswerBags answer_to_bags(const std::vector<std::string>& spans) {
  AnswerBags bags;
  for (const std::string& span : spans) {
    bags.normalized_spans.push_back(normalize(span));
    const std::vector<std::string> words = python_split(bags.normalized_spans.back());
    bags.token_bags.emplace_back(words.begin(), words.end());
  }
  return bags;
}

double bag_f1(const std::set<std::string>& predicted, const std::set<std::string>& gold) {
  size_t intersection = 0;
  for (const std::string& word : predicted) intersection += gold.count(word);
  const double precision = predicted.empty() ? 1.0 : static_cast<double>(intersection) / predicted.size();
  const double recall = gold.empty() ? 1.0 : static_cast<double>(intersection) / gold.size();
  if (precision == 0.0 && recall == 0.0) return 0.0;
  return 2.0 * precision * recall / (precision + recall);
}

Scores get_metrics(const std::vector<std::string>& predicted_spans, const std::vector<std::string>& gold_spans) {
  const AnswerBags predicted = answer_to_bags(predicted_spans);
  const AnswerBags gold = answer_to_bags(gold_spans);
  Scores scores;
  const std::set<std::string> predicted_set(predicted.normalized_spans.begin(), predicted.normalized_spans.end());
  const std::set<std::string> gold_set(gold.normalized_spans.begin(), gold.normalized_spans.end());
  scores.exact_match =
      predicted_set == gold_set && predicted.normalized_spans.size() == gold.normalized_spans.size() ? 1.0 : 0.0;

  std::vector<std::vector<double>> f1_gold_by_predicted(gold.token_bags.size(),
                                                        std::vector<double>(predicted.token_bags.size(), 0.0));
  for (size_t g = 0; g < gold.token_bags.size(); ++g)
    for (size_t p = 0; p < predicted.token_bags.size(); ++p)
      if (numbers_match_if_present(gold.token_bags[g], predicted.token_bags[p]))
        f1_gold_by_predicted[g][p] = bag_f1(predicted.token_bags[p], gold.token_bags[g]);
  const size_t slots = std::max(gold.token_bags.size(), predicted.token_bags.size());
  if (slots > 0) scores.f1 = numpy_round_2(best_assignment_total(f1_gold_by_predicted) / static_cast<double>(slots));
  return scores;
}

Scores max_over_golds(const std::string& prediction, const std::vector<std::vector<std::string>>& golds) {
  Scores best;
  for (const std::vector<std::string>& gold : golds) {
    if (gold.empty() || python_strip(gold.front()).empty()) continue;  // if gold_answer[0].strip()
    const Scores scores = get_metrics({prediction}, gold);
    best.exact_match = std::max(best.exact_match, scores.exact_match);
    best.f1 = std::max(best.f1, scores.f1);
  }
  return best;
}

std::string encode_gold(const std::vector<std::string>& spans) {
  return nlohmann::json(spans).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> decode_gold(const std::string& reference) {
  const nlohmann::json parsed = nlohmann::json::parse(reference, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) fail("DROP reference is not a JSON array of answer spans: {}", reference);
  std::vector<std::string> spans;
  for (const nlohmann::json& span : parsed) {
    if (!span.is_string()) fail("DROP reference has a span that is not a string: {}", reference);
    spans.push_back(span.get<std::string>());
  }
  return spans;
}

namespace {
Scores score_references(const std::string& prediction, const std::vector<std::string>& references) {
  std::vector<std::vector<std::string>> golds;
  golds.reserve(references.size());
  for (const std::string& reference : references) golds.push_back(decode_gold(reference));
  return max_over_golds(prediction, golds);
}
}  // namespace

double drop_exact_match(const std::string& prediction, const std::vector<std::string>& references) {
  return score_references(prediction, references).exact_match;
}

double drop_f1(const std::string& prediction, const std::vector<std::string>& references) {
  return score_references(prediction, references).f1;
}

}  // namespace gemma::scorers::drop
