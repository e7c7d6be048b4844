#pragma once
// `gemma-eval history`: finished runs kept in one SQLite file, and a trend table per task and metric.
// Torch-free; the CLI glue is cli/history_command.cpp.
//
// Schema (PRAGMA application_id marks the file as ours; user_version is the schema version):
//   runs(id, added_at, run_date, git_hash, model, profile, source, results_sha256 UNIQUE, config, results)
//     config  = results.json "config" (model, tokenizer and weights hashes, profile, limit, seeds, ...)
//     results = the whole results.json, so later readers can re-check comparability (provenance hashes)
//   metrics(run_id, position, task, is_group, metric, filter, value, stderr, n_shot)
//     one row per "<metric>,<filter>" of every task and group, in results.json's order
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gemma::reports {

struct StoredRun {
  int64_t id = 0;
  std::string added_at, run_date, git_hash, model, profile, source;
  nlohmann::ordered_json results;  // the stored results.json
};

struct StoredMetric {
  int64_t run_id = 0;
  std::string task;
  bool is_group = false;
  std::string metric, filter;
  double value = 0.0;
  std::optional<double> stderr_value;
  std::optional<int> shots;
};

struct AddOutcome {
  int64_t run_id = 0;
  size_t metric_rows = 0;
  bool already_present = false;  // the same results.json was added before: nothing was written
};

struct HistoryDb;  // the open SQLite connection (reports/history.cpp)

class HistoryStore {
 public:
  enum class Mode { ReadOnly, ReadWrite };
  // ReadWrite creates the file (and its tables) when missing; ReadOnly needs an existing history.
  // Throws gemma::Error naming the file when it is missing (ReadOnly), not an SQLite database, or an
  // SQLite database that is not a gemma-eval history.
  HistoryStore(const std::filesystem::path& path, Mode mode);
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // Stores a run (results.json content; `source` says where it came from) in one transaction. Adding
  // the same results.json again (same sha256 of its canonical JSON) returns the existing run's id.
  AddOutcome add_run(const nlohmann::ordered_json& results, const std::string& source);

  std::vector<StoredRun> runs() const;  // oldest first
  // Metric rows of the given runs; all tasks when `task` is empty, else only that task or group.
  std::vector<StoredMetric> metrics(const std::vector<int64_t>& run_ids, const std::string& task = "") const;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::unique_ptr<HistoryDb> db_;
};

struct HistoryTableOptions {
  std::string task;  // only this task or group, and only the runs that have it; empty = all
  size_t last = 10;  // the most recent (matching) runs shown; 0 = all
};

// The trend table: one row per task/metric/filter (in order of first appearance, so rows keep their
// place as runs are added), one column per run ("#3 2026-11-27 22:30 model", oldest left), cells
// "value ± stderr". A cell whose task was measured differently from the column
// to its left (prompts, data, docs, tokenizer, profile or version: reports/comparability.h) gets a "‡"
// and a note naming what changed, so a jump in the trend is never read as a model change when the
// benchmark changed. Below: a legend line per run (date, model, git hash, profile, source).
// Throws gemma::Error when `task` is given and no stored run has it (naming the tasks it has).
std::string history_table(const HistoryStore& store, const HistoryTableOptions& options);

}  // namespace gemma::reports
