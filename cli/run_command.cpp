// gemma-eval [run]: evaluate tasks on a model and write results.json, results.md (and samples).
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "build_info.h"
#include "cli/commands.h"
#include "cli/integer_flags.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "engine/direct_runs.h"
#include "engine/model_engine.h"
#include "evals/caching_engine.h"
#include "evals/evaluator.h"
#include "evals/progress.h"
#include "evals/result_cache.h"
#include "evals/task_registry.h"
#include "model/chat_template.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "model/gemma3.h"
#include "model/image_decode.h"
#include "model/image_processor.h"
#include "model/model_files.h"
#include "model/siglip.h"
#include "model/weight_layout.h"
#include "reports/markdown.h"
#include "reports/model_card.h"
#include "reports/results_json.h"

namespace gemma::cli {
namespace fs = std::filesystem;
namespace {

std::vector<const evals::TaskSpec*> selected_tasks(const std::vector<std::string>& names) {
  if (names.empty()) fail("no task given: use --task NAME (gemma-eval --list-tasks shows them)");
  std::vector<const evals::TaskSpec*> tasks;
  for (const auto& name : names)
    for (const auto* task : evals::resolve_tasks(name))
      if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) tasks.push_back(task);
  return tasks;
}

evals::EvalOptions eval_options(const RunArgs& args) {
  evals::EvalOptions options;
  if (args.shots >= 0) options.shots = args.shots;
  if (args.limit >= 0) options.limit = static_cast<size_t>(args.limit);
  if (args.limit_mode == "first")
    options.limit_mode = evals::LimitMode::First;
  else if (args.limit_mode == "random")
    options.limit_mode = evals::LimitMode::Random;
  else
    fail("--limit-mode {}: expected first or random", args.limit_mode);
  if (args.profile == "pt")
    options.profile = evals::Profile::Pt;
  else if (args.profile == "it")
    options.profile = evals::Profile::It;
  else
    fail("--profile {}: expected pt (raw text prompts) or it (the model's chat template)", args.profile);
  options.fewshot_seed = args.seed;
  if (!args.shard.empty()) options.shard = parse_shard(args.shard);
  return options;
}

fs::path data_dir_of(const RunArgs& args) {
  fs::path dir =
      args.data_dir.empty() ? fs::path(GEMMA_EVAL_SOURCE_DIR) / "datasets" / "samples" : fs::path(args.data_dir);
  if (!fs::is_directory(dir)) fail("--data-dir {}: no such folder", dir.string());
  return dir;
}

// Fails before any model time is spent if results could not be written there. The folders it creates
// are recorded in `created`, which removes them again if the run fails before keep().
void prepare_output_dir(const fs::path& dir, CreatedFolders& created) {
  std::error_code ec;
  created.create(dir, ec);
  if (ec || !fs::is_directory(dir))
    fail("--output {}: cannot create the folder ({})", dir.string(), ec ? ec.message() : "a file is in the way");
  fs::path probe = dir / ".gemma-eval-write-test";
  if (std::FILE* f = std::fopen(probe.c_str(), "wb")) {
    std::fclose(f);
    fs::remove(probe, ec);
  } else {
    fail("--output {}: the folder is not writable", dir.string());
  }
}

// lm-eval reports a group only when it was asked for (directly or as part of a larger group), i.e.
// when every member task ran: `--task mmlu_anatomy` shows no mmlu row.
}  // namespace

std::vector<evals::GroupResult> complete_groups(std::vector<evals::GroupResult> groups) {
  std::vector<evals::GroupResult> kept;
  for (auto& group : groups)
    if (evals::resolve_tasks(group.group).size() == group.tasks.size()) kept.push_back(std::move(group));
  return kept;
}

namespace {

// Opened before the model loads, so a damaged or unwritable cache fails the run at once. A cache folder
// the run creates is recorded in `created` (removed again, when empty, if the run fails).
fs::path cache_dir_of(const RunArgs& args) {
  return args.cache_dir.empty() ? fs::path(args.output) / "cache" : fs::path(args.cache_dir);
}

std::unique_ptr<evals::ResultCache> open_cache(const RunArgs& args, CreatedFolders& created) {
  if (args.no_cache) return nullptr;
  const fs::path dir = cache_dir_of(args);
  std::error_code ec;
  created.create(dir, ec);  // a failure is reported by ResultCache, which tries again
  return std::make_unique<evals::ResultCache>(dir);
}

// A cache file this run created is deleted again if the run fails before storing any result in it (it
// failed on its inputs: a bad data file, image or task), so such a run leaves no cache behind. A cache
// holding results is kept whatever happens: a rerun resumes from it.
class NewCacheCleanup {
 public:
  NewCacheCleanup(std::unique_ptr<evals::ResultCache>& cache, bool existed) : cache_(cache), existed_(existed) {}
  NewCacheCleanup(const NewCacheCleanup&) = delete;
  NewCacheCleanup& operator=(const NewCacheCleanup&) = delete;
  void keep() { keep_ = true; }
  ~NewCacheCleanup() {
    if (keep_ || existed_ || !cache_) return;
    try {
      if (cache_->size() != 0) return;  // another process may share it
    } catch (const std::exception&) {
      return;  // unreadable: leave it for the user to see
    }
    const std::string path = cache_->path().string();
    cache_.reset();  // closes it first
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((path + suffix).c_str());
  }

