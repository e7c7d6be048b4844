#include "scorers/stderr.h"

#include <cmath>

#include "common/error.h"

namespace gemma::scorers {

double mean(const std::vector<double>& values) {
  if (values.empty()) fail("mean of an empty list of per-document scores");
  double sum = 0.0;
  for (double value : values) sum += value;
  return sum / static_cast<double>(values.size());
}

double sample_stddev(const std::vector<double>& values) {
  if (values.size() < 2) fail("sample standard deviation needs at least 2 values, got {}", values.size());
  const double mu = mean(values);
  double sum_squares = 0.0;
  for (double value : values) sum_squares += (value - mu) * (value - mu);
  return std::sqrt(sum_squares / static_cast<double>(values.size() - 1));
}

std::optional<double> mean_stderr(const std::vector<double>& values) {
  if (values.size() <= 1) return std::nullopt;
  return sample_stddev(values) / std::sqrt(static_cast<double>(values.size()));
}

double weighted_mean(const std::vector<double>& metrics, const std::vector<size_t>& sizes) {
  if (metrics.size() != sizes.size()) fail("weighted mean: {} metrics for {} sizes", metrics.size(), sizes.size());
  double weighted_sum = 0.0;
  size_t total = 0;
  for (size_t i = 0; i < metrics.size(); ++i) {
    weighted_sum += metrics[i] * static_cast<double>(sizes[i]);
    total += sizes[i];
  }
  if (total == 0) fail("weighted mean over subtasks with no documents");
  return weighted_sum / static_cast<double>(total);
}

std::optional<double> pooled_sample_stderr(const std::vector<double>& stderrs, const std::vector<size_t>& sizes) {
  if (stderrs.size() != sizes.size()) fail("pooled stderr: {} stderrs for {} sizes", stderrs.size(), sizes.size());
  double numerator = 0.0;
  size_t total = 0;
  for (size_t i = 0; i < stderrs.size(); ++i) {
    const auto size = static_cast<double>(sizes[i]);
    numerator += (size - 1) * (stderrs[i] * stderrs[i]) * size;  // Python: (size - 1) * stderr**2 * size
    total += sizes[i];
  }
  if (total <= stderrs.size()) return std::nullopt;
  const double pooled_variance = numerator / static_cast<double>(total - stderrs.size());
  return std::sqrt(pooled_variance / static_cast<double>(total));
}

}  // namespace gemma::scorers
