// gemma-eval compare's logic: the significance tests against hand-computed and Python-computed values,
// row statuses (incl. every incomparable reason and --min-delta), the exit code, the markdown table,
// the fallbacks when samples are missing or unusable, corpus metrics, groups, and reading runs from disk.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "../support/fake_runs.h"
#include "../support/temp_dir.h"
#include "common/error.h"
#include "reports/compare.h"
#include "reports/run_record.h"
#include "reports/significance.h"

using namespace gemma;
using namespace gemma::reports;
using namespace gemma::test;
using Catch::Contains;

namespace {

const ComparedRow& only_row(const Comparison& comparison) {
  REQUIRE(comparison.rows.size() == 1);
  return comparison.rows.front();
}

// One task, acc per doc, in both runs; `change` edits NEW's setup.
template <typename Change>
Comparison compare_one(const std::vector<double>& base_values, const std::vector<double>& new_values, Change change,
                       const CompareOptions& options = {}) {
  FakeRun base, candidate;
  base.tasks.push_back(FakeTask{});
  base.tasks.back().values = base_values;
  candidate.tasks.push_back(FakeTask{});
  candidate.tasks.back().values = new_values;
  change(candidate);
  return compare_runs(fake_record(base), fake_record(candidate), options);
}

Comparison compare_one(const std::vector<double>& base_values, const std::vector<double>& new_values,
                       const CompareOptions& options = {}) {
  return compare_one(
      base_values, new_values, [](FakeRun&) {}, options);
}

std::string reasons_of(const ComparedRow& row) {
  std::string text;
  for (const auto& r : row.reasons) text += r + ";";
  return text;
}

}  // namespace

TEST_CASE("compare: exact McNemar p-values match hand computation", "[compare]") {
  // p = min(1, 2 * sum_{i<=min(b,c)} C(b+c, i) / 2^(b+c))
  CHECK(mcnemar_exact_p(0, 5) == Approx(2.0 / 32).epsilon(1e-12));         // 2 * 1/32
  CHECK(mcnemar_exact_p(1, 9) == Approx(2.0 * 11 / 1024).epsilon(1e-12));  // 2 * (1 + 10)/1024
  CHECK(mcnemar_exact_p(9, 1) == Approx(2.0 * 11 / 1024).epsilon(1e-12));  // symmetric
  CHECK(mcnemar_exact_p(2, 8) == Approx(2.0 * 56 / 1024).epsilon(1e-12));  // 2 * (1 + 10 + 45)/1024
  CHECK(mcnemar_exact_p(5, 17) == Approx(0.01690053939819336).epsilon(1e-12));
  CHECK(mcnemar_exact_p(40, 70) == Approx(0.005447429511444482).epsilon(1e-10));
  // Thousands of discordant docs (full MMLU): 2^-2100 underflows unless summed in log space.
  CHECK(mcnemar_exact_p(1000, 1100) == Approx(0.030720707864242296).epsilon(1e-9));
  CHECK(mcnemar_exact_p(3, 3) == 1.0);  // capped at 1
  CHECK(mcnemar_exact_p(0, 1) == 1.0);
  CHECK(mcnemar_exact_p(0, 0) == 1.0);  // no discordant docs: no evidence
  CHECK(mcnemar_exact_p(0, 3000) < 1e-300);
}

TEST_CASE("compare: normal two-sided p", "[compare]") {
  CHECK(normal_two_sided_p(0.0) == 1.0);
  CHECK(normal_two_sided_p(1.959963984540054) == Approx(0.05).epsilon(1e-9));
  CHECK(normal_two_sided_p(-1.959963984540054) == Approx(0.05).epsilon(1e-9));
}