 private:
  std::unique_ptr<evals::ResultCache>& cache_;
  bool existed_;
  bool keep_ = false;
};

// Whose results a cache entry holds: the model as the engine describes it, its config.json (which the
// weights fingerprint does not cover) and this build's version (see evals/caching_engine.h).
std::string cache_identity(const nlohmann::json& description, const ModelFiles& files) {
  auto identity = evals::CacheIdentity::from_description(description);
  identity.config_sha256 = sha256_hex(read_file(follow_link_stub(files.dir / "config.json")));
  return identity.canonical();
}

nlohmann::ordered_json cache_report(const evals::ResultCache* cache, const evals::CachingEngine* caching) {
  if (!cache) return {{"enabled", false}};
  return {{"enabled", true},
          {"path", fs::absolute(cache->path()).string()},
          {"hits", caching->stats().hits},
          {"misses", caching->stats().misses},
          {"stored", caching->stats().stored},
          {"damaged_entries_ignored", cache->rejected()},
          {"key",
           "weights fingerprint, tokenizer and config.json sha256, dtype, device kind, max_length, "
           "gemma-eval version and git hash, request strings (not batch size or prefix sharing)"}};
}

}  // namespace

int run_evaluation(const RunArgs& args, const std::string& command_line) {
  if (args.list_tasks) {
    for (const auto& name : evals::list_task_names(/*include_groups=*/true)) std::printf("%s\n", name.c_str());
    return 0;
  }
  auto tasks = selected_tasks(args.tasks);
  auto options = eval_options(args);
  for (const auto* task : tasks) evals::require_code_execution_allowed(*task, args.allow_code_execution);
  fs::path data_dir = data_dir_of(args);

  // Everything cheap to check (flags, model files, config, tokenizer, safetensors headers and shapes)
  // is checked before the output folder or the cache is created: a bad input leaves nothing behind.
  ModelFiles files = open_model_files(args.model.model);
  if (files.builtin_tiny)
    std::fprintf(stderr,
                 "gemma-eval: no --model given: evaluating the built-in tiny random-weight Gemma 3%s. Its scores are "
                 "chance-level; they show the pipeline, not a model. For real numbers: --model ~/models/gemma-3-4b-pt "
                 "(a Hugging Face checkpoint folder) or --model google/gemma-3-4b-pt (from the local HF cache)%s.\n",
                 args.data_dir.empty() ? " on the bundled data samples" : "",
                 args.data_dir.empty() ? ", and --data-dir with the full datasets" : "");
  else if (args.data_dir.empty())
    std::fprintf(stderr,
                 "gemma-eval: no --data-dir given: evaluating on the small bundled data samples "
                 "(datasets/samples), not the full benchmarks.\n");
  // --profile it renders with the model folder's own chat template (a fine-tune may change it), the
  // built-in Gemma 3 one when the folder has none; a template that does not parse fails here.
  const ChatTemplate chat_template =
      options.profile == evals::Profile::It ? ChatTemplate::from_model_dir(files.dir) : ChatTemplate::builtin();
  if (!chat_template.is_builtin()) options.chat_renderer = chat_template.renderer();
  apply_threads(args.model.threads);
  Placement placement = parse_placement(args.model.device, args.model.dtype, files.config.torch_dtype);
  announce_dtype(placement);
  const Checkpoint checkpoint = Checkpoint::open(files.dir);
  check_text_tensors(files.config, checkpoint);
  split_layers(files.config.text.num_layers, placement.num_stages());

  CreatedFolders created_folders;  // output and cache folders: removed again, if still empty, when the run fails
  prepare_output_dir(args.output, created_folders);
  const bool cache_existed = !args.no_cache && fs::exists(cache_dir_of(args) / evals::ResultCache::kFileName);
  std::unique_ptr<evals::ResultCache> cache = open_cache(args, created_folders);
  NewCacheCleanup cache_cleanup(cache, cache_existed);
  auto model = Gemma3TextModel::load(files.config, checkpoint, placement);
  evals::ModelEngineOptions engine_options;
  engine_options.batch_size = args.batch_size;
  engine_options.prefix_sharing = !args.no_prefix_sharing;
  engine_options.prefix_cache_mb = args.prefix_cache_mb;
  engine_options.generation_width = args.generation_batch_size;
  engine_options.max_length = args.max_length;
  // Image tasks: the vision tower, and every image checked before the model runs.
  const bool image_tasks =
      std::any_of(tasks.begin(), tasks.end(), [](const evals::TaskSpec* t) { return bool(t->doc_to_images); });
  evals::Vision vision;
  if (image_tasks) {
    vision = evals::load_vision(files, *model, args.pan_and_scan);
    engine_options.vision = vision.tower.get();
    engine_options.image_config = vision.processor.get();
    options.check_image = [](const std::string& path) { decode_image_file(path); };
  }
  options.skip_bad_samples = args.skip_bad_samples;
  options.allow_code_execution = args.allow_code_execution;
  evals::ModelEngine engine(*model, files, engine_options);
  const nlohmann::json description = nlohmann::json::parse(engine.describe_json());
  std::unique_ptr<evals::CachingEngine> caching;
  if (cache) caching = std::make_unique<evals::CachingEngine>(engine, *cache, cache_identity(description, files));
  evals::Engine& answering = caching ? static_cast<evals::Engine&>(*caching) : engine;

  auto started = std::chrono::steady_clock::now();
  evals::RunResult run;
  for (const auto* task : tasks) {
    std::unique_ptr<evals::ProgressBar> progress;
    if (!args.no_progress) progress = std::make_unique<evals::ProgressBar>(task->name);
    run.tasks.push_back(evals::evaluate_task(*task, data_dir, answering, options, progress.get()));
  }
  run.groups = complete_groups(evals::aggregate_groups(run.tasks));
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  run.config = {
      {"model", description},
      {"model_size", reports::model_size_of(files.config)},
      {"profile", args.profile},
      // Which chat template rendered the prompts (--profile it): its origin ("builtin" or the file) and the
      // SHA-256 of its text (null for the built-in one); null for --profile pt.
      {"chat_template",
       options.profile == evals::Profile::It
           ? nlohmann::json({{"origin", chat_template.origin()},
                             {"sha256", chat_template.is_builtin() ? nlohmann::json(nullptr)
                                                                   : nlohmann::json(chat_template.fingerprint())}})
           : nlohmann::json(nullptr)},
      {"data_dir", data_dir.string()},
      {"shots", args.shots >= 0 ? nlohmann::json(args.shots) : nlohmann::json("task default")},
      {"limit", args.limit >= 0 ? nlohmann::json(args.limit) : nlohmann::json(nullptr)},
      {"limit_mode", args.limit_mode},
      {"fewshot_seed", args.seed},
      {"shard", options.shard ? nlohmann::json({{"index", options.shard->first}, {"count", options.shard->second}})
                              : nlohmann::json(nullptr)},
      {"engine",
       {{"forward_tokens", engine.counters().forward_tokens},
        {"forward_passes", engine.counters().forward_passes},
        {"generated_tokens", engine.counters().generated_tokens},
        {"prefix_cache_tokens", engine.counters().prefix_cache_tokens},
        {"generation_batch_size", engine.counters().generation_width},
        {"truncated_requests", engine.counters().truncated},
        // How this process ran, beside config.model's dtype_reason; an object, so that `merge`,
        // which adds up the counters above, leaves it alone.
        {"cpu",
         {{"threads", thread_choice().threads},
          {"threads_reason", thread_choice().reason},
          {"aten_cpu_capability", aten_cpu_capability_in_effect()},
          {"aten_cpu_capability_reason", aten_cpu_capability_reason()}}}}},
      {"cache", cache_report(cache.get(), caching.get())},
      {"command", command_line},
      {"run_id", reports::new_run_id()},  // also in every samples line: see reports::RunIdentity
      {"gemma_eval_version", GEMMA_EVAL_VERSION},
      {"git_hash", GEMMA_EVAL_GIT_HASH},
      {"date", now_utc()}};

  const std::string truncated = reports::truncation_note(run);
  if (!truncated.empty()) std::fprintf(stderr, "gemma-eval: warning: %s\n", truncated.c_str());
  // A shard's samples are what `gemma-eval merge` recombines: always written.
  reports::write_run_outputs(run, args.output, args.log_samples || options.shard.has_value());
  created_folders.keep();
  cache_cleanup.keep();
  std::printf("%s\n", reports::results_table(run).c_str());
  std::string card = reports::model_card_table(run, reports::model_size_of(files.config));
  if (!card.empty()) std::printf("%s\n", card.c_str());
  if (caching) {
    const auto& stats = caching->stats();
    std::fprintf(stderr, "gemma-eval: result cache %s: reused %zu of %zu results, computed %zu%s\n",
                 cache->path().c_str(), stats.hits, stats.hits + stats.misses, stats.misses,
                 cache->rejected() ? fmt::format(" ({} damaged entries ignored)", cache->rejected()).c_str() : "");
  }
  std::fprintf(stderr, "gemma-eval: %zu task(s) in %.1f s, %zu tokens through the model; wrote %s/results.json\n",
               run.tasks.size(), run.seconds, engine.counters().forward_tokens, args.output.c_str());
  return 0;
}

}  // namespace gemma::cli
