#pragma once
// The generic evaluator: for one TaskSpec, load docs, pick shots (lm-eval's sampler, bit for bit),
// render prompts, send requests to an Engine, then score and aggregate the answers with
// evals/aggregation.h (which `rescore` and `merge` use without a model). Torch-free.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "evals/aggregation.h"
#include "evals/engine.h"
#include "evals/results.h"
#include "evals/task.h"
#include "model/chat_template.h"

namespace gemma::evals {

enum class Profile { Pt, It };  // pt: raw text prompts; it: the Gemma 3 chat template (model/chat_template.h)
enum class LimitMode { First, Random };

struct EvalOptions {
  std::optional<int> shots;      // none = the task's default (the model card's)
  uint64_t fewshot_seed = 1234;  // lm-eval's fewshot_random_seed
  uint64_t limit_seed = 0;       // LimitMode::Random draws with this seed
  std::optional<size_t> limit;   // evaluate this many docs
  // lm-eval's --limit below 1.0: this share of each task's docs, rounded up (overrides `limit`).
  std::optional<double> limit_fraction;
  LimitMode limit_mode = LimitMode::First;
  Profile profile = Profile::Pt;
  // Profile::It renders through this: the model folder's chat template (ChatTemplate::renderer()); empty =
  // the built-in Gemma 3 render_chat.
  ChatRenderer chat_renderer;
  // lm-eval's --system_instruction: a system message before the task's description (evals/prompt.h).
  std::string system_instruction;
  // lm-eval's --fewshot_as_multiturn: under the chat template each shot stays a user/assistant turn pair
  // instead of all shots collapsing into one user turn. Profile::It only.
  bool fewshot_as_multiturn = false;
  // lm-eval's --gen_kwargs: generation tasks' max_gen_toks and stop strings replaced when set.
  std::optional<int> max_gen_toks;
  std::optional<std::vector<std::string>> until;
  // lm-eval's --predict_only: answers are produced (and filtered) but no metric is computed.
  bool predict_only = false;
  bool keep_doc_records = true;  // samples.jsonl needs them; aggregation always uses them
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

TaskResult evaluate_task(const TaskSpec& task, const std::filesystem::path& data_dir, Engine& engine,
                         const EvalOptions& options, EngineProgress* progress = nullptr);

}  // namespace gemma::evals
