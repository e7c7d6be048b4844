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
#include "evals/lm_eval_args.h"
#include "evals/progress.h"
#include "evals/result_cache.h"
#include "evals/task_file.h"
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

bool is_task_file(const std::string& name) {
  const fs::path path(name);
  return (path.extension() == ".yaml" || path.extension() == ".yml") && fs::is_regular_file(path);
}

// --include-path DIR and --task FILE.yaml: lm-eval task files join the task registry (ahead of the
// built-in tasks). A --task that names a file stands for the task or group the file defines.
std::vector<std::string> load_task_files(const RunArgs& args) {
  for (const std::string& dir : args.include_paths) evals::register_task_files(evals::load_task_dir(dir));
  std::vector<std::string> names;
  for (const std::string& name : args.tasks) {
    if (!is_task_file(name)) {
      names.push_back(name);
      continue;
    }
    evals::TaskFileSet set = evals::load_task_file(name);
    names.insert(names.end(), set.roots.begin(), set.roots.end());
    evals::register_task_files(std::move(set));
  }
  return names;
}

// A --tasks entry with *, ? or [ is an fnmatch pattern over every task and group name (lm-eval's
// fnmatch.filter in its TaskManager.match_tasks); the names it matches, in --list-tasks order.
std::vector<std::string> expand_task_patterns(const std::vector<std::string>& entries) {
  std::vector<std::string> names;
  for (const auto& entry : entries) {
    if (!evals::has_wildcard(entry)) {
      names.push_back(entry);
      continue;
    }
    size_t matched = 0;
    for (const auto& name : evals::list_task_names(/*include_groups=*/true))
      if (evals::fnmatch(name, entry)) {
        names.push_back(name);
        ++matched;
      }
    if (matched == 0) fail("--tasks {}: the pattern matches no task or group (gemma-eval --list-tasks)", entry);
  }
  return names;
}

// Every selected task's data (eval split, and shot split when shots are asked for), before the model
// loads: a missing or unreadable file fails the run now, naming the task and the file, instead of after
// the tasks before it have run. Task files check their files' existence; built-in tasks read theirs
// (cheap next to a model run).
void check_task_data(const std::vector<const evals::TaskSpec*>& tasks, const fs::path& data_dir,
                     const evals::EvalOptions& options) {
  for (const evals::TaskSpec* task : tasks) {
    const int shots = options.shots.value_or(task->default_shots);
    if (task->check_data) {
      task->check_data(data_dir, shots);
      continue;
    }
    try {
      task->load_eval(data_dir);
      if (shots > 0 && task->load_fewshot) task->load_fewshot(data_dir);
    } catch (const Error& e) {
      fail("task {}: its data could not be read from --data-dir {}: {}", task->name, data_dir.string(), e.what());
    }
  }
}

std::vector<const evals::TaskSpec*> selected_tasks(const std::vector<std::string>& entries) {
  if (entries.empty()) fail("no task given: use --task NAME (gemma-eval --list-tasks shows them)");
  std::vector<const evals::TaskSpec*> tasks;
  for (const auto& name : expand_task_patterns(entries))
    for (const auto* task : evals::resolve_tasks(name))
      if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) tasks.push_back(task);
  return tasks;
}

// `--tasks list` (lm-eval's spelling): every name with what it is. A group aggregates its members'
// metrics; the built-in registry has no tags (lm-eval's names that only select tasks), so none show here.
evals::EvalOptions eval_options(const RunArgs& args) {
  evals::EvalOptions options;
  if (args.shots >= 0) options.shots = args.shots;
  if (!args.limit.empty()) {
    const evals::DocLimit limit = evals::parse_limit(args.limit);
    if (limit.count) options.limit = *limit.count;
    options.limit_fraction = limit.fraction;
  }
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
  const evals::LmEvalSeeds seeds = evals::parse_seeds(args.seed);
  if (seeds.fewshot) options.fewshot_seed = *seeds.fewshot;
  if (seeds.random) options.limit_seed = *seeds.random;
  if (!args.shard.empty()) options.shard = parse_shard(args.shard);
  options.system_instruction = args.system_instruction;
  options.fewshot_as_multiturn = args.fewshot_as_multiturn;
  if (args.fewshot_as_multiturn && options.profile != evals::Profile::It)
    fail("--fewshot_as_multiturn needs the chat template: add --apply_chat_template (or --profile it), as lm-eval");
  const evals::GenerationOverrides generation = evals::parse_gen_kwargs(args.gen_kwargs);
  options.max_gen_toks = generation.max_gen_toks;
  options.until = generation.until;
  options.predict_only = args.predict_only;
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
  const auto& aliases = evals::loaded_tasks().group_aliases;
  const auto& builtin_aliases = evals::builtin_group_aliases();
  for (auto& group : groups) {
    if (evals::resolve_tasks(group.group).size() != group.tasks.size()) continue;
    if (const auto alias = aliases.find(group.group); alias != aliases.end())
      group.alias = alias->second;
    else if (const auto builtin = builtin_aliases.find(group.group); builtin != builtin_aliases.end())
      group.alias = builtin->second;
    kept.push_back(std::move(group));
  }
  return kept;
}

