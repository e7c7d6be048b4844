#pragma once
// pass@k for code generation (HF evaluate metrics/code_eval (pass@k)): the unbiased estimator of Chen et al.
// 2021 as Hugging Face `evaluate`'s code_eval computes it (used by lm-eval's humaneval and mbpp
// utils): for one problem with n samples of which c pass, 1 - C(n-c, k) / C(n, k), evaluated as
// 1 - prod_{i=n-c+1..n} (1 - k/i) for numerical stability, and 1.0 when n - c < k. The task score is
// the mean over problems. Greedy decoding has n = 1, so pass@1 is the fraction of programs passing.
// Torch-free.
#include <cstddef>
#include <vector>

namespace gemma::scorers {

// Throws gemma::Error unless 1 <= k <= n and c <= n (code_eval only reports pass@k when every
// problem has at least k samples).
double pass_at_k(size_t samples, size_t passed, size_t k);

struct PassCounts {
  size_t samples = 0;
  size_t passed = 0;
};
// Mean of pass_at_k over problems; throws on an empty list.
double mean_pass_at_k(const std::vector<PassCounts>& problems, size_t k);

}  // namespace gemma::scorers
