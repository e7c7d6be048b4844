#pragma once
// Scoring and aggregation from per-doc records alone, without a model or a dataset: the per-doc metrics
// of a generation (filters, then each metric) or of a multiple-choice doc (from its loglikelihoods), a
// task's metric rows (mean with closed-form stderr, corpus metrics with lm-eval's bootstrap), groups.
// The evaluator (evals/evaluator.h) uses it after the engine answers; `gemma-eval rescore`, `merge` and
// `score --filter` use it on records read back from samples. Torch-free.
#include <map>
#include <string>
#include <vector>

#include "evals/filters.h"
#include "evals/results.h"
#include "evals/task.h"
#include "scorers/exact_match.h"
#include "scorers/multiple_choice.h"

namespace gemma::evals {

// The filter name of multiple-choice metrics and of generation tasks without filters.
inline constexpr const char* kNoFilter = "none";

// The metric row reported beside a generation task's metrics for each filter pipeline that can fail
// to extract an answer: the share of docs whose extraction fell back to "[invalid]".
inline constexpr const char* kInvalidRate = "invalid_rate";

// Errors (gemma::Error naming the task) for a spec the evaluator cannot run: a missing loader or
// renderer, no metrics, a multiple-choice metric other than acc/acc_norm/acc_bytes/exact_match, a
// generation metric without a scorer.
void check_task_spec(const TaskSpec& task);

// Errors for a task that runs model-written code (TaskSpec::executes_code) unless `allowed`.
void require_code_execution_allowed(const TaskSpec& task, bool allowed);

// DocRecord::metrics key of a metric under a filter pipeline: "metric,filter".
std::string metric_key(const std::string& metric, const std::string& filter);

// The task's filter pipelines, or lm-eval's implicit "none" (take_first) when it declares none.
std::vector<FilterPipeline> effective_filters(const TaskSpec& task);

// One multiple-choice metric (acc, acc_norm, acc_bytes, exact_match) of a doc's scores.
double multiple_choice_metric(const std::string& name, const scorers::MultipleChoiceScores& scores);

// Every metric of a multiple-choice task for one doc into record.metrics: a registry metric
// (MetricSpec::registry_key) scores the doc's scorers::multiple_choice_record; a spec built without
// the registry takes its name's field of score_multiple_choice.
void score_multiple_choice_metrics(const TaskSpec& task, const std::vector<std::string>& choices,
                                   const std::vector<long>& golds, DocRecord& record);

// The per-doc metrics of a loglikelihood or loglikelihood_rolling doc into record.metrics, from its one
// log-likelihood and greedy flag (lm-eval api/task.py::process_results): perplexity and the rolling
// metrics keep the log-likelihood (their aggregation makes the task's value of it, with each doc's word
// or byte count for the rolling ones), acc is is_greedy as 0 or 1.
void score_loglikelihood_metrics(const TaskSpec& task, DocRecord& record);

// A generation task's filters and exact_match options, compiled once for all its docs.
struct GenerationScoring {
  std::vector<CompiledFilterPipeline> pipelines;
  std::vector<bool> can_fall_back;               // per pipeline: it has an extraction that can fail
  std::vector<scorers::ExactMatch> exact_match;  // one per metric (unused by score/corpus metrics)
  explicit GenerationScoring(const TaskSpec& task);
};

// Filters record.generated through every pipeline and scores each extraction: record.extracted and the
// per-doc metrics (corpus metrics are scored at aggregation); counts "[invalid]" fallbacks per filter.
void score_generation(const TaskSpec& task, const GenerationScoring& scoring,
                      const std::vector<std::string>& references, DocRecord& record,
                      std::map<std::string, size_t>& invalid_by_filter);

// Only the filtering of score_generation: record.extracted for every pipeline, no metric (--predict_only).
void extract_answers(const GenerationScoring& scoring, DocRecord& record);

// A task's metrics from its per-doc records (mean and closed-form stderr per metric and filter, in
// the order evaluate_task reports them); `invalid_by_filter` counts "[invalid]" fallbacks per filter.
// evaluate_task and `gemma-eval merge` both use it.
std::vector<MetricValue> aggregate_task_metrics(const TaskSpec& task, const std::vector<DocRecord>& docs,
                                                const std::map<std::string, size_t>& invalid_by_filter = {});

// Metric name -> the reference implementation it follows (MetricSpec::variant), for results.json.
std::map<std::string, std::string> metric_variants(const TaskSpec& task);

// Recomputes every per-doc value of a finished task from its records alone (no model, no dataset): a
// generation's extractions and metrics from `generated` and the references in `target`, a multiple-
// choice doc's metrics from its loglikelihoods. `gemma-eval rescore` uses it after a scorer change.
void rescore_records(const TaskSpec& task, std::vector<DocRecord>& docs,
                     std::map<std::string, size_t>& invalid_by_filter);

// first_prompt_sha256 and all_prompts_sha256 (see TaskResult) of records in doc order.
void fingerprint_records(const std::vector<DocRecord>& docs, TaskResult& result);

// Groups (e.g. mmlu_stem, mmlu): document-weighted means of member metrics with pooled stderr, as
// lm-eval's aggregate_subtask_metrics (weight_by_size) computes them.
std::vector<GroupResult> aggregate_groups(const std::vector<TaskResult>& tasks);

}  // namespace gemma::evals
