#pragma once
// What a run writes to its output folder: results.json (lm-eval's keys, as lm_eval/evaluator.py@4e7e0d47 writes
// them, plus this harness's provenance, docs/design.md), results.md and, with
// --log-samples, one samples_<task>.jsonl per task. The folder is replaced as one unit (common/files.h
// OutputFolderWriter), and every samples line carries the run's identity, so samples are never read against another
// run.
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
//   "config"           RunResult::config as given (with "run_id", see RunIdentity); "git_hash" and "date"
//                      copied from it when present
//   "total_evaluation_time_seconds"
//   "provenance"       {task: {first_prompt_sha256, all_prompts_sha256, data_files, doc_ids,
//                              truncated_requests, max_token_hits, invalid {filter: count}, seconds}}
// A group's "n-shot" is present only when all its tasks used the same number of shots; groups have no
// "versions" entry (lm-eval prints N/A for them).
nlohmann::ordered_json results_json(const evals::RunResult& run);

// lm-eval's doc_hash: sha256 hex of json.dumps(doc, indent=2, ensure_ascii=False).
std::string lm_eval_doc_hash(const nlohmann::ordered_json& doc);

// A results.json's total_evaluation_time_seconds as a number: lm-eval writes a string, older gemma-eval
// results a number; 0 when absent or unreadable.
double evaluation_seconds(const nlohmann::ordered_json& results);

// The lm-eval run-level keys a results.json holds (RunResult::lm_eval), for `rescore` and `merge` to carry
// them over.
nlohmann::ordered_json lm_eval_run_fields(const nlohmann::ordered_json& results);

// --output_path's lm-eval layout: samples_<task><samples_suffix>.jsonl (with log_samples) and then
// `results_name` in `folder`, leaving every other file there alone. Fails, writing nothing, when any of
// those names exists already: no run replaces another's files.
void write_lm_eval_outputs(const evals::RunResult& run, const std::filesystem::path& folder,
                           const std::string& results_name, const std::string& samples_suffix, bool log_samples);

// Which results.json a samples file belongs to. Every samples line repeats it, and `rescore`, `merge`
// and `compare` read a samples file only beside the results.json it names: a folder can hold samples
// of an earlier run (a crash part way through replacing the files, a copied file) and those must never
// be scored as this run's. Results written before run ids existed have an empty run_id; their samples
// lines must then carry none either.
struct RunIdentity {
  std::string run_id;               // config.run_id: random, new for every results.json written
  std::string weights_fingerprint;  // config.model.weights_fingerprint; empty when the run has none

  // From a whole results.json, or from its "config" object (RunResult::config).
  static RunIdentity of_results(const nlohmann::ordered_json& results);
  static RunIdentity of_config(const nlohmann::ordered_json& config);
};

// A fresh run id (128 random bits as hex) for config["run_id"].
std::string new_run_id();

// Fails naming `where` (file:line) when a samples line's "run_id" / "weights_fingerprint" are not
// `expected`'s (both absent is right only for a results.json without a run id).
void check_samples_identity(const nlohmann::json& line, const RunIdentity& expected, const std::string& where);
void check_samples_identity(const nlohmann::ordered_json& line, const RunIdentity& expected, const std::string& where);

// The bytes of samples_<task>.jsonl: one JSON line per evaluated doc: doc_id, prompt, shot_ids, target,
// then continuations + loglikelihoods + is_greedy (multiple choice, loglikelihood), loglikelihoods +
// is_greedy (loglikelihood_rolling: the prompt is the text scored) or until + generated + extracted
// (generation), then metrics, truncated, and the run's identity (run_id, weights_fingerprint).
std::string samples_jsonl(const evals::TaskResult& task, const RunIdentity& identity);

// Writes samples_jsonl() to `path` atomically. Throws gemma::Error naming the path when it cannot.
void write_samples_jsonl(const std::filesystem::path& path, const evals::TaskResult& task, const RunIdentity& identity);

// Reads a samples_<task>.jsonl back into its records (`merge`, `rescore`); a missing file, a line that
// is not JSON or not a samples line, or one of another run than `expected`, is a gemma::Error naming
// file:line.
std::vector<evals::DocRecord> read_samples_jsonl(const std::filesystem::path& path, const RunIdentity& expected);

// The file a task's samples go to inside an output folder: samples_<task>.jsonl.
std::filesystem::path samples_path(const std::filesystem::path& output_dir, const std::string& task);

// Creates `output_dir` if missing and replaces its run files as one unit: samples_<task>.jsonl (with
// log_samples), results.md (results_table, plus model_card_table when config["model_size"] names a
// size) and results.json are all written to a staging folder first, then renamed into place with
// results.json last, and samples_*.jsonl of the previous run that this one does not write (other tasks,
// or all of them without log_samples) are deleted. A failure while writing leaves the previous run's
// files as they were; gemma::Error names the path. run.config["run_id"] must be set (new_run_id()).
void write_run_outputs(const evals::RunResult& run, const std::filesystem::path& output_dir, bool log_samples);

}  // namespace gemma::reports
