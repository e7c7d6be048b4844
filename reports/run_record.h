#pragma once
// A finished run read back from disk for `compare` and `history`: its results.json (as written by
// reports/results_json.cpp, or any lm-eval-shaped file) and the per-document values of the
// samples_<task>.jsonl files beside it. Torch-free.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/results_json.h"

namespace gemma::reports {

// What one task's samples_<task>.jsonl says per document.
struct TaskSamples {
  std::filesystem::path path;
  // "acc,none" -> doc_id -> the doc's value (a line's "scores" object; "metrics" in older files)
  std::map<std::string, std::map<int64_t, double>> metrics;
  // "chrf,none" -> doc_id -> the doc's sufficient statistics (a line's optional "sufficient_stats"
  // object of number arrays): what a corpus metric needs for a paired bootstrap (reports/significance.h).
  std::map<std::string, std::map<int64_t, std::vector<double>>> sufficient_stats;
};

struct RunRecord {
  std::filesystem::path results_path;          // the results.json read
  nlohmann::ordered_json results;              // its content
  std::map<std::string, TaskSamples> samples;  // tasks whose samples file sits beside results.json
};

// One "<metric>,<filter>" entry of a task or group in results.json.
struct MetricRow {
  std::string name;  // task or group
  bool is_group = false;
  std::string metric, filter;
  double value = 0.0;
  std::optional<double> stderr_value;  // none when "N/A" or absent
  bool higher_is_better = true;        // results.json "higher_is_better"; true when it does not say
  std::optional<int> shots;            // "n-shot"
};

// `path` is a results.json or the run folder holding one; the result names the file.
std::filesystem::path results_json_path(const std::filesystem::path& path);

// Reads and checks results.json (an object with a "results" object); gemma::Error names the file.
nlohmann::ordered_json read_results_json(const std::filesystem::path& path);

// Reads a samples_<task>.jsonl: every line needs an integer doc_id and `expected`'s run identity
// (check_samples_identity); a doc has one line per filter (lm-eval's layout) or one line (older files),
// checked by SamplesLineTracker. Per-doc values come from "scores" ("metrics" as an object in older
// files; lm-eval's own lines: the values beside the names "metrics" lists, under that line's filter);
// entries that are not numbers (or arrays of numbers, "sufficient_stats") are errors naming file:line.
TaskSamples read_task_samples(const std::filesystem::path& path, const RunIdentity& expected);

// results.json plus, for each task in it, samples_<task>.jsonl from the same folder when present; a
// samples file of another run than the results.json (another run id or weights) is an error naming it.
RunRecord load_run(const std::filesystem::path& path);

// Every metric row of results.json in the file's order (tasks and groups as lm-eval prints them, then
// each entry's metrics in key order); "alias" and "*_stderr,*" keys are not rows.
std::vector<MetricRow> metric_rows(const nlohmann::ordered_json& results);

// True for names results.json lists under "groups".
bool is_group(const nlohmann::ordered_json& results, const std::string& name);

// The tasks (not groups) under `name` per "group_subtasks", recursively; {name} for a task.
std::vector<std::string> leaf_tasks(const nlohmann::ordered_json& results, const std::string& name);

// A short name for the run's model: lm-eval's model_name when recorded, else the last component of
// config.model_details.model (config.model.model in older files: "gemma-3-4b-pt" for a folder or Hub id,
// "tiny-gemma3" for the built-in one), or "unknown model"; with --run-name's label after it.
std::string model_label(const nlohmann::ordered_json& results);

}  // namespace gemma::reports
