#include "scorers/multiple_choice.h"

#include <algorithm>

#include <cmath>

#include "common/error.h"
#include "common/python_text.h"

namespace gemma::scorers {
namespace {

// Element-wise ll / length, as numpy divides: length 0 gives ±inf (or NaN for 0/0), not an error.
std::vector<double> divide(const std::vector<double>& loglikelihoods, const std::vector<double>& lengths) {
  std::vector<double> quotients(loglikelihoods.size());
  for (size_t i = 0; i < loglikelihoods.size(); ++i) quotients[i] = loglikelihoods[i] / lengths[i];
  return quotients;
}

}  // namespace

size_t argmax_first(const std::vector<double>& values) {
  if (values.empty()) fail("argmax of an empty list (a multiple-choice doc with no choices)");
  size_t best = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) return i;
    if (values[i] > values[best]) best = i;
  }
  return best;
}

MultipleChoiceScores score_multiple_choice(const std::vector<double>& loglikelihoods,
                                           const std::vector<bool>& is_greedy, const std::vector<std::string>& choices,
                                           long gold) {
  return score_multiple_choice(loglikelihoods, is_greedy, choices, std::vector<long>{gold});
}

MultipleChoiceScores score_multiple_choice(const std::vector<double>& loglikelihoods,
                                           const std::vector<bool>& is_greedy, const std::vector<std::string>& choices,
                                           const std::vector<long>& golds) {
  if (loglikelihoods.size() != choices.size() || is_greedy.size() != choices.size())
    fail("multiple choice: {} loglikelihoods and {} greedy flags for {} choices", loglikelihoods.size(),
         is_greedy.size(), choices.size());
  std::vector<double> characters, bytes;
  for (const std::string& choice : choices) {
    characters.push_back(static_cast<double>(code_point_length(choice)));
    bytes.push_back(static_cast<double>(choice.size()));
  }
  MultipleChoiceScores scores;
  scores.prediction = argmax_first(loglikelihoods);
  scores.prediction_norm = argmax_first(divide(loglikelihoods, characters));
  scores.prediction_bytes = argmax_first(divide(loglikelihoods, bytes));
  auto is_gold = [&](size_t index) {
    return std::find(golds.begin(), golds.end(), static_cast<long>(index)) != golds.end();
  };
  for (long gold : golds)
    if (gold < 0 || static_cast<size_t>(gold) >= choices.size()) return scores;  // lm-eval's -100: all 0
  if (golds.empty()) return scores;
  scores.acc = is_gold(scores.prediction) ? 1.0 : 0.0;
  scores.acc_norm = is_gold(scores.prediction_norm) ? 1.0 : 0.0;
  scores.acc_bytes = is_gold(scores.prediction_bytes) ? 1.0 : 0.0;
  scores.exact_match = is_greedy[static_cast<size_t>(golds.front())] ? 1.0 : 0.0;
  return scores;
}

}  // namespace gemma::scorers
