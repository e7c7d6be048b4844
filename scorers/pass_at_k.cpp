#include "scorers/pass_at_k.h"

#include "common/error.h"

namespace gemma::scorers {

double pass_at_k(size_t samples, size_t passed, size_t k) {
  if (k == 0 || k > samples) fail("pass@{}: needs 1 <= k <= the number of samples ({})", k, samples);
  if (passed > samples) fail("pass@{}: {} passing out of {} samples", k, passed, samples);
  // HF code_eval estimate_pass_at_k: if n - c < k: 1.0; else 1 - prod(1 - k / arange(n - c + 1, n + 1)).
  if (samples - passed < k) return 1.0;
  double all_fail = 1.0;
  for (size_t i = samples - passed + 1; i <= samples; ++i)
    all_fail *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  return 1.0 - all_fail;
}

double mean_pass_at_k(const std::vector<PassCounts>& problems, size_t k) {
  if (problems.empty()) fail("pass@{}: no problems to average", k);
  double sum = 0.0;
  for (const PassCounts& problem : problems) sum += pass_at_k(problem.samples, problem.passed, k);
  return sum / static_cast<double>(problems.size());
}

}  // namespace gemma::scorers
