#pragma once
// `gemma-eval compare BASE NEW`: every task and group metric of two runs side by side with Δ, its
// stderr, a p-value and a status (sacrebleu sacrebleu/significance.py@f615c728; docs/cli.md). Pure logic, torch-free;
// the CLI glue is cli/compare_command.cpp.
//
// Which test a row gets:
//   task metric, both runs logged samples  -> paired on doc_id:
//       binary per-doc values (acc, exact_match)  McNemar's exact test (reports/significance.h)
//       other per-doc values                      paired bootstrap of the mean
//       corpus metric (chrF, BLEU, CIDEr, ...)    paired bootstrap over per-doc sufficient statistics,
//                                                 when CompareOptions knows the metric's score function;
//                                                 else p = n/a
//   task metric, samples missing or unusable -> unpaired z-test from each run's value and stderr
//                                               (corpus metrics: p = n/a), with a note saying why
//   group metric                             -> z-test from the groups' pooled stderrs
// Status: incomparable when the runs' prompts, data, docs, tokenizer, profile or task version differ
// (reports/comparability.h; the row names what), or the row is missing on one side; regressed when Δ
// points the bad way (results.json "higher_is_better"), |Δ| >= min_delta and p < alpha; improved the
// same the good way; otherwise ok.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reports/run_record.h"
#include "reports/significance.h"

namespace gemma::reports {

enum class RowStatus { Ok, Improved, Regressed, Incomparable };
enum class TestKind { None, McNemar, PairedBootstrap, UnpairedZ, GroupZ };

struct CompareOptions {
  double alpha = 0.05;
  double min_delta = 0.0;             // in the metric's own units (0.01 = one accuracy point)
  size_t bootstrap_resamples = 1000;  // sacrebleu's default
  uint64_t bootstrap_seed = 12345;    // sacrebleu's default (SACREBLEU_SEED)
  // Corpus metrics this build can rescore from summed sufficient statistics, by metric name.
  std::map<std::string, CorpusScore> corpus_scores;
};

// Metrics whose value is a corpus statistic rather than a mean of per-doc values (lm-eval's bleu,
// chrf, ter; lmms-eval's CIDEr): their per-doc "metrics" entries, if any, cannot be averaged.
bool is_corpus_metric(const std::string& metric);

struct ComparedRow {
  std::string name;  // task or group
  bool is_group = false;
  std::string metric, filter;
  std::optional<int> base_shots, new_shots;
  std::optional<double> base_value, new_value;  // none when the row is missing in that run
  std::optional<double> delta;                  // new - base; none for incomparable rows
  std::optional<double> delta_stderr;
  std::optional<double> p_value;  // none = n/a
  bool higher_is_better = true;
  TestKind test = TestKind::None;
  std::string note;  // why the test is weaker than paired, or why p is n/a
  RowStatus status = RowStatus::Ok;
  std::vector<std::string> reasons;  // for Incomparable: what differs
};

struct Comparison {
  std::string base_label, new_label;  // the files and models compared, for the header
  CompareOptions options;
  std::vector<ComparedRow> rows;
};

// The status of a comparable row from its Δ and p (none = n/a, never significant).
RowStatus significance_status(double delta, std::optional<double> p_value, bool higher_is_better,
                              const CompareOptions& options);

// Rows in BASE's order (its tasks and groups, each entry's metrics), then rows only NEW has.
// Throws gemma::Error for options out of range (alpha outside (0, 1), negative min_delta).
Comparison compare_runs(const RunRecord& base, const RunRecord& candidate, const CompareOptions& options = {});

// The docs/cli.md table
//   | Task | Metric | Filter | n-shot | base | new | Δ | ±(stderr) | p | test | status |
// then a one-line count of statuses with alpha and min-delta, a legend of the tests used, and the
// notes (per task) on weaker or missing tests.
std::string comparison_markdown(const Comparison& comparison);

// The process exit code: 1 when any row regressed (or, with fail_on_incomparable, when any row could
// not be compared), else 0.
int comparison_exit_code(const Comparison& comparison, bool fail_on_incomparable = false);

const char* status_name(RowStatus status);

}  // namespace gemma::reports