TEST_CASE("compare: paired bootstrap reproduces the Python reference", "[compare]") {
  // Python: rnd = random.Random(seed); idx = rnd.choices(range(N), k=N) per resample; sums in index
  // order; d = |Δ_i|; p = (#(d_i - mean(d) > |Δ|) + 1) / (R + 1); stderr = sample stddev of Δ_i.
  const std::vector<std::vector<double>> base = {{3, 10}, {5, 8}, {0, 4}, {7, 7}, {2, 9}, {6, 12}, {1, 5}, {4, 4}};
  const std::vector<std::vector<double>> candidate = {{4, 10}, {6, 8}, {1, 4}, {7, 7}, {5, 9}, {8, 12}, {2, 5}, {4, 4}};
  const CorpusScore ratio = [](const std::vector<double>& s) { return 100 * s[0] / s[1]; };
  auto corpus = paired_bootstrap(base, candidate, ratio, 200, 12345);
  CHECK(corpus.delta == Approx(15.254237288135592).epsilon(1e-12));
  CHECK(corpus.p_value == Approx(0.004975124378109453).epsilon(1e-12));  // 1/201: no resample beats Δ
  REQUIRE(corpus.delta_stderr);
  CHECK(*corpus.delta_stderr == Approx(3.3159721145232908).epsilon(1e-10));

  const std::vector<double> base_means = {0.2, 0.5, 0.9, 0.4, 0.7, 0.1, 0.3, 0.8, 0.6, 0.5};
  const std::vector<double> new_means = {0.25, 0.45, 0.95, 0.5, 0.65, 0.2, 0.3, 0.85, 0.7, 0.55};
  auto mean = paired_bootstrap_mean(base_means, new_means, 1000, 12345);
  CHECK(mean.delta == Approx(0.04).margin(1e-12));
  CHECK(mean.p_value == Approx(0.003996003996003996).epsilon(1e-12));  // 4/1001
  CHECK(*mean.delta_stderr == Approx(0.01729354913954453).epsilon(1e-9));

  // Identical runs: Δ = 0, nothing to test (sacrebleu's formula would say 1/1001).
  CHECK(paired_bootstrap_mean(base_means, base_means, 1000, 7).p_value == 1.0);
  // A different seed draws different resamples.
  CHECK(paired_bootstrap_mean(base_means, new_means, 1000, 1).delta_stderr != mean.delta_stderr);

  CHECK_THROWS_WITH(paired_bootstrap({{1, 2}}, {{1, 2}, {3, 4}}, ratio), Contains("paired doc by doc"));
  CHECK_THROWS_AS(paired_bootstrap({}, {}, ratio), Error);
}

TEST_CASE("compare: status from Δ, p, direction, alpha and min-delta", "[compare]") {
  CompareOptions options;  // alpha 0.05, min-delta 0
  CHECK(significance_status(-0.05, 0.01, true, options) == RowStatus::Regressed);
  CHECK(significance_status(+0.05, 0.01, true, options) == RowStatus::Improved);
  CHECK(significance_status(-0.05, 0.01, false, options) == RowStatus::Improved);  // lower is better
  CHECK(significance_status(+0.05, 0.01, false, options) == RowStatus::Regressed);
  CHECK(significance_status(-0.05, 0.05, true, options) == RowStatus::Ok);          // p must be < alpha
  CHECK(significance_status(-0.05, std::nullopt, true, options) == RowStatus::Ok);  // p n/a is never significant
  CHECK(significance_status(0.0, 0.001, true, options) == RowStatus::Ok);
  options.min_delta = 0.1;
  CHECK(significance_status(-0.05, 0.001, true, options) == RowStatus::Ok);        // significant but too small
  CHECK(significance_status(-0.1, 0.001, true, options) == RowStatus::Regressed);  // |Δ| >= min-delta
  options.alpha = 0.0001;
  CHECK(significance_status(-0.5, 0.001, true, options) == RowStatus::Ok);
}

TEST_CASE("compare: the same run twice is all ok and exits 0", "[compare]") {
  auto comparison = compare_one(binary_values(20, 12), binary_values(20, 12));
  const auto& row = only_row(comparison);
  CHECK(row.status == RowStatus::Ok);
  CHECK(row.test == TestKind::McNemar);
  CHECK(*row.p_value == 1.0);
  CHECK(*row.delta == 0.0);
  CHECK(comparison_exit_code(comparison) == 0);
}

