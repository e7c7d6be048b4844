#pragma once
// Significance tests for comparing two runs of the same benchmark (sacrebleu sacrebleu/significance.py@f615c728).
// Pure functions, torch-free; reports/compare.cpp picks which one a metric row gets.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace gemma::reports {

// Exact McNemar test on paired binary outcomes: under "no difference" each discordant doc (right in
// one run only) is equally likely to go either way, so the count `base_only` of docs only the base got
// right is Binomial(base_only + new_only, 1/2). Returns the two-sided exact p-value
//   min(1, 2 · P[X <= min(base_only, new_only)]),
// the classic (conservative) form rather than mid-p: a CI gate should rather miss a marginal change than
// fail a build on noise. No discordant docs gives 1. Exact for any count (log-space binomial terms).
double mcnemar_exact_p(size_t base_only, size_t new_only);

// Two-sided p-value of a standard normal statistic: P[|Z| >= |z|] = erfc(|z|/√2).
double normal_two_sided_p(double z);

// The score of a set of docs for a corpus metric (chrF, BLEU, CIDEr, ...) computed from the element-wise
// sum of the docs' sufficient statistics, as sacrebleu's _compute_score_from_stats does. For a plain
// mean, a doc's statistics are {value, 1} and the score is sum[0] / sum[1].
using CorpusScore = std::function<double(const std::vector<double>& summed_stats)>;

struct PairedBootstrapResult {
  double delta = 0.0;  // score(new) - score(base) on all docs
  double p_value = 1.0;
  std::optional<double> delta_stderr;  // sample stddev of the resampled deltas (none with < 2 resamples)
};

// sacrebleu's paired bootstrap resampling test (significance.py::_paired_bs_test, itself Moses'
// bootstrap-hypothesis-difference-significance.pl): draw `resamples` index sets of size N with
// replacement, the same set for both runs (that is the pairing); score both runs on each; then with
// d_i = |new_i - base_i| and the observed |Δ|,
//   p = (#{i : d_i - mean(d) > |Δ|} + 1) / (resamples + 1).
// One deviation: p = 1 when Δ is exactly 0 (sacrebleu returns 1/(resamples+1) for identical runs).
// The index sets are Python's, so a Python check reproduces them exactly:
//   rnd = random.Random(seed); [rnd.choices(range(N), k=N) for _ in range(resamples)]
// (sacrebleu draws from numpy's default_rng, which is not ported; the test itself is the same).
// `base_stats[i]` and `new_stats[i]` are doc i's statistics in each run (same doc, same length).
PairedBootstrapResult paired_bootstrap(const std::vector<std::vector<double>>& base_stats,
                                       const std::vector<std::vector<double>>& new_stats, const CorpusScore& score,
                                       size_t resamples = 1000, uint64_t seed = 12345);

// The paired bootstrap of a per-document mean (statistics {x, 1}), for non-binary per-doc metrics.
PairedBootstrapResult paired_bootstrap_mean(const std::vector<double>& base_values,
                                            const std::vector<double>& new_values, size_t resamples = 1000,
                                            uint64_t seed = 12345);

}  // namespace gemma::reports
