#pragma once
// lm-eval's aggregation and standard errors (api/metrics.py), with
// Python's left-to-right float summation so results match to the last bit. Torch-free.
#include <cstddef>
#include <optional>
#include <vector>

namespace gemma::scorers {

// mean(arr) = sum(arr) / len(arr); values must not be empty.
double mean(const std::vector<double>& values);
// sample_stddev: sqrt(Σ(x-mean)² / (n-1)) (Bessel); needs n >= 2.
double sample_stddev(const std::vector<double>& values);
// mean_stderr = sample_stddev / sqrt(n); none (lm-eval's "N/A") when n <= 1.
std::optional<double> mean_stderr(const std::vector<double>& values);

// aggregate_subtask_metrics with weight_by_size: Σ(metric_i·size_i) / Σsize_i.
double weighted_mean(const std::vector<double>& metrics, const std::vector<size_t>& sizes);
// pooled_sample_stderr: sqrt( Σ((n_i-1)·se_i²·n_i) / (Σn_i - k) / Σn_i ); none when Σn_i <= k
// (every subtask has one doc: no degrees of freedom).
std::optional<double> pooled_sample_stderr(const std::vector<double>& stderrs, const std::vector<size_t>& sizes);

}  // namespace gemma::scorers
