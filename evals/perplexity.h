#pragma once
// The torch-free pieces of lm-eval's perplexity requests: the rolling windows a `loglikelihood_rolling`
// request is scored in (lm-eval lm_eval/utils.py::get_rolling_token_windows and make_disjoint_window),
// the word and byte counts its metrics divide by (lm-eval lm_eval/api/task.py::count_words, count_bytes),
// and the aggregations (lm-eval lm_eval/api/metrics.py: perplexity, weighted_perplexity, bits_per_byte).
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "evals/task.h"

namespace gemma::evals {

// One window in lm-eval's disjoint form: the model reads context + continuation[:-1] and each
// continuation token is scored once, given everything before it in the window.
struct TokenWindow {
  std::vector<int> context;
  std::vector<int> continuation;
};

// get_rolling_token_windows(token_list=tokens, prefix_token, max_seq_len, context_len) passed through
// make_disjoint_window: the first window predicts the first min(max_seq_len, n) tokens after
// `prefix_token`; each later one predicts the next max_seq_len - context_len + 1 tokens (fewer at the
// end) after as much earlier text as fills max_seq_len inputs. Every token is predicted exactly once;
// no tokens, no windows. Requires 1 <= context_len <= max_seq_len (gemma::Error otherwise).
std::vector<TokenWindow> rolling_token_windows(const std::vector<int>& tokens, int prefix_token, int max_seq_len,
                                               int context_len = 1);

// lm-eval's count_words: len(re.split(r"\s+", text)) with Python's Unicode whitespace, so leading or
// trailing whitespace counts an empty word ("" is 1 word, " a b " is 4).
size_t count_words(std::string_view text);
// lm-eval's count_bytes: len(text.encode("utf-8")).
inline size_t count_bytes(std::string_view text) { return text.size(); }

// perplexity: exp(-mean(loglikelihoods)); the per-item values are log-likelihoods.
double perplexity(const std::vector<double>& loglikelihoods);
// weighted_perplexity over (loglikelihood, count) pairs: exp(-Σll / Σcount).
double weighted_perplexity(const std::vector<std::pair<double, double>>& items);
// bits_per_byte over (loglikelihood, bytes) pairs: -Σll / Σbytes / ln 2.
double bits_per_byte(const std::vector<std::pair<double, double>>& items);

// lm-eval's bootstrap resamples for the perplexity stderr (simple_evaluate's bootstrap_iters default).
inline constexpr int kPerplexityBootstrapIters = 100000;

// The metrics of the two log-likelihood output types, by the names lm-eval's metric_list uses:
// "perplexity" and "acc" (output_type loglikelihood: exp(-mean ll), the share of greedy targets),
// "word_perplexity", "byte_perplexity", "bits_per_byte" (loglikelihood_rolling). Lower is better for all
// but acc. Another name is a gemma::Error listing these.
MetricSpec loglikelihood_metric(const std::string& name);

// The count a rolling metric divides by for a text: words for word_perplexity, UTF-8 bytes for
// byte_perplexity and bits_per_byte (lm-eval api/task.py::process_results).
double rolling_metric_count(const std::string& metric, std::string_view text);

}  // namespace gemma::evals
