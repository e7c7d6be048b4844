#pragma once
// What a run writes to its output folder: results.json (lm-eval's keys, as lm_eval/evaluator.py@4e7e0d47 writes
// them, plus this harness's provenance, docs/design.md), results.md and, with
// --log-samples, one samples_<task>.jsonl per task. The folder is replaced as one unit (common/files.h
// OutputFolderWriter), and every samples line carries the run's identity, so samples are never read against another
// run.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

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

// results.json "config.model" is lm-eval's model type, a string ("hf" for lm-eval's transformers backend,
// "vllm", ...: the registered name of the LM class that ran). Ours is "gemma-eval": the numbers come from
// this harness's own LibTorch implementation, not from transformers, so "hf" would name a backend that
// did not run. The model as loaded (folder, weights fingerprint, tokenizer hash, dtype, device, batch size,
// context length) is config.model_details, and config.model_args has lm-eval's "pretrained=...,dtype=..."
// string form of it.
inline constexpr const char* kLmEvalModelType = "gemma-eval";

// config.model_details, or config.model where it is an object (results.json written before config.model
// was lm-eval's string); an empty object when neither is (lm-eval's own results files).
nlohmann::ordered_json model_details(const nlohmann::ordered_json& config);
// The same from a whole results.json.
nlohmann::ordered_json model_details_of_results(const nlohmann::ordered_json& results);

// A run config read from a results.json, in the current shape: an object config.model (older files)
// moves to config.model_details and config.model becomes kLmEvalModelType (rescore and merge write it).
nlohmann::ordered_json with_lm_eval_model_type(nlohmann::ordered_json config);

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

// The bytes of samples_<task>.jsonl in lm-eval's layout: one JSON line per filter and evaluated doc (filter
// by filter, docs in order; one line per doc for tasks with the single filter "none"), each with lm-eval's
// keys (doc_id, doc, target, arguments, resps, filtered_resps and filter of that line's filter, metrics, the
// hashes, that filter's metric values) and then this harness's whole record of the doc: prompt, shot_ids,
// gold, then continuations + loglikelihoods + is_greedy (multiple choice, loglikelihood), loglikelihoods +
// is_greedy (loglikelihood_rolling: the prompt is the text scored) or until + generated + extracted
// (generation), then scores, truncated, and the run's identity (run_id, weights_fingerprint).
std::string samples_jsonl(const evals::TaskResult& task, const RunIdentity& identity);

// The lines of one samples file, as a reader meets them: a doc has a line per filter (lm-eval's layout),
// or one line (files written before that, and single-filter tasks). first_line_of_doc() is true for a
// doc's first line, whose record the reader takes; for a later line of the same doc it checks that the
// line is another filter's and repeats the doc's record (everything but filter, filtered_resps, the
// metric names and their values), and returns false. A doc_id seen twice for one filter (or without a
// "filter" key), or a repeated record that differs, is a gemma::Error naming `where` and the first line.
class SamplesLineTracker {
 public:
  bool first_line_of_doc(const nlohmann::ordered_json& line, int64_t doc_id, const std::string& where);

 private:
  struct FirstLine {
    std::string where;
    nlohmann::json record;
    std::vector<std::string> filters;
  };
  std::map<int64_t, FirstLine> docs_;
};

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