TEST_CASE("compare: McNemar flags a drop on many docs as regressed, exit 1", "[compare]") {
  // NEW loses 10 of 20 docs and gains none: p = 2 / 2^10.
  auto comparison = compare_one(binary_values(20, 20), binary_values(20, 10));
  const auto& row = only_row(comparison);
  CHECK(row.test == TestKind::McNemar);
  CHECK(*row.delta == Approx(-0.5));
  CHECK(*row.p_value == Approx(2.0 / 1024));
  CHECK(row.status == RowStatus::Regressed);
  CHECK(comparison_exit_code(comparison) == 1);

  // The same drop below --min-delta is ok; the same change upwards is an improvement, not a failure.
  CompareOptions lenient;
  lenient.min_delta = 0.6;
  CHECK(only_row(compare_one(binary_values(20, 20), binary_values(20, 10), lenient)).status == RowStatus::Ok);
  auto better = compare_one(binary_values(20, 10), binary_values(20, 20));
  CHECK(only_row(better).status == RowStatus::Improved);
  CHECK(comparison_exit_code(better) == 0);

  // Swapped docs with the same mean: 3 lost, 3 gained, p = 1.
  std::vector<double> shuffled = binary_values(20, 10);
  std::swap(shuffled[0], shuffled[19]), std::swap(shuffled[1], shuffled[18]), std::swap(shuffled[2], shuffled[17]);
  auto swapped = compare_one(binary_values(20, 10), shuffled);
  CHECK(*only_row(swapped).p_value == 1.0);
  CHECK(only_row(swapped).status == RowStatus::Ok);
}

TEST_CASE("compare: lower-is-better metrics regress upwards", "[compare]") {
  FakeRun base;
  base.tasks = {FakeTask{}};
  base.tasks[0].metric = "error_rate";
  base.tasks[0].higher_is_better = false;
  base.tasks[0].values = binary_values(20, 0);
  FakeRun candidate = base;
  candidate.tasks[0].values = binary_values(20, 12);
  CHECK(only_row(compare_runs(fake_record(base), fake_record(candidate))).status == RowStatus::Regressed);
  CHECK(only_row(compare_runs(fake_record(candidate), fake_record(base))).status == RowStatus::Improved);
}

TEST_CASE("compare: rows measured differently are incomparable and name what differed", "[compare]") {
  auto incomparable = [](auto change) {
    auto comparison = compare_one(binary_values(20, 20), binary_values(20, 0), change);
    const auto& row = only_row(comparison);
    CHECK(row.status == RowStatus::Incomparable);
    CHECK_FALSE(row.p_value);  // no test is run on incomparable rows
    CHECK_FALSE(row.delta);
    CHECK(comparison_exit_code(comparison) == 0);  // a big drop, but not a measured regression
    CHECK(comparison_exit_code(comparison, /*fail_on_incomparable=*/true) == 1);
    return reasons_of(row);
  };
  CHECK(incomparable([](FakeRun& r) { r.tasks[0].prompts = "prompts-v2"; }) == "first-prompt hash;all-prompts hash;");
  CHECK(incomparable([](FakeRun& r) { r.tasks[0].data_sha = "other"; }) == "data hash (ARC-Easy-Test.jsonl);");
  CHECK(incomparable([](FakeRun& r) { r.tokenizer_sha = "tok-sha-2"; }) == "tokenizer hash;");
  CHECK(incomparable([](FakeRun& r) { r.profile = "it"; }) == "profile pt→it;");
  CHECK(incomparable([](FakeRun& r) { r.tasks[0].version = 2; }) == "version 1→2;");
  CHECK(incomparable([](FakeRun& r) {
          r.tasks[0].shots = 5;
          r.tasks[0].prompts = "five-shot";
        }) == "n-shot 0→5;first-prompt hash;all-prompts hash;");
  CHECK(incomparable([](FakeRun& r) { r.tasks[0].higher_is_better = false; }) == "higher_is_better differs;");

  // Another model's weights: its scores are not a regression of this model's.
  FakeRun same;
  same.tasks = {FakeTask{}};
  same.tasks[0].values = binary_values(20, 10);
  auto other_weights = fake_record(same);
  other_weights.results["config"]["model"]["weights_fingerprint"] = "0d1e2f3a4b5c";
  const auto weights_comparison = compare_runs(fake_record(same), other_weights);
  const auto& weights_row = only_row(weights_comparison);
  CHECK(weights_row.status == RowStatus::Incomparable);
  CHECK(reasons_of(weights_row) == "weights fingerprint;");

  // Same files read from another folder (another checkout, another --data-dir) still compare.
  auto moved = compare_one(binary_values(20, 10), binary_values(20, 10),
                           [](FakeRun& r) { r.tasks[0].data_file = "/elsewhere/ARC-Easy-Test.jsonl"; });
  CHECK(only_row(moved).status == RowStatus::Ok);
}

