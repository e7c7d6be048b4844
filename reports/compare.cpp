#include "reports/compare.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "common/error.h"
#include "reports/comparability.h"
#include "reports/results_json.h"
#include "reports/text_table.h"
#include "scorers/stderr.h"

namespace gemma::reports {
using nlohmann::ordered_json;

bool is_corpus_metric(const std::string& metric) {
  std::string lower = metric;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::set<std::string> kCorpus = {"bleu", "chrf", "chrf++", "ter", "cider"};
  return kCorpus.count(lower) > 0;
}

// lm-eval's perplexities (output types loglikelihood and loglikelihood_rolling): their per-doc values are
// log-likelihoods that the aggregation turns into exp(-mean) or a word- or byte-weighted ratio, so a mean
// of per-doc values is not the metric and the paired tests do not apply.
bool is_perplexity_metric(const std::string& metric) {
  return metric == "perplexity" || metric == "word_perplexity" || metric == "byte_perplexity" ||
         metric == "bits_per_byte";
}

const char* status_name(RowStatus status) {
  switch (status) {
    case RowStatus::Ok:
      return "ok";
    case RowStatus::Improved:
      return "improved";
    case RowStatus::Regressed:
      return "regressed";
    case RowStatus::Incomparable:
      return "incomparable";
  }
  return "?";
}

RowStatus significance_status(double delta, std::optional<double> p_value, bool higher_is_better,
                              const CompareOptions& options) {
  if (!p_value || *p_value >= options.alpha || delta == 0.0 || std::fabs(delta) < options.min_delta)
    return RowStatus::Ok;
  const bool better = higher_is_better ? delta > 0 : delta < 0;
  return better ? RowStatus::Improved : RowStatus::Regressed;
}

namespace {

// The outcome of the test a row got.
struct TestOutcome {
  TestKind test = TestKind::None;
  std::optional<double> p_value, delta_stderr;
  std::string note;
};

// Values agree when they differ by float summation order only: results.json and the samples file
// come from the same per-doc numbers, summed in possibly different orders.
bool same_value(double a, double b, double relative) {
  return std::fabs(a - b) <= relative * std::max(1.0, std::fabs(a));
}

std::string samples_name(const std::string& task) { return samples_path("", task).filename().string(); }

// The two runs' samples of `task`, or a note on which run lacks them.
std::pair<const TaskSamples*, const TaskSamples*> samples_of(const RunRecord& base, const RunRecord& candidate,
                                                             const std::string& task, std::string& why) {
  auto b = base.samples.find(task), n = candidate.samples.find(task);
  const bool has_base = b != base.samples.end(), has_new = n != candidate.samples.end();
  if (!has_base || !has_new)
    why = fmt::format("no {} beside {}", samples_name(task),
                      !has_base && !has_new ? "either run"
                      : !has_base           ? "BASE"
                                            : "NEW");
  return {has_base ? &b->second : nullptr, has_new ? &n->second : nullptr};
}

template <typename Value>
const std::map<int64_t, Value>* per_doc(const std::map<std::string, std::map<int64_t, Value>>& table,
                                        const std::string& key) {
  auto found = table.find(key);
  return found == table.end() ? nullptr : &found->second;
}

template <typename Value>
bool same_docs(const std::map<int64_t, Value>& a, const std::map<int64_t, Value>& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) { return x.first == y.first; });
}

TestOutcome unpaired_z(const ComparedRow& row, std::optional<double> base_stderr, std::optional<double> new_stderr,
                       TestKind kind) {
  TestOutcome outcome;
  outcome.test = kind;
  if (!base_stderr || !new_stderr) {
    outcome.note = fmt::format("no stderr in {}: p n/a", !base_stderr ? "BASE" : "NEW");
    return outcome;
  }
  const double se = std::sqrt(*base_stderr * *base_stderr + *new_stderr * *new_stderr);
  outcome.delta_stderr = se;
  if (se > 0)
    outcome.p_value = normal_two_sided_p(*row.delta / se);
  else if (*row.delta == 0)
    outcome.p_value = 1.0;
  else
    outcome.note = "stderr 0 in both runs: p n/a";  // constant per-doc values: nothing to test against
  return outcome;
}

