#pragma once
// The generic evaluator: for one TaskSpec, load docs, pick shots (lm-eval's sampler, bit for bit),
// render prompts, send requests to an Engine, filter and score the responses, aggregate. Torch-free.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "evals/engine.h"
#include "evals/results.h"
#include "evals/task.h"

namespace gemma::evals {

enum class Profile { Pt, It };        // pt: raw text prompts; it: the Gemma 3 chat template (§7.5)
enum class LimitMode { First, Random };

struct EvalOptions {
  std::optional<int> shots;           // none = the task's default (the model card's)
  uint64_t fewshot_seed = 1234;       // lm-eval's fewshot_random_seed
  uint64_t limit_seed = 0;            // LimitMode::Random draws with this seed
  std::optional<size_t> limit;        // evaluate this many docs
  LimitMode limit_mode = LimitMode::First;
  Profile profile = Profile::Pt;
  bool keep_doc_records = true;       // samples.jsonl needs them; aggregation always uses them
};

TaskResult evaluate_task(const TaskSpec& task, const std::filesystem::path& data_dir, Engine& engine,
                         const EvalOptions& options, EngineProgress* progress = nullptr);

// Groups (e.g. mmlu_stem, mmlu): document-weighted means of member metrics with pooled stderr (§2.7).
std::vector<GroupResult> aggregate_groups(const std::vector<TaskResult>& tasks);

}  // namespace gemma::evals