TEST_CASE("compare: doc ids, missing provenance and missing rows are incomparable", "[compare]") {
  FakeRun base;
  base.tasks = {FakeTask{}};
  base.tasks[0].values = binary_values(20, 10);
  FakeRun candidate = base;
  candidate.tasks[0].values = binary_values(30, 15);  // --limit 30 instead of 20
  auto more_docs = compare_runs(fake_record(base), fake_record(candidate));
  CHECK(reasons_of(only_row(more_docs)) == "doc ids (20→30 docs);");  // named even when the prompt hashes agree

  // An lm-eval results.json has no provenance and no tokenizer hash: never compared silently.
  auto stripped = fake_record(base);
  stripped.results.erase("provenance");
  stripped.results["config"]["model"].erase("tokenizer");
  auto lm_eval = compare_runs(stripped, fake_record(base));
  CHECK(reasons_of(only_row(lm_eval)) == "no tokenizer hash in base;no provenance in base;");

  // A task only one run has: a row marked missing on the other side.
  FakeRun two = base;
  two.tasks.push_back(FakeTask{});
  two.tasks.back().name = "boolq";
  two.tasks.back().values = binary_values(10, 5);
  auto added = compare_runs(fake_record(base), fake_record(two));
  REQUIRE(added.rows.size() == 2);
  CHECK(added.rows[0].status == RowStatus::Ok);
  CHECK(added.rows[1].name == "boolq");
  CHECK(reasons_of(added.rows[1]) == "missing in BASE;");
  CHECK(reasons_of(compare_runs(fake_record(two), fake_record(base)).rows[1]) == "missing in NEW;");
}

TEST_CASE("compare: without samples it falls back to an unpaired z-test and says so", "[compare]") {
  FakeRun base, candidate;
  base.tasks = {FakeTask{}};
  base.tasks[0].values = binary_values(40, 30);
  base.with_samples = false;
  candidate.tasks = {FakeTask{}};
  candidate.tasks[0].values = binary_values(40, 12);
  auto comparison = compare_runs(fake_record(base), fake_record(candidate));
  const auto& row = only_row(comparison);
  CHECK(row.test == TestKind::UnpairedZ);
  const double se = std::hypot(fake_stderr(base.tasks[0].values), fake_stderr(candidate.tasks[0].values));
  CHECK(*row.delta_stderr == Approx(se));
  CHECK(*row.p_value == Approx(std::erfc(std::fabs(-0.45 / se) / std::sqrt(2.0))));
  CHECK(row.status == RowStatus::Regressed);
  CHECK(row.note == "no samples_arc_easy.jsonl beside BASE");
  const auto text = comparison_markdown(comparison);
  CHECK_THAT(text, Contains("z, unpaired"));
  CHECK_THAT(text, Contains("- arc_easy: no samples_arc_easy.jsonl beside BASE"));
  CHECK_THAT(text, Contains("run with --log-samples"));

  // Samples that do not belong to results.json (a hand-edited value) are not trusted for pairing.
  auto edited = fake_record(candidate);
  edited.results["results"]["arc_easy"]["acc,none"] = 0.9;
  auto mismatch = compare_runs(fake_record(candidate), edited);
  CHECK(only_row(mismatch).test == TestKind::UnpairedZ);
  CHECK_THAT(only_row(mismatch).note, Contains("do not average to results.json's value"));

  // No stderr either (n <= 1 writes "N/A"): p is n/a and the row cannot regress.
  auto no_stderr = fake_record(candidate);
  no_stderr.samples.clear();
  no_stderr.results["results"]["arc_easy"]["acc_stderr,none"] = "N/A";
  auto untestable = compare_runs(fake_record(base), no_stderr);
  CHECK_FALSE(only_row(untestable).p_value);
  CHECK(only_row(untestable).status == RowStatus::Ok);
  CHECK_THAT(comparison_markdown(untestable), Contains("| n/a |"));
}

