#pragma once
// lm-eval's bootstrap standard error (api/metrics.py::bootstrap_stderr)
// for corpus-level metrics (chrF, BLEU, TER): chunks of min(1000, iters) resamples; chunk i draws each
// resample with random.Random(i).choices(items, k=len(items)); the stderr is the sample standard
// deviation of all iters // chunk * chunk replicate scores. Torch-free.
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

namespace gemma::evals {

// `corpus_score(indices)` scores the corpus made of the items at `indices` (repeats allowed). None when
// there are fewer than 2 items or iters < 1 (lm-eval prints "N/A").
std::optional<double> bootstrap_stderr(size_t items, int iters,
                                       const std::function<double(const std::vector<size_t>& indices)>& corpus_score);

}  // namespace gemma::evals