// McNemar for 0/1 values, else the paired bootstrap of the mean.
TestOutcome paired_per_doc(const std::map<int64_t, double>& base, const std::map<int64_t, double>& candidate,
                           const CompareOptions& options) {
  std::vector<double> base_values, new_values, differences;
  bool binary = true;
  for (const auto& [doc, value] : base) {
    const double other = candidate.at(doc);
    base_values.push_back(value);
    new_values.push_back(other);
    differences.push_back(other - value);
    binary = binary && (value == 0.0 || value == 1.0) && (other == 0.0 || other == 1.0);
  }
  TestOutcome outcome;
  if (binary) {
    size_t base_only = 0, new_only = 0;
    for (size_t i = 0; i < base_values.size(); ++i) {
      if (base_values[i] > new_values[i]) ++base_only;
      if (new_values[i] > base_values[i]) ++new_only;
    }
    outcome.test = TestKind::McNemar;
    outcome.p_value = mcnemar_exact_p(base_only, new_only);
    outcome.delta_stderr = scorers::mean_stderr(differences);  // the paired difference's stderr
    return outcome;
  }
  auto bootstrap = paired_bootstrap_mean(base_values, new_values, options.bootstrap_resamples, options.bootstrap_seed);
  outcome.test = TestKind::PairedBootstrap;
  outcome.p_value = bootstrap.p_value;
  outcome.delta_stderr = bootstrap.delta_stderr;
  return outcome;
}

TestOutcome corpus_test(const ComparedRow& row, const TaskSamples* base, const TaskSamples* candidate,
                        const std::string& missing_samples, const CompareOptions& options) {
  TestOutcome outcome;
  const std::string key = row.metric + "," + row.filter;
  auto score = options.corpus_scores.find(row.metric);
  if (score == options.corpus_scores.end()) {
    outcome.note = fmt::format("corpus metric {}: no paired test for it in this build, p n/a", row.metric);
    return outcome;
  }
  if (!missing_samples.empty()) {
    outcome.note = "corpus metric: " + missing_samples + ", p n/a";
    return outcome;
  }
  const auto* base_stats = per_doc(base->sufficient_stats, key);
  const auto* new_stats = per_doc(candidate->sufficient_stats, key);
  if (!base_stats || !new_stats || !same_docs(*base_stats, *new_stats) || base_stats->empty()) {
    outcome.note = fmt::format("corpus metric: no matching per-doc sufficient_stats for {} in the samples, p n/a", key);
    return outcome;
  }
  std::vector<std::vector<double>> base_rows, new_rows;
  for (const auto& [doc, stats] : *base_stats) {
    base_rows.push_back(stats);
    new_rows.push_back(new_stats->at(doc));
  }
  auto result =
      paired_bootstrap(base_rows, new_rows, score->second, options.bootstrap_resamples, options.bootstrap_seed);
  if (!same_value(*row.delta, result.delta, 1e-6)) {
    outcome.note = fmt::format("sufficient_stats for {} do not reproduce results.json, p n/a", key);
    return outcome;
  }
  outcome.test = TestKind::PairedBootstrap;
  outcome.p_value = result.p_value;
  outcome.delta_stderr = result.delta_stderr;
  return outcome;
}

TestOutcome task_test(const ComparedRow& row, const MetricRow& base_row, const MetricRow& new_row,
                      const RunRecord& base, const RunRecord& candidate, const CompareOptions& options) {
  std::string why;
  auto [base_samples, new_samples] = samples_of(base, candidate, row.name, why);
  if (is_corpus_metric(row.metric)) return corpus_test(row, base_samples, new_samples, why, options);

  const std::string key = row.metric + "," + row.filter;
  if (why.empty() && is_perplexity_metric(row.metric))
    why = fmt::format("{} aggregates per-doc log-likelihoods: no paired test for it in this build", row.metric);
  if (why.empty()) {
    const auto* base_docs = per_doc(base_samples->metrics, key);
    const auto* new_docs = per_doc(new_samples->metrics, key);
    auto mean_of = [](const std::map<int64_t, double>& docs) {
      double sum = 0.0;
      for (const auto& [doc, value] : docs) sum += value;
      return sum / static_cast<double>(docs.size());
    };
    if (!base_docs || !new_docs)
      why = fmt::format("no per-doc {} in {}", key, !base_docs ? "BASE's samples" : "NEW's samples");
    else if (base_docs->empty() || !same_docs(*base_docs, *new_docs))
      why = "the two samples files cover different docs";
    else if (!same_value(base_row.value, mean_of(*base_docs), 1e-9) ||
             !same_value(new_row.value, mean_of(*new_docs), 1e-9))
      why = fmt::format("the per-doc {} do not average to results.json's value (samples from another run?)", key);
    else
      return paired_per_doc(*base_docs, *new_docs, options);
  }
  auto outcome = unpaired_z(row, base_row.stderr_value, new_row.stderr_value, TestKind::UnpairedZ);
  outcome.note = why + (outcome.note.empty() ? "" : "; " + outcome.note);
  return outcome;
}

std::string row_key(const MetricRow& row) { return row.name + "\n" + row.metric + "\n" + row.filter; }