TEST_CASE("compare: perplexities (aggregated log-likelihoods) get the unpaired test and say why", "[compare]") {
  FakeRun base;
  base.tasks = {FakeTask{}};
  base.tasks[0].name = "text_perplexity";
  base.tasks[0].metric = "word_perplexity";
  base.tasks[0].higher_is_better = false;
  base.tasks[0].values = {-120.5, -80.25, -99.0, -140.0};
  FakeRun candidate = base;
  candidate.tasks[0].values = {-110.5, -81.25, -95.0, -150.0};
  const Comparison comparison = compare_runs(fake_record(base), fake_record(candidate));
  const auto& row = only_row(comparison);
  CHECK(row.test == TestKind::UnpairedZ);
  CHECK_THAT(row.note, Contains("word_perplexity aggregates per-doc log-likelihoods"));
}

TEST_CASE("compare: non-binary per-doc metrics get the paired bootstrap", "[compare]") {
  const std::vector<double> base_values = {0.2, 0.5, 0.9, 0.4, 0.7, 0.1, 0.3, 0.8, 0.6, 0.5};
  const std::vector<double> new_values = {0.25, 0.45, 0.95, 0.5, 0.65, 0.2, 0.3, 0.85, 0.7, 0.55};
  auto comparison = compare_one(base_values, new_values, [](FakeRun& r) {});
  const auto& row = only_row(comparison);
  CHECK(row.test == TestKind::PairedBootstrap);
  CHECK(*row.p_value == Approx(0.003996003996003996));  // the Python reference above (seed 12345)
  CHECK(row.status == RowStatus::Improved);
}

TEST_CASE("compare: corpus metrics need sufficient statistics for a p-value", "[compare]") {
  FakeRun base;
  base.tasks = {FakeTask{}};
  base.tasks[0].name = "wmt24pp";
  base.tasks[0].metric = "chrf";
  base.tasks[0].values = {40, 45, 50, 55};  // the corpus value's stand-in; per-doc values are not averaged
  FakeRun candidate = base;
  candidate.tasks[0].values = {10, 15, 20, 25};
  auto plain = compare_runs(fake_record(base), fake_record(candidate));
  CHECK(only_row(plain).test == TestKind::None);
  CHECK_FALSE(only_row(plain).p_value);
  CHECK(only_row(plain).status == RowStatus::Ok);
  CHECK_THAT(only_row(plain).note, Contains("no paired test for it in this build"));

  // With a registered score function and per-doc sufficient statistics: paired bootstrap.
  CompareOptions options;
  options.corpus_scores["chrf"] = [](const std::vector<double>& s) { return 100 * s[0] / s[1]; };
  auto base_record = fake_record(base), new_record = fake_record(candidate);
  const std::vector<std::vector<double>> base_stats = {{3, 10}, {5, 8},  {0, 4}, {7, 7},
                                                       {2, 9},  {6, 12}, {1, 5}, {4, 4}};
  const std::vector<std::vector<double>> new_stats = {{4, 10}, {6, 8}, {1, 4}, {7, 7}, {5, 9}, {8, 12}, {2, 5}, {4, 4}};
  for (size_t i = 0; i < base_stats.size(); ++i) {
    base_record.samples["wmt24pp"].sufficient_stats["chrf,none"][static_cast<int64_t>(i)] = base_stats[i];
    new_record.samples["wmt24pp"].sufficient_stats["chrf,none"][static_cast<int64_t>(i)] = new_stats[i];
  }
  auto set_value = [](RunRecord& record, double value) { record.results["results"]["wmt24pp"]["chrf,none"] = value; };
  set_value(base_record, 100.0 * 28 / 59);
  set_value(new_record, 100.0 * 37 / 59);
  options.bootstrap_resamples = 200;
  auto paired = compare_runs(base_record, new_record, options);
  CHECK(only_row(paired).test == TestKind::PairedBootstrap);
  CHECK(*only_row(paired).p_value == Approx(0.004975124378109453));  // the Python reference above
  CHECK(only_row(paired).status == RowStatus::Improved);

  // Statistics that do not reproduce results.json's values are not used.
  set_value(new_record, 99.0);
  auto wrong = compare_runs(base_record, new_record, options);
  CHECK_FALSE(only_row(wrong).p_value);
  CHECK_THAT(only_row(wrong).note, Contains("do not reproduce results.json"));
}

