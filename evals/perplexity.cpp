#include "evals/perplexity.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/python_text.h"
#include "common/utf8.h"
#include "scorers/stderr.h"

namespace gemma::evals {
namespace {

std::vector<int> slice(const std::vector<int>& tokens, size_t begin, size_t end) {
  return std::vector<int>(tokens.begin() + static_cast<std::ptrdiff_t>(begin),
                          tokens.begin() + static_cast<std::ptrdiff_t>(end));
}

// make_disjoint_window: the input keeps only what precedes the predicted tokens, a[:len(a) - (len(b) - 1)].
TokenWindow disjoint(std::vector<int> input, std::vector<int> predicted) {
  input.resize(input.size() - (predicted.size() - 1));
  return {std::move(input), std::move(predicted)};
}

// Python's sum(a) / sum(b) over pairs, summed left to right (lm-eval metrics.py::weighted_mean).
double weighted_mean(const std::vector<std::pair<double, double>>& items) {
  if (items.empty()) fail("a weighted aggregation needs at least one item");
  double total = 0.0, weight = 0.0;
  for (const auto& [value, count] : items) total += value, weight += count;
  return total / weight;
}

}  // namespace

std::vector<TokenWindow> rolling_token_windows(const std::vector<int>& tokens, int prefix_token, int max_seq_len,
                                               int context_len) {
  if (context_len < 1 || context_len > max_seq_len)
    fail("rolling windows need 1 <= context_len <= max_seq_len (got context_len {}, max_seq_len {})", context_len,
         max_seq_len);
  std::vector<TokenWindow> windows;
  if (tokens.empty()) return windows;
  const size_t n = tokens.size(), max_len = static_cast<size_t>(max_seq_len);
  const size_t pred_len = max_len - static_cast<size_t>(context_len) + 1;  // +1: inputs -> predictions

  // The first window predicts every token it holds, after the prefix token.
  const size_t first = std::min(max_len, n);
  std::vector<int> input{prefix_token};
  input.insert(input.end(), tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(first - 1));
  windows.push_back(disjoint(std::move(input), slice(tokens, 0, first)));
  size_t predicted = first;

  while (predicted < n) {
    const size_t window_pred_len = std::min(n - predicted, pred_len);
    const size_t window_end = predicted + window_pred_len;
    // token_list[window_end - max_seq_len - 1 : window_end - 1]: here predicted >= max_seq_len, so the
    // start is never negative.
    windows.push_back(disjoint(slice(tokens, window_end - max_len - 1, window_end - 1),
                               slice(tokens, window_end - window_pred_len, window_end)));
    predicted += window_pred_len;
  }
  return windows;
}

size_t count_words(std::string_view text) {
  size_t words = 1;  // re.split gives one more piece than it finds separators
  bool in_space = false;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8_at(text, pos);
    const bool space = c.valid && python_isspace(c.code_point);
    if (space && !in_space) ++words;
    in_space = space;
    pos += c.length;
  }
  return words;
}

double perplexity(const std::vector<double>& loglikelihoods) { return std::exp(-scorers::mean(loglikelihoods)); }

double weighted_perplexity(const std::vector<std::pair<double, double>>& items) {
  return std::exp(-weighted_mean(items));
}

double bits_per_byte(const std::vector<std::pair<double, double>>& items) {
  return -weighted_mean(items) / std::log(2.0);
}

MetricSpec loglikelihood_metric(const std::string& name) {
  MetricSpec metric;
  metric.name = name;
  metric.higher_is_better = false;
  if (name == "perplexity") {
    metric.aggregation = MetricAggregation::Perplexity;
    metric.bootstrap_iters = kPerplexityBootstrapIters;
  } else if (name == "acc") {
    metric.higher_is_better = true;  // mean of is_greedy
  } else if (name == "word_perplexity" || name == "byte_perplexity") {
    metric.aggregation = MetricAggregation::WeightedPerplexity;
  } else if (name == "bits_per_byte") {
    metric.aggregation = MetricAggregation::BitsPerByte;
  } else {
    fail(
        "metric \"{}\" is not a log-likelihood metric (output_type loglikelihood: perplexity, acc; "
        "loglikelihood_rolling: word_perplexity, byte_perplexity, bits_per_byte)",
        name);
  }
  return metric;
}

double rolling_metric_count(const std::string& metric, std::string_view text) {
  if (metric == "word_perplexity") return static_cast<double>(count_words(text));
  if (metric == "byte_perplexity" || metric == "bits_per_byte") return static_cast<double>(count_bytes(text));
  fail("metric \"{}\" is not a loglikelihood_rolling metric (word_perplexity, byte_perplexity, bits_per_byte)", metric);
}

}  // namespace gemma::evals