ComparedRow compared_row(const MetricRow* base_row, const MetricRow* new_row, const RunRecord& base,
                         const RunRecord& candidate, const CompareOptions& options,
                         std::map<std::string, std::vector<std::string>>& reasons_cache) {
  const MetricRow& any = base_row ? *base_row : *new_row;
  ComparedRow row;
  row.name = any.name;
  row.is_group = any.is_group;
  row.metric = any.metric;
  row.filter = any.filter;
  row.higher_is_better = any.higher_is_better;
  if (base_row) row.base_value = base_row->value, row.base_shots = base_row->shots;
  if (new_row) row.new_value = new_row->value, row.new_shots = new_row->shots;
  if (!base_row || !new_row) {
    row.status = RowStatus::Incomparable;
    row.reasons.push_back(base_row ? "missing in NEW" : "missing in BASE");
    return row;
  }
  auto cached = reasons_cache.find(row.name);
  if (cached == reasons_cache.end())
    cached =
        reasons_cache.emplace(row.name, comparability_differences(base.results, candidate.results, row.name)).first;
  row.reasons = cached->second;
  if (base_row->higher_is_better != new_row->higher_is_better) row.reasons.push_back("higher_is_better differs");
  if (!row.reasons.empty()) {
    row.status = RowStatus::Incomparable;
    return row;
  }
  row.delta = new_row->value - base_row->value;
  TestOutcome outcome = row.is_group ? unpaired_z(row, base_row->stderr_value, new_row->stderr_value, TestKind::GroupZ)
                                     : task_test(row, *base_row, *new_row, base, candidate, options);
  row.test = outcome.test;
  row.p_value = outcome.p_value;
  row.delta_stderr = outcome.delta_stderr;
  row.note = outcome.note;
  row.status = significance_status(*row.delta, row.p_value, row.higher_is_better, options);
  return row;
}

}  // namespace

Comparison compare_runs(const RunRecord& base, const RunRecord& candidate, const CompareOptions& options) {
  if (!(options.alpha > 0.0 && options.alpha < 1.0))
    fail("--alpha {}: expected a number between 0 and 1", options.alpha);
  if (!(options.min_delta >= 0.0)) fail("--min-delta {}: expected a number >= 0", options.min_delta);
  if (options.bootstrap_resamples == 0) fail("bootstrap resamples must be at least 1");

  Comparison comparison;
  comparison.options = options;
  auto label = [](const RunRecord& run) {
    std::string text = run.results_path.string() + " (" + model_label(run.results);
    if (auto git = run.results.find("git_hash"); git != run.results.end() && git->is_string())
      text += ", git " + git->get<std::string>();
    // lm-eval's top-level date is a number (epoch seconds); the readable one is config.date.
    if (auto date = run.results.find("date"); date != run.results.end() && date->is_string())
      text += ", " + date->get<std::string>();
    else if (auto config = run.results.find("config"); config != run.results.end() && config->is_object())
      if (auto config_date = config->find("date"); config_date != config->end() && config_date->is_string())
        text += ", " + config_date->get<std::string>();
    return text + ")";
  };
  comparison.base_label = label(base);
  comparison.new_label = label(candidate);

  const auto base_rows = metric_rows(base.results), new_rows = metric_rows(candidate.results);
  std::map<std::string, const MetricRow*> new_by_key;
  for (const auto& row : new_rows) new_by_key.emplace(row_key(row), &row);
  std::set<std::string> matched;
  std::map<std::string, std::vector<std::string>> reasons_cache;
  // BASE's order, with each name's NEW-only metrics right after its shared ones.
  std::vector<std::string> names;
  for (const auto& row : base_rows)
    if (names.empty() || names.back() != row.name) names.push_back(row.name);
  for (const auto& name : names) {
    for (const auto& row : base_rows) {
      if (row.name != name) continue;
      auto found = new_by_key.find(row_key(row));
      const MetricRow* other = found == new_by_key.end() ? nullptr : found->second;
      if (other) matched.insert(row_key(row));
      comparison.rows.push_back(compared_row(&row, other, base, candidate, options, reasons_cache));
    }
    for (const auto& row : new_rows)
      if (row.name == name && !matched.count(row_key(row)) && matched.insert(row_key(row)).second)
        comparison.rows.push_back(compared_row(nullptr, &row, base, candidate, options, reasons_cache));
  }
  for (const auto& row : new_rows)
    if (matched.insert(row_key(row)).second)
      comparison.rows.push_back(compared_row(nullptr, &row, base, candidate, options, reasons_cache));
  return comparison;
}