TEST_CASE("compare: groups use the pooled-stderr z-test and inherit their members' differences", "[compare]") {
  FakeRun base;
  for (const char* name : {"mmlu_a", "mmlu_b"}) {
    base.tasks.push_back(FakeTask{});
    base.tasks.back().name = name;
    base.tasks.back().values = binary_values(10, 5);
  }
  base.groups.push_back(FakeGroup{"mmlu", {"mmlu_a", "mmlu_b"}, 0.5, 0.02});
  FakeRun candidate = base;
  candidate.groups[0].value = 0.44;
  candidate.groups[0].stderr_value = 0.015;
  auto comparison = compare_runs(fake_record(base), fake_record(candidate));
  REQUIRE(comparison.rows.size() == 3);
  const auto& group = comparison.rows[0];
  CHECK(group.is_group);
  CHECK(group.test == TestKind::GroupZ);
  CHECK(*group.delta_stderr == Approx(0.025));
  CHECK(*group.p_value == Approx(std::erfc(0.06 / 0.025 / std::sqrt(2.0))));
  CHECK(group.status == RowStatus::Regressed);
  const auto text = comparison_markdown(comparison);
  CHECK_THAT(text, Contains("| mmlu (group) |"));
  CHECK_THAT(text, Contains("z, group: two-sided z-test of Δ against the groups' pooled stderrs"));

  candidate.tasks[1].prompts = "changed";
  auto changed = compare_runs(fake_record(base), fake_record(candidate));
  CHECK(reasons_of(changed.rows[0]) == "mmlu_b: first-prompt hash, all-prompts hash;");
  CHECK(changed.rows[1].status == RowStatus::Ok);
  CHECK(changed.rows[2].status == RowStatus::Incomparable);

  candidate.tasks[0].prompts = "changed";
  CHECK(reasons_of(compare_runs(fake_record(base), fake_record(candidate)).rows[0]) ==
        "2 member tasks differ (mmlu_a, mmlu_b);");
}

TEST_CASE("compare: the markdown table", "[compare]") {
  auto comparison = compare_one({1, 1, 0, 0}, {1, 1, 0, 0});
  comparison.base_label = "base.json";
  comparison.new_label = "new.json";
  const std::string expected =
      "Comparison\n"
      "- base: base.json\n"
      "- new:  new.json\n"
      "\n"
      "| Task     | Metric | Filter | n-shot |   base |    new |       Δ | ±(stderr) |      p | test    | status |\n"
      "|----------|--------|--------|-------:|-------:|-------:|--------:|----------:|-------:|---------|--------|\n"
      "| arc_easy | acc    | none   |      0 | 0.5000 | 0.5000 | +0.0000 |    0.0000 | 1.0000 | McNemar | ok     |\n"
      "\n"
      "1 rows: 1 ok, 0 improved, 0 regressed, 0 incomparable (alpha 0.05, min-delta 0; Δ = new − base).\n"
      "\n"
      "Tests:\n"
      "- McNemar: exact two-sided binomial test on the docs (paired by doc_id) that exactly one run got right; ± is "
      "the "
      "stderr of the per-doc difference.\n";
  CHECK(comparison_markdown(comparison) == expected);

  auto regressed = compare_one(binary_values(20, 20), binary_values(20, 10));
  CHECK_THAT(comparison_markdown(regressed), Contains("| -0.5000 |") && Contains("| 0.0020 | McNemar | regressed |"));
  auto tiny_p = compare_one(binary_values(40, 40), binary_values(40, 0));
  CHECK_THAT(comparison_markdown(tiny_p), Contains("| <0.0001 |"));
  auto incomparable = compare_one({1, 0}, {1, 0}, [](FakeRun& r) { r.profile = "it"; });
  const auto text = comparison_markdown(incomparable);
  CHECK_THAT(text, Contains("| 0.5000 | 0.5000 |   - |         - |   - | -    | incomparable: profile pt→it |"));
  CHECK_THAT(text, Contains("1 rows: 0 ok, 0 improved, 0 regressed, 1 incomparable"));
}

