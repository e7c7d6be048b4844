#include "reports/significance.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/python_random.h"
#include "scorers/stderr.h"

namespace gemma::reports {

double mcnemar_exact_p(size_t base_only, size_t new_only) {
  const size_t n = base_only + new_only;
  if (n == 0) return 1.0;
  const size_t k = std::min(base_only, new_only);
  // log(C(n, i) / 2^n) for i = 0..k, summed with log-sum-exp: 2^-n underflows a double past n = 1074,
  // and a full-MMLU comparison can have thousands of discordant docs.
  const double dn = static_cast<double>(n);
  std::vector<double> log_terms;
  log_terms.reserve(k + 1);
  for (size_t i = 0; i <= k; ++i) {
    const double di = static_cast<double>(i);
    log_terms.push_back(std::lgamma(dn + 1) - std::lgamma(di + 1) - std::lgamma(dn - di + 1) - dn * std::log(2.0));
  }
  const double largest = *std::max_element(log_terms.begin(), log_terms.end());
  double sum = 0.0;
  for (double term : log_terms) sum += std::exp(term - largest);
  const double tail = std::exp(largest + std::log(sum));
  return std::min(1.0, 2.0 * tail);
}

double normal_two_sided_p(double z) { return std::erfc(std::fabs(z) / std::sqrt(2.0)); }

namespace {

std::vector<double> summed(const std::vector<std::vector<double>>& stats, const std::vector<uint64_t>* indices) {
  std::vector<double> total(stats.front().size(), 0.0);
  auto add = [&](size_t doc) {
    for (size_t j = 0; j < total.size(); ++j) total[j] += stats[doc][j];
  };
  if (indices) {
    for (uint64_t doc : *indices) add(doc);
  } else {
    for (size_t doc = 0; doc < stats.size(); ++doc) add(doc);
  }
  return total;
}

void check_shapes(const std::vector<std::vector<double>>& base, const std::vector<std::vector<double>>& candidate) {
  if (base.empty()) fail("paired bootstrap: no documents");
  if (base.size() != candidate.size())
    fail("paired bootstrap: {} base documents but {} new ones (runs must be paired doc by doc)", base.size(),
         candidate.size());
  const size_t width = base.front().size();
  if (width == 0) fail("paired bootstrap: documents have no sufficient statistics");
  for (size_t i = 0; i < base.size(); ++i)
    if (base[i].size() != width || candidate[i].size() != width)
      fail("paired bootstrap: document {} has {} and {} statistics, expected {}", i, base[i].size(),
           candidate[i].size(), width);
}

}  // namespace

PairedBootstrapResult paired_bootstrap(const std::vector<std::vector<double>>& base_stats,
                                       const std::vector<std::vector<double>>& new_stats, const CorpusScore& score,
                                       size_t resamples, uint64_t seed) {
  check_shapes(base_stats, new_stats);
  if (resamples == 0) fail("paired bootstrap: needs at least one resample");
  PairedBootstrapResult result;
  result.delta = score(summed(new_stats, nullptr)) - score(summed(base_stats, nullptr));

  PythonRandom rng(seed);
  std::vector<double> deltas, abs_deltas;
  deltas.reserve(resamples);
  abs_deltas.reserve(resamples);
  for (size_t r = 0; r < resamples; ++r) {
    const auto indices = rng.choices(base_stats.size(), base_stats.size());
    const double delta = score(summed(new_stats, &indices)) - score(summed(base_stats, &indices));
    deltas.push_back(delta);
    abs_deltas.push_back(std::fabs(delta));
  }
  // Shift the resampled |differences| to mean zero (the null hypothesis) and count how often they
  // still exceed the observed one; the +1s keep p above zero (sacrebleu's _compute_p_value).
  const double mean_abs = scorers::mean(abs_deltas);
  const double observed = std::fabs(result.delta);
  size_t exceed = 0;
  for (double d : abs_deltas)
    if (d - mean_abs > observed) ++exceed;
  // With no observed difference there is nothing to test; sacrebleu's formula would give 1/(R+1) for two
  // identical runs (every shifted statistic is 0, not > 0), which reads as "significant".
  result.p_value = observed == 0.0 ? 1.0 : static_cast<double>(exceed + 1) / static_cast<double>(resamples + 1);
  if (resamples >= 2) result.delta_stderr = scorers::sample_stddev(deltas);
  return result;
}

PairedBootstrapResult paired_bootstrap_mean(const std::vector<double>& base_values,
                                            const std::vector<double>& new_values, size_t resamples, uint64_t seed) {
  auto as_stats = [](const std::vector<double>& values) {
    std::vector<std::vector<double>> stats;
    stats.reserve(values.size());
    for (double v : values) stats.push_back({v, 1.0});
    return stats;
  };
  const CorpusScore mean = [](const std::vector<double>& s) { return s[0] / s[1]; };
  return paired_bootstrap(as_stats(base_values), as_stats(new_values), mean, resamples, seed);
}

}  // namespace gemma::reports
