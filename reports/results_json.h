#pragma once
// What a run writes to its output folder: results.json (lm-eval's keys, ../shared/spec/evals.md
// §2.10, plus this harness's provenance, §7.2), results.md and, with --log-samples, one
// samples_<task>.jsonl per task. Every file is written atomically (temp file + rename).
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "evals/results.h"

namespace gemma::reports {

// lm-eval-shaped results:
//   "results"          {name: {"alias", "<metric>,<filter>": value, "<metric>_stderr,<filter>": value | "N/A"}}
//                      for every task and group, in lm-eval's printed order (a group, then its members
//                      sorted by name, indented in "alias" as " - member")
//   "groups"           the same entries for the groups only
//   "group_subtasks"   {group: [direct members], task: []}
//   "configs"          {task: {task, groups, version, num_fewshot, filters, metric_list}}
//   "versions", "n-shot", "higher_is_better" {name: {metric: bool}}, "n-samples" {task: {original, effective}}
//   "config"           RunResult::config as given; "git_hash" and "date" copied from it when present
//   "total_evaluation_time_seconds"
//   "provenance"       {task: {first_prompt_sha256, all_prompts_sha256, data_files, doc_ids,
//                              truncated_requests, max_token_hits, invalid {filter: count}, seconds}}
// A group's "n-shot" is present only when all its tasks used the same number of shots; groups have no
// "versions" entry (lm-eval prints N/A for them).
nlohmann::ordered_json results_json(const evals::RunResult& run);

// One JSON line per evaluated doc: doc_id, prompt, shot_ids, target, then continuations +
// loglikelihoods + is_greedy (multiple choice) or until + generated + extracted (generation), then
// metrics and truncated. Throws gemma::Error naming the path when it cannot be written.
void write_samples_jsonl(const std::filesystem::path& path, const evals::TaskResult& task);

// Reads a samples_<task>.jsonl back into its records (`merge`, `rescore`); a missing file, a line that
// is not JSON or not a samples line is a gemma::Error naming file:line.
std::vector<evals::DocRecord> read_samples_jsonl(const std::filesystem::path& path);

// The file a task's samples go to inside an output folder: samples_<task>.jsonl.
std::filesystem::path samples_path(const std::filesystem::path& output_dir, const std::string& task);

// Creates `output_dir` if missing and writes samples_<task>.jsonl (with log_samples), results.md
// (results_table, plus model_card_table when config["model_size"] names a size) and results.json,
// last, so a results.json that exists always belongs to a complete set. Each file is replaced
// atomically; on failure no half-written file is left and gemma::Error names the path.
void write_run_outputs(const evals::RunResult& run, const std::filesystem::path& output_dir, bool log_samples);

}  // namespace gemma::reports