TEST_CASE("compare: options out of range are refused", "[compare]") {
  CompareOptions bad;
  bad.alpha = 1.5;
  CHECK_THROWS_WITH(compare_one({1, 0}, {1, 0}, bad), Contains("--alpha"));
  bad.alpha = 0.05;
  bad.min_delta = -1;
  CHECK_THROWS_WITH(compare_one({1, 0}, {1, 0}, bad), Contains("--min-delta"));
}

TEST_CASE("compare: runs are read from results.json and the samples beside it", "[compare]") {
  TempDir dir("gemma-compare");
  FakeRun run;
  run.tasks = {FakeTask{}};
  run.tasks[0].values = {1, 0, 1};
  {
    std::ofstream(dir.path / "results.json") << fake_results_json(run).dump(2);
    std::ofstream samples(dir.path / "samples_arc_easy.jsonl");
    samples << R"({"doc_id":0,"prompt":"q","metrics":{"acc,none":1.0}})"
               "\n"
            << R"({"doc_id":1,"metrics":{"acc,none":0.0},"sufficient_stats":{"chrf,none":[1,2]}})"
               "\n"
            << R"({"doc_id":2,"metrics":{"acc,none":1.0}})"
               "\n";
  }
  for (const auto& path : {dir.path, dir.path / "results.json"}) {
    auto record = load_run(path);
    CHECK(record.results_path == dir.path / "results.json");
    REQUIRE(record.samples.count("arc_easy"));
    CHECK(record.samples["arc_easy"].metrics["acc,none"] == std::map<int64_t, double>{{0, 1.0}, {1, 0.0}, {2, 1.0}});
    CHECK(record.samples["arc_easy"].sufficient_stats["chrf,none"][1] == std::vector<double>{1, 2});
  }
  auto rows = metric_rows(load_run(dir.path).results);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].metric == "acc");
  CHECK(*rows[0].stderr_value == Approx(fake_stderr({1, 0, 1})));

  auto write_samples = [&](const std::string& lines) { std::ofstream(dir.path / "samples_arc_easy.jsonl") << lines; };
  write_samples("{\"doc_id\":0,\"metrics\":{\"acc,none\":1}}\n{\"doc_id\":0,\"metrics\":{\"acc,none\":1}}\n");
  CHECK_THROWS_WITH(load_run(dir.path), Contains("samples_arc_easy.jsonl:2") && Contains("doc_id 0 appears twice"));
  write_samples("{\"doc_id\":0,\"metrics\":{\"acc,none\":\"yes\"}}\n");
  CHECK_THROWS_WITH(load_run(dir.path), Contains("samples_arc_easy.jsonl:1") && Contains("not a number"));
  write_samples("{\"metrics\":{}}\n");
  CHECK_THROWS_WITH(load_run(dir.path), Contains("no integer \"doc_id\""));

  CHECK_THROWS_WITH(load_run(dir.path / "missing"), Contains("missing") && Contains("no such file"));
  std::ofstream(dir.path / "other.json") << R"({"rows": []})";
  CHECK_THROWS_WITH(load_run(dir.path / "other.json"), Contains("other.json") && Contains("no \"results\" object"));
  std::ofstream(dir.path / "broken.json") << "{";
  CHECK_THROWS_WITH(load_run(dir.path / "broken.json"), Contains("broken.json") && Contains("not valid JSON"));
}

