#pragma once
// `gemma-eval score`: score another system's predictions against references with the same metric
// code gemma-eval uses for its own runs. Predictions: {"id", "prediction"} per line; references:
// {"id", "references": [...]} per line; ids pair them up. Torch-free.
#include <filesystem>
#include <string>
#include <vector>

namespace gemma::evals {

struct OfflineScore {
  std::string metric;
  double score = 0.0;
  size_t n = 0;
};

// Metric names this build knows, for --help and error messages.
std::vector<std::string> offline_metric_names();

// Errors (gemma::Error) name the file and line: bad JSON, a missing or ill-typed field, a duplicate
// id, a prediction without a reference or a reference without a prediction, an unknown metric.
OfflineScore score_files(const std::string& metric, const std::filesystem::path& predictions,
                         const std::filesystem::path& references);

}  // namespace gemma::evals
