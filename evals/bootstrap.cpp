#include "evals/bootstrap.h"

#include <algorithm>

#include "common/python_random.h"
#include "scorers/stderr.h"

namespace gemma::evals {

std::optional<double> bootstrap_stderr(size_t items, int iters,
                                       const std::function<double(const std::vector<size_t>& indices)>& corpus_score) {
  if (items < 2 || iters < 1) return std::nullopt;
  const int chunk = std::min(1000, iters);
  std::vector<double> replicates;
  std::vector<size_t> indices(items);
  for (int i = 0; i < iters / chunk; ++i) {
    PythonRandom random(static_cast<uint64_t>(i));
    for (int r = 0; r < chunk; ++r) {
      const std::vector<uint64_t> drawn = random.choices(items, items);
      std::copy(drawn.begin(), drawn.end(), indices.begin());
      replicates.push_back(corpus_score(indices));
    }
  }
  if (replicates.size() < 2) return std::nullopt;
  return scorers::sample_stddev(replicates);
}

}  // namespace gemma::evals