TEST_CASE("compare: runs of other weights (another weights fingerprint) are incomparable", "[compare][weights]") {
  FakeRun base;
  base.tasks = {FakeTask{}};
  base.tasks[0].values = binary_values(20, 10);
  auto base_record = fake_record(base), candidate_record = fake_record(base);
  // The same task, prompts, data and tokenizer; a fine-tune of the same layout (fingerprints as v2 writes them).
  base_record.results["config"]["model"]["weights_fingerprint"] = "v2:" + std::string(64, 'a');
  candidate_record.results["config"]["model"]["weights_fingerprint"] = "v2:" + std::string(64, 'b');
  const auto other_weights = compare_runs(base_record, candidate_record);
  CHECK(only_row(other_weights).status == RowStatus::Incomparable);
  CHECK(reasons_of(only_row(other_weights)) == "weights fingerprint;");
  CHECK(comparison_exit_code(other_weights, /*fail_on_incomparable=*/true) == 1);

  // A run fingerprinted by the old sampled rule (64 bare hex digits) is never taken for the same weights.
  candidate_record.results["config"]["model"]["weights_fingerprint"] = std::string(64, 'a');
  CHECK(reasons_of(only_row(compare_runs(base_record, candidate_record))) == "weights fingerprint;");
  candidate_record.results["config"]["model"].erase("weights_fingerprint");
  CHECK(reasons_of(only_row(compare_runs(base_record, candidate_record))) == "no weights fingerprint in new;");

  candidate_record.results["config"]["model"]["weights_fingerprint"] = "v2:" + std::string(64, 'a');
  CHECK(only_row(compare_runs(base_record, candidate_record)).status == RowStatus::Ok);

  // results.json's current shape (config.model lm-eval's string, the object in config.model_details), and an
  // older file against a newer one.
  candidate_record.results["config"] = with_lm_eval_model_type(candidate_record.results["config"]);
  REQUIRE(candidate_record.results["config"]["model"] == "gemma-eval");
  CHECK(only_row(compare_runs(base_record, candidate_record)).status == RowStatus::Ok);
  candidate_record.results["config"]["model_details"]["weights_fingerprint"] = "v2:" + std::string(64, 'b');
  CHECK(reasons_of(only_row(compare_runs(base_record, candidate_record))) == "weights fingerprint;");
  candidate_record.results["config"]["model_details"]["tokenizer"]["sha256"] = "another";
  CHECK(reasons_of(only_row(compare_runs(base_record, candidate_record))) == "weights fingerprint;tokenizer hash;");
}

TEST_CASE("compare: samples of another run beside a results.json are refused naming the file", "[compare][identity]") {
  TempDir dir("gemma-compare-identity");
  FakeRun run;
  run.tasks = {FakeTask{}};
  run.tasks[0].values = {1, 0};
  auto results = fake_results_json(run);
  results["config"]["run_id"] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  std::ofstream(dir.path / "results.json") << results.dump(2);
  const auto write_samples = [&](const std::string& run_id, const std::string& weights) {
    std::ofstream samples(dir.path / "samples_arc_easy.jsonl");
    for (int doc = 0; doc < 2; ++doc)
      samples << nlohmann::json({{"doc_id", doc},
                                 {"metrics", {{"acc,none", 1.0 - doc}}},
                                 {"run_id", run_id},
                                 {"weights_fingerprint", weights}})
                     .dump()
              << "\n";
  };
  write_samples("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "5c98893241c1eed139ca");
  CHECK(load_run(dir.path).samples.at("arc_easy").metrics.at("acc,none").size() == 2);
  write_samples("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "5c98893241c1eed139ca");  // left by another run
  CHECK_THROWS_WITH(load_run(dir.path), Contains("samples_arc_easy.jsonl:1") && Contains("another run"));
  write_samples("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "other-weights");
  CHECK_THROWS_WITH(load_run(dir.path), Contains("samples_arc_easy.jsonl:1") && Contains("other-weights"));
}
