#pragma once
// What one evaluation run produced, before it is written out (reports/) — torch-free.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "evals/task.h"

namespace gemma::evals {

// One document's line of samples.jsonl.
struct DocRecord {
  int64_t doc_id = 0;                 // index in the eval split, file order
  nlohmann::ordered_json doc;         // the row as the task's templates saw it (lm-eval's samples "doc")
  std::string target_text;            // lm-eval's str(doc_to_target(doc)): the samples' "target"
  std::string prompt;                 // the exact context string (without BOS)
  std::vector<std::string> contexts;  // multiple-input tasks (WinoGrande): one per choice; else empty
  std::vector<int64_t> shot_ids;      // doc ids (in the shot split) of the shots used
  nlohmann::json target;              // gold index (MC) or reference string(s)
  // multiple choice
  std::vector<std::string> continuations;
  std::vector<double> loglikelihoods;
  std::vector<bool> is_greedy;
  // generation
  std::vector<std::string> until;
  int max_gen_toks = 0;  // the generation's token limit (the task's, or --gen_kwargs max_gen_toks)
  std::string subset;    // TaskSpec::doc_to_subset ("" = none)
  std::string generated;
  std::map<std::string, std::string> extracted;  // filter name -> extracted answer
  std::map<std::string, double> metrics;         // "acc,none", "exact_match,strict-match", ...
  bool truncated = false;
};

struct MetricValue {
  std::string metric;  // "acc"
  std::string filter;  // "none", "strict-match", ...
  double value = 0.0;
  std::optional<double> stderr_value;  // none = "N/A" (n <= 1)
  bool higher_is_better = true;
  size_t invalid = 0;  // extractions that fell back to "[invalid]"
};

struct TaskResult {
  std::string task;
  int version = 1;
  int shots = 0;
  std::vector<std::string> groups;
  std::vector<MetricValue> metrics;
  std::vector<DocRecord> docs;
  size_t docs_total = 0;         // in the eval split
  std::vector<int64_t> doc_ids;  // those evaluated (after --limit)
  std::string first_prompt_sha256, all_prompts_sha256;
  std::vector<DataFile> data_files;
  size_t truncated_requests = 0, max_token_hits = 0;
  // --skip-bad-samples: docs left out because an input (an image) could not be read, with the reason.
  std::vector<std::pair<int64_t, std::string>> skipped_docs;
  std::map<std::string, std::string> metric_variants;  // metric -> the reference implementation it follows
  double seconds = 0.0;
  std::optional<std::pair<int, int>> shard;  // --shard K/N: this result covers only shard K's docs
  // lm-eval's TaskConfig keys that describe the task as run (output_type, description, delimiters,
  // generation_kwargs, ...): results.json "configs" (reports/results_json.h).
  nlohmann::ordered_json config = nlohmann::ordered_json::object();
};

struct GroupResult {
  std::string group;
  std::vector<std::string> tasks;  // members that ran
  std::vector<MetricValue> metrics;
  std::string aggregation;  // e.g. "document-weighted mean of subtask acc (lm-eval weight_by_size)"
  std::string alias;        // a task file's group_alias, shown for the name in results; empty: none
};

struct RunResult {
  std::vector<TaskResult> tasks;
  std::vector<GroupResult> groups;
  nlohmann::ordered_json config;  // model, engine description, profile, seeds, limit, CLI, versions
  // lm-eval's run-level keys that results.json writes at its top level (model_name, chat_template, start_time,
  // tokenizer tokens, ...: reports/results_json.h lists them); a key missing here is written as null.
  nlohmann::ordered_json lm_eval = nlohmann::ordered_json::object();
  double seconds = 0.0;
};

}  // namespace gemma::evals