namespace {

// Opened before the model loads, so a damaged or unwritable cache fails the run at once. A cache folder
// the run creates is recorded in `created` (removed again, when empty, if the run fails).
fs::path cache_dir_of(const RunArgs& args) {
  if (!args.cache_dir.empty()) return args.cache_dir;
  // --output_path P: the cache sits in P itself, shared by the runs of every model written there (entries
  // are keyed by the model's weights), not inside a model's results folder.
  if (!args.output_path.empty()) {
    const fs::path path(args.output_path);
    return (path.extension() == ".json" ? (path.parent_path().empty() ? fs::path(".") : path.parent_path()) : path) /
           "cache";
  }
  return fs::path(args.output) / "cache";
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

// lm-eval's spellings mapped onto this harness's flags: --model_args, --apply_chat_template,
// --predict_only (implies --log_samples, as in lm-eval's cli_evaluate).
RunArgs with_lm_eval_spellings(RunArgs args) {
  if (!args.model_args.empty()) {
    const evals::LmEvalModelArgs model = evals::parse_model_args(args.model_args);
    if (!model.pretrained.empty()) {
      if (!args.model.model.empty() && args.model.model != model.pretrained)
        fail("--model {} and --model_args pretrained={} name different models", args.model.model, model.pretrained);
      args.model.model = model.pretrained;
    }
    if (!model.dtype.empty()) args.model.dtype = model.dtype;
    if (!model.device.empty()) args.model.device = model.device;
    if (model.max_length) args.max_length = *model.max_length;
  }
  if (args.apply_chat_template) {
    if (args.profile != "pt" && args.profile != "it")
      fail("--profile {}: expected pt (raw text prompts) or it (the model's chat template)", args.profile);
    args.profile = "it";
  }
  if (args.predict_only) args.log_samples = true;
  return args;
}

// lm-eval's model_name: the pretrained name as given (a Hub id or a folder), not the resolved path.
std::string model_name_of(const RunArgs& args, const ModelFiles& files) {
  if (!args.model.model.empty()) return args.model.model;
  return files.dir.filename().string().empty() ? "builtin-tiny-gemma3"
                                               : "builtin-tiny/" + files.dir.filename().string();
}

// Where a run's files go. --output: OUTPUT/results.json, results.md, samples_<task>.jsonl (replaced as one
// unit). --output_path P (lm-eval's evaluation_tracker.py save_results_aggregated/save_results_samples):
// P/<model_name_sanitized>/results_<timestamp>.json and samples_<task>_<timestamp>.jsonl, or, when P ends
// in .json, P's folder with <stem>_<timestamp>.json and the samples beside it.
struct OutputPlan {
  fs::path folder;
  bool lm_eval_layout = false;
  std::string results_name;    // lm-eval layout: results_<timestamp>.json or <stem>_<timestamp>.json
  std::string samples_suffix;  // lm-eval layout: "_<timestamp>"
};

OutputPlan plan_output(const RunArgs& args, const std::string& model_name) {
  OutputPlan plan;
  if (args.output_path.empty()) {
    plan.folder = args.output;
    return plan;
  }
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string timestamp =
      evals::file_timestamp(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
  plan.lm_eval_layout = true;
  plan.samples_suffix = "_" + timestamp;
  const fs::path path(args.output_path);
  if (path.extension() == ".json") {
    plan.folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    plan.results_name = path.stem().string() + "_" + timestamp + ".json";
  } else {
    plan.folder = path / evals::sanitize_model_name(model_name);
    plan.results_name = "results_" + timestamp + ".json";
  }
  return plan;
}

// lm-eval's write_out (evaluator.py print_writeout): the first document's prompt of each task.
void print_first_prompts(const evals::TaskResult& task) {
  if (task.docs.empty()) return;
  const evals::DocRecord& doc = task.docs.front();
  const std::vector<std::string> contexts = doc.contexts.empty() ? std::vector<std::string>{doc.prompt} : doc.contexts;
  for (const std::string& context : contexts)
    std::fprintf(stderr,
                 "Task: %s; document %lld; context prompt (starting on next line):\n%s\n(end of prompt on previous "
                 "line)\ntarget string or answer choice index (starting on next line):\n%s\n(end of target on "
                 "previous line)\n",
                 task.task.c_str(), static_cast<long long>(doc.doc_id), context.c_str(), doc.target_text.c_str());
}

// lm-eval's tokenizer_*_token entries: [token text, str(id)].
nlohmann::ordered_json token_pair(const Tokenizer& tokenizer, int id) {
  if (id < 0) return nlohmann::ordered_json::array({nullptr, "None"});
  return nlohmann::ordered_json::array({tokenizer.piece(id), std::to_string(id)});
}

}  // namespace

int run_evaluation(const RunArgs& given_args, const std::string& command_line) {
  const RunArgs args = with_lm_eval_spellings(given_args);
  const std::vector<std::string> task_names = load_task_files(args);
  if (args.list_tasks) {
    for (const auto& name : evals::list_task_names(/*include_groups=*/true)) std::printf("%s\n", name.c_str());
    return 0;
  }
  // lm-eval's --tasks list (list_groups, list_tags, list_subtasks): its tables of groups, tags and tasks.
  if (task_names.size() == 1)
    if (const auto section = task_listing_section(task_names.front())) {
      std::printf("%s", task_listing_text(*section).c_str());
      return 0;
    }
  const std::optional<int> batch_size = evals::parse_batch_size(args.batch_size);
  const double start_time = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  const double start_date = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto tasks = selected_tasks(task_names);
  auto options = eval_options(args);
  for (const auto* task : tasks) evals::require_code_execution_allowed(*task, args.allow_code_execution);
  fs::path data_dir = data_dir_of(args);
  check_task_data(tasks, data_dir, options);

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

  const std::string model_name = model_name_of(args, files);
  const OutputPlan output = plan_output(args, model_name);
  CreatedFolders created_folders;  // output and cache folders: removed again, if still empty, when the run fails
  prepare_output_dir(output.folder, created_folders);
  const bool cache_existed = !args.no_cache && fs::exists(cache_dir_of(args) / evals::ResultCache::kFileName);
  std::unique_ptr<evals::ResultCache> cache = open_cache(args, created_folders);
  NewCacheCleanup cache_cleanup(cache, cache_existed);
  auto model = Gemma3TextModel::load(files.config, checkpoint, placement);
  evals::ModelEngineOptions engine_options;
  // --batch_size auto: scoring keeps the default 4 prompts per pass (nothing here measures a larger one
  // safe), and generation batches are sized from memory (--generation-batch-size 0).
  engine_options.batch_size = batch_size.value_or(4);
  engine_options.prefix_sharing = !args.no_prefix_sharing;
  engine_options.prefix_cache_mb = args.prefix_cache_mb;
  engine_options.generation_width = batch_size ? args.generation_batch_size : 0;
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
    if (args.write_out) print_first_prompts(run.tasks.back());
  }
  run.groups = complete_groups(evals::aggregate_groups(run.tasks));
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  run.config = {
      // lm-eval's model type, a string (reports::kLmEvalModelType says why "gemma-eval"); the model as loaded
      // is model_details.
      {"model", reports::kLmEvalModelType},
      {"model_details", description},
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
      {"limit", options.limit_fraction ? nlohmann::json(*options.limit_fraction)
                : options.limit        ? nlohmann::json(*options.limit)
                                       : nlohmann::json(nullptr)},
      {"limit_mode", args.limit_mode},
      {"fewshot_seed", options.fewshot_seed},
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
  if (!args.run_name.empty()) run.config["run_name"] = args.run_name;
  if (args.predict_only) run.config["predict_only"] = true;
  // lm-eval's config keys (evaluator.py simple_evaluate), beside this harness's own.
  const evals::LmEvalSeeds seeds = evals::parse_seeds(args.seed);
  auto seed_json = [](const std::optional<uint64_t>& seed) {
    return seed ? nlohmann::ordered_json(*seed) : nlohmann::ordered_json(nullptr);
  };
  // lm-eval's model_num_parameters, model_dtype, model_revision and model_sha (hf model's info): the
  // checkpoint's tensor count, the compute dtype; no Hub revision or commit is known for a local folder.
  int64_t parameters = 0;
  for (const std::string& name : checkpoint.tensor_names()) parameters += checkpoint.find(name)->numel();
  run.config["model_num_parameters"] = parameters;
  run.config["model_dtype"] = "torch." + description.value("dtype", std::string("float32"));
  run.config["model_revision"] = nullptr;
  run.config["model_sha"] = nullptr;
  // lm-eval's model_args: as given on the command line, else lm-eval's string form of what was loaded.
  run.config["model_args"] = args.model_args.empty() ? fmt::format("pretrained={},dtype={},device={}", model_name,
                                                                   description.value("dtype", std::string("float32")),
                                                                   description.value("device", std::string("cpu")))
                                                     : args.model_args;
  run.config["batch_size"] = args.batch_size;
  run.config["batch_sizes"] = nlohmann::ordered_json::array();
  run.config["device"] = args.model.device;
  run.config["use_cache"] =
      args.no_cache ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(cache_dir_of(args).string());
  run.config["bootstrap_iters"] = 0;  // stderr here is lm-eval's closed form; no bootstrap
  run.config["gen_kwargs"] =
      args.gen_kwargs.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(args.gen_kwargs);
  run.config["random_seed"] = seed_json(seeds.random);
  run.config["numpy_seed"] = seed_json(seeds.numpy);
  run.config["torch_seed"] = seed_json(seeds.torch);
  // lm-eval's chat_template: the template text a chat run's prompts followed (null for raw prompts and
  // for the built-in Gemma 3 template, which has no text of its own here).
  const std::string chat_template_source = chat_template.is_builtin() ? "" : chat_template.source();
  const double end_time = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  const SpecialTokens& special = files.tokenizer->special();
  run.lm_eval = {
      {"date", start_date},
      {"pretty_env_info", fmt::format("gemma-eval {} ({}), LibTorch CPU kernels: {}", GEMMA_EVAL_VERSION,
                                      GEMMA_EVAL_GIT_HASH, aten_cpu_capability_in_effect())},
      {"transformers_version", "none (gemma-eval: C++ and LibTorch, no transformers)"},
      {"upper_git_hash", nullptr},
      {"tokenizer_pad_token", token_pair(*files.tokenizer, special.pad)},
      {"tokenizer_eos_token", token_pair(*files.tokenizer, special.eos)},
      {"tokenizer_bos_token", token_pair(*files.tokenizer, special.bos)},
      {"eot_token_id", special.eos >= 0 ? nlohmann::ordered_json(special.eos) : nlohmann::ordered_json(nullptr)},
      {"max_length", description.contains("max_length") ? description["max_length"] : nlohmann::json(nullptr)},
      {"model_source", "gemma-eval"},
      {"model_name", model_name},
      {"model_name_sanitized", evals::sanitize_model_name(model_name)},
      {"system_instruction", args.system_instruction.empty() ? nlohmann::ordered_json(nullptr)
                                                             : nlohmann::ordered_json(args.system_instruction)},
      {"system_instruction_sha", args.system_instruction.empty()
                                     ? nlohmann::ordered_json(nullptr)
                                     : nlohmann::ordered_json(sha256_hex(args.system_instruction))},
      {"fewshot_as_multiturn", args.fewshot_as_multiturn},
      {"chat_template",
       chat_template_source.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(chat_template_source)},
      {"chat_template_sha", chat_template_source.empty() ? nlohmann::ordered_json(nullptr)
                                                         : nlohmann::ordered_json(sha256_hex(chat_template_source))},
      {"start_time", start_time},
      {"end_time", end_time},
      // lm-eval writes str(end_time - start_time): a string.
      {"total_evaluation_time_seconds", fmt::format("{}", end_time - start_time)}};

  const std::string truncated = reports::truncation_note(run);
  if (!truncated.empty()) std::fprintf(stderr, "gemma-eval: warning: %s\n", truncated.c_str());
  // A shard's samples are what `gemma-eval merge` recombines: always written.
  const bool log_samples = args.log_samples || options.shard.has_value();
  fs::path results_file = output.folder / "results.json";
  if (output.lm_eval_layout) {
    results_file = output.folder / output.results_name;
    reports::write_lm_eval_outputs(run, output.folder, output.results_name, output.samples_suffix, log_samples);
  } else {
    reports::write_run_outputs(run, output.folder, log_samples);
  }
  created_folders.keep();
  cache_cleanup.keep();
  if (args.show_config)
    std::printf(
        "%s\n",
        reports::results_json(run).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
  std::printf("%s\n", reports::results_table(run).c_str());
  std::string card = reports::model_card_table(run, reports::model_size_of(files.config));
  if (!card.empty()) std::printf("%s\n", card.c_str());
  if (caching) {
    const auto& stats = caching->stats();
    std::fprintf(stderr, "gemma-eval: result cache %s: reused %zu of %zu results, computed %zu%s\n",
                 cache->path().c_str(), stats.hits, stats.hits + stats.misses, stats.misses,
                 cache->rejected() ? fmt::format(" ({} damaged entries ignored)", cache->rejected()).c_str() : "");
  }
  std::fprintf(stderr, "gemma-eval: %zu task(s) in %.1f s, %zu tokens through the model; wrote %s\n", run.tasks.size(),
               run.seconds, engine.counters().forward_tokens, results_file.c_str());
  return 0;
}

}  // namespace gemma::cli