namespace {

std::string shots_cell(const ComparedRow& row) {
  auto text = [](const std::optional<int>& shots) { return shots ? std::to_string(*shots) : std::string("-"); };
  if (row.base_shots == row.new_shots || !row.base_value || !row.new_value)
    return text(row.base_value ? row.base_shots : row.new_shots);
  return text(row.base_shots) + "→" + text(row.new_shots);
}

std::string p_cell(const ComparedRow& row) {
  if (row.status == RowStatus::Incomparable) return "-";
  if (!row.p_value) return "n/a";
  return *row.p_value < 1e-4 ? "<0.0001" : fmt::format("{:.4f}", *row.p_value);
}

const char* test_cell(TestKind test) {
  switch (test) {
    case TestKind::McNemar:
      return "McNemar";
    case TestKind::PairedBootstrap:
      return "paired bootstrap";
    case TestKind::UnpairedZ:
      return "z, unpaired";
    case TestKind::GroupZ:
      return "z, group";
    case TestKind::None:
      return "-";
  }
  return "?";
}

std::string status_cell(const ComparedRow& row) {
  if (row.status != RowStatus::Incomparable) return status_name(row.status);
  std::string text = "incomparable: ";
  for (size_t i = 0; i < row.reasons.size(); ++i) text += (i ? ", " : "") + row.reasons[i];
  return text;
}

std::string legend(const Comparison& comparison) {
  std::set<TestKind> used;
  for (const auto& row : comparison.rows) used.insert(row.test);
  std::string text;
  if (used.count(TestKind::McNemar))
    text +=
        "- McNemar: exact two-sided binomial test on the docs (paired by doc_id) that exactly one run got right; "
        "± is the stderr of the per-doc difference.\n";
  if (used.count(TestKind::PairedBootstrap))
    text += fmt::format(
        "- paired bootstrap: sacrebleu's paired bootstrap test over docs paired by doc_id ({} resamples, "
        "Python random seed {}); ± is the stderr of the resampled Δ.\n",
        comparison.options.bootstrap_resamples, comparison.options.bootstrap_seed);
  if (used.count(TestKind::UnpairedZ))
    text +=
        "- z, unpaired: two-sided z-test of Δ against sqrt(stderr_base² + stderr_new²) from results.json, without "
        "pairing docs (less sensitive than the paired tests; run with --log-samples for those).\n";
  if (used.count(TestKind::GroupZ))
    text += "- z, group: two-sided z-test of Δ against the groups' pooled stderrs (lm-eval's aggregation).\n";
  return text;
}

}  // namespace

std::string comparison_markdown(const Comparison& comparison) {
  std::vector<std::vector<std::string>> cells;
  std::map<RowStatus, size_t> counts;
  std::vector<std::string> notes;
  std::set<std::string> noted;
  for (const auto& row : comparison.rows) {
    ++counts[row.status];
    const bool comparable = row.status != RowStatus::Incomparable;
    cells.push_back({row.name + (row.is_group ? " (group)" : ""), row.metric, row.filter, shots_cell(row),
                     fixed4(row.base_value), fixed4(row.new_value),
                     comparable && row.delta ? fmt::format("{:+.4f}", *row.delta) : "-",
                     comparable ? fixed4(row.delta_stderr) : "-", p_cell(row), test_cell(row.test), status_cell(row)});
    if (!row.note.empty() && noted.insert(row.name + ": " + row.note).second)
      notes.push_back(row.name + ": " + row.note);
  }
  std::string text = "Comparison\n- base: " + comparison.base_label + "\n- new:  " + comparison.new_label + "\n\n";
  text += text_table({"Task", "Metric", "Filter", "n-shot", "base", "new", "Δ", "±(stderr)", "p", "test", "status"},
                     {Align::Left, Align::Left, Align::Left, Align::Right, Align::Right, Align::Right, Align::Right,
                      Align::Right, Align::Right, Align::Left, Align::Left},
                     cells);
  text += fmt::format(
      "\n{} rows: {} ok, {} improved, {} regressed, {} incomparable (alpha {}, min-delta {}; Δ = new − base).\n",
      comparison.rows.size(), counts[RowStatus::Ok], counts[RowStatus::Improved], counts[RowStatus::Regressed],
      counts[RowStatus::Incomparable], comparison.options.alpha, comparison.options.min_delta);
  const std::string tests = legend(comparison);
  if (!tests.empty()) text += "\nTests:\n" + tests;
  if (!notes.empty()) {
    text += "\nNotes:\n";
    for (const auto& note : notes) text += "- " + note + "\n";
  }
  return text;
}

int comparison_exit_code(const Comparison& comparison, bool fail_on_incomparable) {
  for (const auto& row : comparison.rows) {
    if (row.status == RowStatus::Regressed) return 1;
    if (fail_on_incomparable && row.status == RowStatus::Incomparable) return 1;
  }
  return 0;
}

}  // namespace gemma::reports
