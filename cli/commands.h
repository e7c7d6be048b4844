#pragma once
// The subcommands of the one gemma-eval binary. main.cpp only parses flags (CLI11) and dispatches;
// each run_* function does the work and throws gemma::Error with a message for the user.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evals/results.h"
#include "evals/task.h"

namespace CLI {
class App;
}
namespace gemma {
class Gemma3TextModel;
struct ModelFiles;
struct Placement;
}  // namespace gemma

namespace gemma::cli {

struct ModelFlags {
  std::string model;  // checkpoint dir or Hub id; empty = built-in tiny model
  std::string device = "cpu";
  std::string dtype = "auto";
  int threads = 0;  // 0 = OMP_NUM_THREADS if set, else every usable core (model/device.h apply_threads)
};
void add_model_flags(CLI::App& command, ModelFlags& flags, bool with_placement = true);
// One stderr line: the compute dtype and why (--dtype auto's choice). model_commands.cpp.
void announce_dtype(const Placement& placement);

struct LogitsArgs {
  ModelFlags model;
  std::string input;
  std::string output;
};
int run_logits(const LogitsArgs& args);

struct GenerateArgs {
  ModelFlags model;
  std::string prompt;
  std::vector<std::string> images;  // --image, in order; placed before the text (or at <start_of_image> markers)
  bool pan_and_scan = false;
  bool chat = false;
  int max_new_tokens = 64;
  bool print_ids = false;
  bool ignore_eos = false;
};
int run_generate(const GenerateArgs& args);

struct TokenizeArgs {
  ModelFlags model;
  std::string text;
  std::string text_file;  // --text-file: the text's file ("-": stdin), instead of --text
  bool bos = false;
};
int run_tokenize(const TokenizeArgs& args);

// gemma-eval validate FILE...: reads lm-eval task files as a run would (includes, keys, templates,
// metrics), without a model; with --data-dir also checks that their data files exist.
struct ValidateArgs {
  std::vector<std::string> files;
  std::string data_dir;
};
int run_validate(const ValidateArgs& args);

// gemma-eval ls tasks|groups|tags|subtasks [--include-path DIR]: lm-eval's task listing (cli/list_command.cpp).
struct LsArgs {
  std::string what;
  std::vector<std::string> include_paths;
};
int run_ls(const LsArgs& args);
// lm-eval's --tasks list, list_groups, list_tags, list_subtasks: the section of the listing it asks for
// ("all", "groups", "tags", "subtasks"); nullopt for any other --tasks argument.
std::optional<std::string> task_listing_section(const std::string& tasks_argument);
// The listing's text: lm-eval's Group, Tag and Task tables, or the one `section` names.
std::string task_listing_text(const std::string& section);

// The main job: gemma-eval [run] --task mmlu --shots 5 ...
struct RunArgs {
  ModelFlags model;
  std::vector<std::string> tasks;          // task or group names, or task files (--task, --tasks a,b,c,x.yaml)
  std::vector<std::string> include_paths;  // --include-path DIR: every lm-eval task file (*.yaml) under DIR
  int shots = -1;                          // -1 = each task's model-card default
  std::string limit;                       // empty = all docs; N, or (lm-eval) a fraction below 1.0
  std::string limit_mode = "first";
  // One seed for all four, or lm-eval's random,numpy,torch,fewshot (evals/lm_eval_args.h); lm-eval's default.
  std::string seed = "0,1234,1234,1234";
  std::string batch_size = "4";  // N or auto
  std::string output = "gemma-eval-results";
  std::string output_path;  // lm-eval's --output_path: PATH/<model_name_sanitized>/results_<timestamp>.json
  std::string run_name;     // --run-name: a label shown with the model name in tables, history, compare
  bool log_samples = false;
  std::string profile = "pt";
  // lm-eval's spellings (evals/lm_eval_args.h): --model_args, --gen_kwargs, --apply_chat_template, ...
  std::string model_args;
  std::string gen_kwargs;
  bool apply_chat_template = false;
  bool fewshot_as_multiturn = false;
  std::string system_instruction;
  bool write_out = false;     // print each task's first prompt
  bool show_config = false;   // print results.json when done
  bool predict_only = false;  // generate (and filter) without scoring; implies --log-samples
  std::string data_dir;       // empty = the bundled samples (datasets/samples)
  bool list_tasks = false;
  bool no_progress = false;
  bool no_prefix_sharing = false;
  long prefix_cache_mb = 1024;    // cross-document prefix cache; 0 = off
  int generation_batch_size = 0;  // sequences decoded together; 0 = chosen from memory
  int max_length = 0;
  std::string cache_dir;              // the result cache's folder; empty = OUTPUT/cache
  bool no_cache = false;              // neither read nor write the result cache
  std::string shard;                  // "K/N": evaluate only shard K of N (see `merge`)
  bool skip_bad_samples = false;      // leave out (and count) docs whose image cannot be read
  bool allow_code_execution = false;  // HumanEval, MBPP: run the model's programs (sandboxed)
  bool pan_and_scan = false;          // Gemma3ImageProcessor's pan-and-scan crops for image tasks
};
int run_evaluation(const RunArgs& args, const std::string& command_line);

// gemma-eval merge SHARD_DIR... --output DIR: one run's outputs from its --shard K/N runs.
struct MergeArgs {
  std::vector<std::string> shard_dirs;
  std::string output;
  bool log_samples = false;
  std::vector<std::string> include_paths;  // task files the run read (--include-path DIR or FILE.yaml)
};
int run_merge(const MergeArgs& args, const std::string& command_line);

// gemma-eval rescore RUN_DIR: every metric recomputed from the run's samples (rescore_command.cpp).
struct RescoreArgs {
  std::string run_dir;
  std::string output;  // empty: rewrite RUN_DIR's results.json, results.md and samples in place
  bool allow_code_execution = false;
  std::vector<std::string> include_paths;  // task files the run read (--include-path DIR or FILE.yaml)
};
int run_rescore(const RescoreArgs& args, const std::string& command_line);

// rescore and merge: the task files a run read, so its task-file tasks resolve by name again. Each path is
// a folder (every *.yaml under it, as run --include-path) or one task file (as run --task FILE.yaml).
// Defined in rescore_command.cpp.
void register_task_file_paths(const std::vector<std::string>& paths);
// The one task a finished run records as `name`; `command` ("rescore", "merge") names the caller in the
// error, which for an unknown name points at --include-path (a task-file task needs its file again).
const evals::TaskSpec& recorded_task(const std::string& name, const std::string& command);

// The groups whose every member task ran (lm-eval reports only those); run_command.cpp.
std::vector<evals::GroupResult> complete_groups(std::vector<evals::GroupResult> groups);

struct ScoreArgs {
  std::string metric;
  std::string predictions;
  std::string references;
  std::string filter;  // a task's answer extraction applied first (evals/offline_scoring.h)
  bool allow_code_execution = false;
};
int run_score(const ScoreArgs& args);

// gemma-eval bench: GEMM rate, bandwidth, prefill and decode tok/s against their bounds (bench_command.cpp).
struct BenchArgs {
  ModelFlags model;           // --model DIR: a checkpoint; empty: random weights shaped as --preset
  std::string preset;         // empty = 1b
  int prompt_tokens = 512;    // -p
  int decode_tokens = 16;     // -n: 16 keeps the default 1B run near 2 minutes on 2 cores
  std::string batch = "1,8";  // decode widths
  int repetitions = 3;
  std::string format = "md";  // md | json
};
CLI::App* add_bench_command(CLI::App& app, BenchArgs& args);
int run_bench(const BenchArgs& args);

// gemma-eval compare BASE NEW: exit 1 when a row regressed (reports/compare.h).
struct CompareArgs {
  std::string base, candidate;  // results.json files or their run folders
  double alpha = 0.05;
  double min_delta = 0.0;
  bool fail_on_incomparable = false;
};
int run_compare(const CompareArgs& args);

// gemma-eval history add RUN_DIR | history show [--task T] (reports/history.h).
struct HistoryArgs {
  std::string db = "gemma-eval-history.sqlite";
  std::string run_dir;  // add
  std::string task;     // show
  size_t last = 10;     // show: the most recent runs, 0 = all
};
int run_history_add(const HistoryArgs& args);
int run_history_show(const HistoryArgs& args);

}  // namespace gemma::cli
