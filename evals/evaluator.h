#pragma once
// The generic evaluator: for one TaskSpec, load docs, pick shots (lm-eval's sampler, bit for bit),
// render prompts, send requests to an Engine, filter and score the responses, aggregate. Torch-free.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <utility>
#include <optional>
#include <string>
#include <vector>

#include "evals/engine.h"
#include "evals/results.h"
#include "evals/task.h"

namespace gemma::evals {

enum class Profile { Pt, It };        // pt: raw text prompts; it: the Gemma 3 chat template (model/chat_template.h)
enum class LimitMode { First, Random };

struct EvalOptions {
  std::optional<int> shots;           // none = the task's default (the model card's)
  uint64_t fewshot_seed = 1234;       // lm-eval's fewshot_random_seed
  uint64_t limit_seed = 0;            // LimitMode::Random draws with this seed
  std::optional<size_t> limit;        // evaluate this many docs
  LimitMode limit_mode = LimitMode::First;
  Profile profile = Profile::Pt;
  bool keep_doc_records = true;       // samples.jsonl needs them; aggregation always uses them
  // --shard K/N: evaluate only the docs at positions i of the selection (after --limit) with
  // i % N == K. Shots are still drawn for every selected doc in order, so each doc gets the same
  // shots as in the unsharded run; `gemma-eval merge` recombines the shards.
  std::optional<std::pair<int, int>> shard;
  // Multimodal tasks: every image a selected doc names is checked with this before the engine runs
  // (it throws gemma::Error for a missing, truncated or undecodable file). A bad image stops the task
  // naming the file and the doc, or with skip_bad_samples leaves the doc out (TaskResult::skipped_docs).
  std::function<void(const std::string& path)> check_image;
  bool skip_bad_samples = false;
  // Tasks scored by running model-written code (TaskSpec::executes_code) are refused without it.
  bool allow_code_execution = false;
};

// Errors for a task that runs model-written code (TaskSpec::executes_code) unless `allowed`.
void require_code_execution_allowed(const TaskSpec& task, bool allowed);

TaskResult evaluate_task(const TaskSpec& task, const std::filesystem::path& data_dir, Engine& engine,
                         const EvalOptions& options, EngineProgress* progress = nullptr);

// The metric row reported beside a generation task's metrics for each filter pipeline that can fail
// to extract an answer: the share of docs whose extraction fell back to "[invalid]".
inline constexpr const char* kInvalidRate = "invalid_rate";

// A task's metrics from its per-doc records (mean and closed-form stderr per metric and filter, in
// the order evaluate_task reports them); `invalid_by_filter` counts "[invalid]" fallbacks per filter.
// evaluate_task and `gemma-eval merge` both use it.
std::vector<MetricValue> aggregate_task_metrics(const TaskSpec& task, const std::vector<DocRecord>& docs,
                                                const std::map<std::string, size_t>& invalid_by_filter = {});

// first_prompt_sha256 and all_prompts_sha256 (see TaskResult) of records in doc order.
// Metric name -> the reference implementation it follows (MetricSpec::variant), for results.json.
std::map<std::string, std::string> metric_variants(const TaskSpec& task);

// Recomputes every per-doc value of a finished task from its records alone (no model, no dataset): a
// generation's extractions and metrics from `generated` and the references in `target`, a multiple-
// choice doc's metrics from its loglikelihoods. `gemma-eval rescore` uses it after a scorer change.
void rescore_records(const TaskSpec& task, std::vector<DocRecord>& docs, std::map<std::string, size_t>& invalid_by_filter);

void fingerprint_records(const std::vector<DocRecord>& docs, TaskResult& result);

// Groups (e.g. mmlu_stem, mmlu): document-weighted means of member metrics with pooled stderr (lm-eval
// lm_eval/api/metrics.py@4e7e0d47).
std::vector<GroupResult> aggregate_groups(const std::vector<TaskResult>& tasks);

}  // namespace gemma::evals
