// gemma-eval: one binary, several subcommands (see README "CLI reference").
#include <malloc.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "build_info.h"
#include "cli/commands.h"
#include "cli/integer_flags.h"
#include "common/error.h"
#include "evals/lm_eval_args.h"
#include "evals/offline_scoring.h"
#include "model/cpu_features.h"

namespace gemma::cli {
namespace {
constexpr int64_t kIntMax = std::numeric_limits<int>::max();
// More LibTorch threads than any machine has cores only oversubscribes; a typo like 80000 is refused.
constexpr int64_t kMaxThreads = 4096;
}  // namespace

void add_model_flags(CLI::App& command, ModelFlags& flags, bool with_placement) {
  command.add_option("--model", flags.model,
                     "Checkpoint directory (Hugging Face layout) or Hub id resolved in the local HF cache; "
                     "default: the built-in tiny random-weight model");
  if (!with_placement) return;
  command
      .add_option("--device", flags.device,
                  "cpu, cuda or cuda:N; a comma-separated list (cuda:0,cuda:1) splits the layers into "
                  "contiguous pipeline stages")
      ->capture_default_str();
  command
      .add_option("--dtype", flags.dtype,
                  "float32, bfloat16, float16 or auto (the checkpoint's torch_dtype where every stage computes in it "
                  "natively: CUDA, or a CPU with AVX512_BF16/AMX for bfloat16; else float32)")
      ->capture_default_str();
  command
      .add_option("--threads", flags.threads,
                  "CPU threads for LibTorch (0 = OMP_NUM_THREADS if set, else every core this process may run on)")
      ->transform(integer_in(0, kMaxThreads));
}

}  // namespace gemma::cli

namespace {

const char* const kSubcommands[] = {"run",     "logits", "generate", "tokenize", "score",    "compare",
                                    "history", "merge",  "rescore",  "bench",    "validate", "ls"};

// `run` is the default subcommand: `gemma-eval --task mmlu --shots 5` means `gemma-eval run --task ...`.
std::vector<std::string> with_default_subcommand(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() == 1) return args;
  const std::string& first = args[1];
  bool is_subcommand = std::find(std::begin(kSubcommands), std::end(kSubcommands), first) != std::end(kSubcommands);
  bool top_level_flag = first == "--help" || first == "-h" || first == "--version";
  if (!is_subcommand && !top_level_flag) args.insert(args.begin() + 1, "run");
  return args;
}

// Every long flag name of `command` and its subcommands, with dashes: --name.
void collect_long_flags(const CLI::App& command, std::vector<std::string>& names) {
  for (const CLI::Option* option : command.get_options())
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
  for (const CLI::App* sub : command.get_subcommands([](const CLI::App*) { return true; }))
    collect_long_flags(*sub, names);
}

// CLI11 names an unexpected argument without a hint; an lm-eval user typing --num-fewshot or --tasks_list
// gets the flag they probably meant. nullopt when no argument is an unknown flag.
std::optional<std::string> unknown_flag_hint(const CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> known;
  collect_long_flags(app, known);
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
    const std::string name = arg.substr(0, arg.find('='));
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string shown = name.size() > 60 ? name.substr(0, 60) + "..." : name;
    const std::string closest = gemma::evals::closest_name(name, known);
    if (closest.empty()) return fmt::format("unknown flag {} (gemma-eval --help lists the flags)", shown);
    return fmt::format("unknown flag {}: did you mean {}?", shown, closest);
  }
  return std::nullopt;
}

std::string joined(const std::vector<std::string>& args) {
  std::string line;
  for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gemma::cli;
  // Before anything can run a torch operation: LibTorch fixes its elementwise kernel level at the
  // first dispatch (model/cpu_features.h).
  try {
    gemma::choose_aten_cpu_capability(gemma::cpu_features());
  } catch (const gemma::Error& e) {  // a bad GEMMA_EVAL_CPU_FEATURES
    std::fprintf(stderr, "gemma-eval: error: %s\n", e.what());
    return 1;
  }
  // Attention scores and logits are large short-lived temporaries: by default glibc mmaps each one
  // and unmaps it on free, so every forward pass page-faults fresh memory (measured: half the wall
  // time of a tiny-model MMLU run was kernel time). Keep such blocks in the heap for reuse instead.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // Over a file-size limit (ulimit -f, RLIMIT_FSIZE) the default SIGXFSZ kills the run with no message;
  // ignored, the write fails with EFBIG and the usual error names the file.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{
      "gemma-eval: evaluate Gemma 3 models (LibTorch) on the Gemma 3 model card's benchmarks.\n"
      "Without a subcommand, `run` is meant: gemma-eval --task mmlu --shots 5 --model DIR"};
  app.set_version_flag("--version", std::string("gemma-eval ") + GEMMA_EVAL_VERSION + " (" + GEMMA_EVAL_GIT_HASH + ")");
  app.require_subcommand(1);

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "Evaluate tasks (the default subcommand)");
  add_model_flags(*run_cmd, run.model);
  run_cmd
      ->add_option("--task,--tasks", run.tasks,
                   "Task or group names, comma-separated (mmlu, arc_challenge, ...); fnmatch wildcards (mmlu_*); "
                   "`--tasks list` lists tasks, groups and tags")
      ->delimiter(',');
  run_cmd->add_option("--include-path,--include_path", run.include_paths,
                      "Load every lm-eval task file (*.yaml) under DIR; its tasks take precedence over built-ins");
  run_cmd
      ->add_option("--shots,--num_fewshot", run.shots,
                   "Few-shot examples per prompt (default: each task's model-card setting)")
      ->transform(integer_in(0, kIntMax));
  run_cmd->add_option("--limit", run.limit,
                      "Evaluate at most N documents per task; a number below 1.0 is that share of each task's "
                      "documents, rounded up (lm-eval)");
  run_cmd->add_option("--limit-mode", run.limit_mode, "first (the first N docs, like lm-eval) or random")
      ->capture_default_str();
  run_cmd
      ->add_option("--seed", run.seed,
                   "Few-shot sampler seed, or lm-eval's four seeds random,numpy,torch,fewshot (random draws "
                   "--limit-mode random's docs, fewshot the shots; numpy and torch are only recorded)")
      ->capture_default_str();
  run_cmd
      ->add_option("--batch-size,--batch_size", run.batch_size,
                   "Prompts per forward pass, or auto (the default 4 for scoring, and generation batches sized "
                   "from memory as --generation-batch-size 0)")
      ->capture_default_str();
  auto* output_option =
      run_cmd->add_option("--output", run.output, "Output folder for results.json, results.md, samples")
          ->capture_default_str();
  run_cmd
      ->add_option("--output_path", run.output_path,
                   "lm-eval's output layout: PATH/<model_name_sanitized>/results_<timestamp>.json and "
                   "samples_<task>_<timestamp>.jsonl (PATH ending in .json: PATH's folder, "
                   "<stem>_<timestamp>.json)")
      ->excludes(output_option);
  run_cmd->add_option("--run-name", run.run_name,
                      "A label for this run, shown with the model name in tables, history and compare");
  run_cmd->add_flag("--log-samples,--log_samples", run.log_samples,
                    "Also write samples_<task>.jsonl (a line per document and filter, as lm-eval)");
  run_cmd
      ->add_option(
          "--profile", run.profile,
          "pt: raw text prompts; it: the model folder's chat template (the built-in Gemma 3 one if it has none)")
      ->capture_default_str();
  run_cmd->add_option("--model_args", run.model_args,
                      "lm-eval's pretrained=DIR_OR_HUB_ID,dtype=...,device=...,max_length=N (= --model, --dtype, "
                      "--device, --max-length)");
  run_cmd->add_flag("--apply_chat_template", run.apply_chat_template, "lm-eval's spelling of --profile it");
  run_cmd->add_flag("--fewshot_as_multiturn", run.fewshot_as_multiturn,
                    "Each few-shot example its own user/assistant turn in the chat template (needs "
                    "--apply_chat_template or --profile it), as lm-eval");
  run_cmd->add_option("--system_instruction", run.system_instruction,
                      "A system message before each prompt (lm-eval: joined with the task description)");
  run_cmd->add_option("--gen_kwargs", run.gen_kwargs,
                      "Generation settings for generate_until tasks: max_gen_toks=N,until=STOP (do_sample=False and "
                      "temperature=0 accepted; decoding is greedy)");
  run_cmd->add_flag("--write_out,--write-out", run.write_out, "Print each task's first prompt");
  run_cmd->add_flag("--show_config,--show-config", run.show_config, "Print the full results.json when done");
  run_cmd->add_flag("--predict_only,--predict-only", run.predict_only,
                    "Generate (and filter) answers without computing metrics; implies --log-samples");
  run_cmd->add_option("--data-dir", run.data_dir, "Dataset folder (default: the bundled samples in datasets/samples)");
  run_cmd->add_flag("--list-tasks", run.list_tasks, "List task and group names and exit");
  run_cmd->add_flag("--no-progress", run.no_progress, "No progress bar on stderr");
  run_cmd->add_flag("--no-prefix-sharing", run.no_prefix_sharing,
                    "Run every request's full context: no shared contexts, no prefix cache (for comparison)");
  run_cmd
      ->add_option("--prefix-cache-mb", run.prefix_cache_mb,
                   "Memory for the keys and values of prompt prefixes shared across documents (few-shot blocks); "
                   "0 = off")
      ->capture_default_str()
      ->transform(integer_in(0, 1L << 30));
  run_cmd
      ->add_option("--generation-batch-size", run.generation_batch_size,
                   "Sequences generated together, refilled as they finish (0 = as many as 2 GB of KV cache holds, "
                   "at most 32)")
      ->capture_default_str()
      ->transform(integer_in(0, kIntMax));
  run_cmd->add_option("--max-length", run.max_length, "Context length limit in tokens (default: the model's)")
      ->transform(integer_in(0, kIntMax));
  auto* cache_option = run_cmd->add_option(
      "--cache", run.cache_dir,
      "Folder of the result cache: finished requests are stored there, so the same command resumes a killed run "
      "(default: OUTPUT/cache)");
  run_cmd->add_flag("--no-cache", run.no_cache, "Neither reuse nor store results")->excludes(cache_option);
  run_cmd->add_flag(
      "--skip-bad-samples", run.skip_bad_samples,
      "Leave out docs whose image is missing or unreadable (counted in results.json) instead of stopping");
  run_cmd->add_flag("--allow-code-execution", run.allow_code_execution,
                    "Let code tasks (humaneval, mbpp) run the model's programs to score them, each in a sandbox "
                    "(no network, CPU/memory/file/process limits, a throwaway folder)");
  run_cmd->add_flag("--pan-and-scan", run.pan_and_scan, "Add Gemma 3's pan-and-scan crops of each image (image tasks)");
  run_cmd->add_option("--shard", run.shard,
                      "K/N: evaluate only shard K (0-based) of N of each task's selected docs; writes samples for "
                      "`gemma-eval merge`");

  RescoreArgs rescore;
  auto* rescore_cmd = app.add_subcommand(
      "rescore", "Recompute every metric of a finished run from its samples (no model, no data): after a scorer fix");
  rescore_cmd->add_option("RUN_DIR", rescore.run_dir, "A run's output folder (run with --log-samples)")->required();
  rescore_cmd->add_option("--output", rescore.output,
                          "Write the rescored results.json, results.md and samples here (default: RUN_DIR, in place)");
  rescore_cmd->add_option(
      "--include-path,--include_path", rescore.include_paths,
      "A folder of task files or one FILE.yaml the run read (repeatable): its tasks rescore by name");
  rescore_cmd->add_flag("--allow-code-execution", rescore.allow_code_execution,
                        "Run the model's programs again to score code tasks (sandboxed)");
  MergeArgs merge;
  auto* merge_cmd =
      app.add_subcommand("merge", "Combine the output folders of --shard K/N runs into one run's results");
  merge_cmd->add_option("SHARD_DIRS", merge.shard_dirs, "The shard runs' output folders (all N of them)")->required();
  merge_cmd->add_option("--output", merge.output, "Output folder for the merged results.json, results.md")->required();
  merge_cmd->add_flag("--log-samples", merge.log_samples, "Also write the merged samples_<task>.jsonl");
  merge_cmd->add_option(
      "--include-path,--include_path", merge.include_paths,
      "A folder of task files or one FILE.yaml the runs read (repeatable): their tasks merge by name");

  ScoreArgs score;
  auto* score_cmd = app.add_subcommand("score", "Score predictions against references offline; prints JSON");
  score_cmd->add_option("--metric", score.metric, "NAME[:VARIANT], one of: " + gemma::evals::known_offline_metrics())
      ->required();
  score_cmd->add_option("--predictions", score.predictions, "JSONL: {\"id\", \"prediction\"} per line")->required();
  score_cmd->add_option("--references", score.references, "JSONL: {\"id\", \"references\": [...]} per line")
      ->required();
  score_cmd->add_option(
      "--filter", score.filter,
      "Apply a task's answer extraction to each prediction first: TASK:PIPELINE (e.g. gsm8k:strict-match) "
      "or a short name (gsm8k-strict, gsm8k-flexible, ...); the output lists the extracted answers. A metric "
      "the task scores is scored as run and rescore score it (the task's options and variant)");
  score_cmd->add_flag("--allow-code-execution", score.allow_code_execution,
                      "pass@1: run the predictions as programs with their tests, sandboxed");

  CompareArgs compare;
  auto* compare_cmd = app.add_subcommand("compare",
                                         "Compare two runs: Δ, p-value and ok/improved/regressed/incomparable "
                                         "per task and metric; exit 1 on a regression");
  compare_cmd->add_option("BASE", compare.base, "The baseline's results.json (or its run folder)")->required();
  compare_cmd->add_option("NEW", compare.candidate, "The new run's results.json (or its run folder)")->required();
  compare_cmd->add_option("--alpha", compare.alpha, "Significance level")->capture_default_str();
  compare_cmd
      ->add_option("--min-delta", compare.min_delta, "Smallest |Δ| that counts, in metric units (0.01 = 1 point)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  compare_cmd->add_flag("--fail-on-incomparable", compare.fail_on_incomparable,
                        "Also exit 1 when a row cannot be compared (prompts, data or tokenizer changed, row missing)");

  HistoryArgs history;
  auto* history_cmd = app.add_subcommand("history", "Keep runs in an SQLite file and show metric trends");
  history_cmd->require_subcommand(1);
  auto* history_add_cmd = history_cmd->add_subcommand("add", "Store a finished run (its results.json)");
  history_add_cmd->add_option("RUN_DIR", history.run_dir, "Run folder (or its results.json)")->required();
  auto* history_show_cmd = history_cmd->add_subcommand("show", "Print the trend table: task/metric rows, run columns");
  history_show_cmd->add_option("--task", history.task, "Only this task or group");
  history_show_cmd->add_option("--last", history.last, "Show the most recent N runs (0 = all)")
      ->capture_default_str()
      ->transform(unsigned_in(std::numeric_limits<size_t>::max()));
  for (auto* command : {history_add_cmd, history_show_cmd})
    command->add_option("--db", history.db, "History file")->capture_default_str();

  LogitsArgs logits;
  auto* logits_cmd =
      app.add_subcommand("logits", "Write the float32 logits [T, vocab] of token sequences as .npy files");
  add_model_flags(*logits_cmd, logits.model);
  logits_cmd->add_option("--input", logits.input, "JSON file {\"sequences\": [[id, ...], ...]}")->required();
  logits_cmd->add_option("--output", logits.output, "Output folder for logits_<i>.npy and summary.json")->required();

  GenerateArgs generate;
  auto* generate_cmd = app.add_subcommand("generate", "Greedy continuation of a prompt");
  add_model_flags(*generate_cmd, generate.model);
  generate_cmd->add_option("--prompt", generate.prompt, "Prompt text")->required();
  generate_cmd->add_flag("--chat", generate.chat, "Wrap the prompt as one user turn of the Gemma 3 chat template");
  generate_cmd->add_option("--image", generate.images,
                           "An image file (repeat for several); they go before the text, or at each <start_of_image> "
                           "in the prompt (multimodal checkpoints)");
  generate_cmd->add_flag("--pan-and-scan", generate.pan_and_scan, "Add Gemma 3's pan-and-scan crops of each image");
  generate_cmd->add_option("--max-new-tokens", generate.max_new_tokens, "Most tokens to generate")
      ->capture_default_str()
      ->transform(integer_in(0, kIntMax));
  generate_cmd->add_flag("--ids", generate.print_ids, "Print the generated token ids (JSON) instead of text");
  generate_cmd->add_flag("--ignore-eos", generate.ignore_eos, "Do not stop at <eos>/<end_of_turn>");

  TokenizeArgs tokenize;
  auto* tokenize_cmd = app.add_subcommand("tokenize", "Print the token ids of a text as a JSON array");
  add_model_flags(*tokenize_cmd, tokenize.model, /*with_placement=*/false);
  // Exactly one source: argv cannot carry a NUL byte or more than ARG_MAX bytes, a file can.
  auto* tokenize_source = tokenize_cmd->add_option_group("text", "The text to tokenize: exactly one of these");
  tokenize_source->add_option("--text", tokenize.text, "Text to tokenize");
  tokenize_source->add_option("--text-file", tokenize.text_file,
                              "Read the text from FILE, byte for byte (no newline is stripped); - reads stdin");
  tokenize_source->require_option(1);
  tokenize_cmd->add_flag("--bos", tokenize.bos, "Prepend the BOS token");

  ValidateArgs validate;
  auto* validate_cmd = app.add_subcommand("validate", "Check lm-eval task files (YAML) without a model");
  validate_cmd->add_option("FILES", validate.files, "Task or group config files (*.yaml)")->required();
  validate_cmd->add_option("--data-dir", validate.data_dir, "Also check that the tasks' data files exist there");

  LsArgs ls;
  auto* ls_cmd = app.add_subcommand("ls", "List task names as lm-eval's `ls` does: groups, tags and tasks");
  ls_cmd->add_option("WHAT", ls.what, "tasks (groups, tags and tasks), groups, tags or subtasks")->required();
  ls_cmd->add_option("--include-path,--include_path", ls.include_paths, "Also list the task files (*.yaml) under DIR")
      ->type_name("DIR");

  BenchArgs bench;
  auto* bench_cmd = add_bench_command(app, bench);

  auto args = with_default_subcommand(argc, argv);
  std::vector<char*> arg_pointers;
  for (auto& a : args) arg_pointers.push_back(a.data());
  try {
    app.parse(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  } catch (const CLI::ParseError& e) {
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr)
      if (auto hint = unknown_flag_hint(app, args)) {
        std::fprintf(stderr, "gemma-eval: error: %s\n", hint->c_str());
        return e.get_exit_code();
      }
    return app.exit(e);
  }
  try {
    if (*run_cmd) return run_evaluation(run, joined(args));
    if (*merge_cmd) return run_merge(merge, joined(args));
    if (*rescore_cmd) return run_rescore(rescore, joined(args));
    if (*score_cmd) return run_score(score);
    if (*compare_cmd) return run_compare(compare);
    if (*history_add_cmd) return run_history_add(history);
    if (*history_show_cmd) return run_history_show(history);
    if (*logits_cmd) return run_logits(logits);
    if (*generate_cmd) return run_generate(generate);
    if (*tokenize_cmd) return run_tokenize(tokenize);
    if (*validate_cmd) return run_validate(validate);
    if (*ls_cmd) return run_ls(ls);
    if (*bench_cmd) return run_bench(bench);
  } catch (const gemma::Error& e) {
    std::fprintf(stderr, "gemma-eval: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gemma-eval: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
