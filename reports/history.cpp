#include "reports/history.h"

#include <sqlite3.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/sha256.h"
#include "reports/comparability.h"
#include "reports/run_record.h"
#include "reports/text_table.h"

namespace gemma::reports {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

// Marks a file as a gemma-eval history ("GEEV") so another application's SQLite file is refused
// instead of having tables added to it.
constexpr int kApplicationId = 0x47454556;
constexpr int kSchemaVersion = 1;

const char* const kSchema = R"sql(
CREATE TABLE runs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  added_at TEXT NOT NULL,
  run_date TEXT,
  git_hash TEXT,
  model TEXT,
  profile TEXT,
  source TEXT,
  results_sha256 TEXT NOT NULL UNIQUE,
  config TEXT,
  results TEXT NOT NULL);
CREATE TABLE metrics(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  task TEXT NOT NULL,
  is_group INTEGER NOT NULL,
  metric TEXT NOT NULL,
  filter TEXT NOT NULL,
  value REAL NOT NULL,
  stderr REAL,
  n_shot INTEGER,
  PRIMARY KEY(run_id, task, metric, filter));
CREATE INDEX metrics_by_task ON metrics(task);
)sql";

std::string string_at(const ordered_json& root, std::initializer_list<const char*> keys) {
  const ordered_json* node = &root;
  for (const char* key : keys) {
    if (!node->is_object() || !node->contains(key)) return "";
    node = &(*node)[key];
  }
  return node->is_string() ? node->get<std::string>() : "";
}

}  // namespace

// The open connection; every failure names the history file.
struct HistoryDb {
  sqlite3* handle = nullptr;
  fs::path path;
  bool empty = false;  // a valid SQLite file with no tables yet (only possible read-only)

  ~HistoryDb() { sqlite3_close_v2(handle); }

  [[noreturn]] void raise(const std::string& doing) const {
    fail("history {}: {}: {}", path.string(), doing, handle ? sqlite3_errmsg(handle) : "out of memory");
  }
  void exec(const char* sql, const char* doing) const {
    if (sqlite3_exec(handle, sql, nullptr, nullptr, nullptr) != SQLITE_OK) raise(doing);
  }
};

namespace {

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* handle, const char* sql, const std::function<void(const std::string&)>& raise) : raise_(raise) {
    if (sqlite3_prepare_v2(handle, sql, -1, &stmt_, nullptr) != SQLITE_OK) raise_("reading it");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, const std::string& text) {
    check(sqlite3_bind_text(stmt_, index, text.c_str(), -1, SQLITE_TRANSIENT));
  }
  void bind(int index, int64_t value) { check(sqlite3_bind_int64(stmt_, index, value)); }
  void bind(int index, double value) { check(sqlite3_bind_double(stmt_, index, value)); }
  void bind_null(int index) { check(sqlite3_bind_null(stmt_, index)); }

  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) raise_("querying it");
    return false;
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string text(int column) const {
    const auto* bytes = sqlite3_column_text(stmt_, column);
    return bytes ? std::string(reinterpret_cast<const char*>(bytes), sqlite3_column_bytes(stmt_, column)) : "";
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) raise_("binding a value");
  }
  sqlite3_stmt* stmt_ = nullptr;
  std::function<void(const std::string&)> raise_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when an exception leaves the scope first.
class Transaction {
 public:
  explicit Transaction(const HistoryDb& db) : db_(db) { db_.exec("BEGIN IMMEDIATE", "locking it for writing"); }
  ~Transaction() {
    if (!committed_) sqlite3_exec(db_.handle, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    db_.exec("COMMIT", "committing");
    committed_ = true;
  }

 private:
  const HistoryDb& db_;
  bool committed_ = false;
};

int64_t pragma_value(const HistoryDb& db, const char* pragma) {
  Statement query(db.handle, pragma, [&](const std::string&) {
    // The first read of a file that is not an SQLite database fails here ("file is not a database").
    fail("history {}: not a gemma-eval history database ({})", db.path.string(), sqlite3_errmsg(db.handle));
  });
  return query.step() ? query.integer(0) : 0;
}

std::vector<std::string> table_names(const HistoryDb& db) {
  Statement query(db.handle, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                  [&](const std::string& doing) { db.raise(doing); });
  std::vector<std::string> names;
  while (query.step()) names.push_back(query.text(0));
  return names;
}

}  // namespace

HistoryStore::HistoryStore(const fs::path& path, Mode mode) : path_(path), db_(std::make_unique<HistoryDb>()) {
  db_->path = path;
  std::error_code ec;
  if (mode == Mode::ReadOnly && !fs::exists(path, ec))
    fail("history {}: no such file (gemma-eval history add RUN_DIR creates it; --db chooses another)", path.string());
  if (fs::is_directory(path, ec)) fail("history {}: is a folder, expected an SQLite file", path.string());
  const int flags = mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db_->handle, flags, nullptr) != SQLITE_OK) db_->raise("cannot open it");
  sqlite3_busy_timeout(db_->handle, 5000);  // two CI jobs adding at once wait for each other

  auto check_ours = [&] {
    const int64_t application_id = pragma_value(*db_, "PRAGMA application_id");
    const auto tables = table_names(*db_);
    if (application_id == 0 && tables.empty()) return false;  // a new, empty database
    if (application_id != kApplicationId) {
      std::string listed;
      for (const auto& t : tables) listed += (listed.empty() ? "" : ", ") + t;
      fail("history {}: an SQLite database, but not a gemma-eval history (tables: {})", path.string(),
           listed.empty() ? "none" : listed);
    }
    const int64_t version = pragma_value(*db_, "PRAGMA user_version");
    if (version != kSchemaVersion)
      fail("history {}: schema version {}, this gemma-eval reads version {}", path.string(), version, kSchemaVersion);
    return true;
  };
  if (check_ours()) return;
  if (mode == Mode::ReadOnly) {
    db_->empty = true;
    return;
  }
  Transaction transaction(*db_);
  if (!check_ours()) {  // checked again under the write lock: another process may have just created it
    db_->exec(kSchema, "creating its tables");
    db_->exec(
        fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {};", kApplicationId, kSchemaVersion).c_str(),
        "marking it as a gemma-eval history");
  }
  transaction.commit();
}

HistoryStore::~HistoryStore() = default;

AddOutcome HistoryStore::add_run(const ordered_json& results, const std::string& source) {
  if (!results.is_object() || !results.contains("results") || !results["results"].is_object())
    fail("{}: not a results.json (no \"results\" object)", source);
  const auto rows = metric_rows(results);
  if (rows.empty()) fail("{}: no metric values to store", source);
  auto raise = [&](const std::string& doing) { db_->raise(doing); };
  const std::string text = results.dump();
  const std::string sha = sha256_hex(text);

  Transaction transaction(*db_);
  Statement existing(db_->handle, "SELECT id FROM runs WHERE results_sha256 = ?", raise);
  existing.bind(1, sha);
  if (existing.step()) return {existing.integer(0), rows.size(), true};

  Statement insert_run(
      db_->handle,
      "INSERT INTO runs(added_at, run_date, git_hash, model, profile, source, results_sha256, config, results) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
      raise);
  std::string run_date = string_at(results, {"date"});
  if (run_date.empty()) run_date = string_at(results, {"config", "date"});
  insert_run.bind(1, now_utc());
  insert_run.bind(2, run_date);
  insert_run.bind(3, string_at(results, {"git_hash"}));
  insert_run.bind(4, model_label(results));
  insert_run.bind(5, string_at(results, {"config", "profile"}));
  insert_run.bind(6, source);
  insert_run.bind(7, sha);
  insert_run.bind(8, results.contains("config") ? results["config"].dump() : std::string("null"));
  insert_run.bind(9, text);
  insert_run.step();
  const int64_t run_id = sqlite3_last_insert_rowid(db_->handle);

  Statement insert_metric(
      db_->handle,
      "INSERT INTO metrics(run_id, position, task, is_group, metric, filter, value, stderr, n_shot) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
      raise);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    insert_metric.bind(1, run_id);
    insert_metric.bind(2, static_cast<int64_t>(i));
    insert_metric.bind(3, row.name);
    insert_metric.bind(4, static_cast<int64_t>(row.is_group));
    insert_metric.bind(5, row.metric);
    insert_metric.bind(6, row.filter);
    insert_metric.bind(7, row.value);
    if (row.stderr_value)
      insert_metric.bind(8, *row.stderr_value);
    else
      insert_metric.bind_null(8);
    if (row.shots)
      insert_metric.bind(9, static_cast<int64_t>(*row.shots));
    else
      insert_metric.bind_null(9);
    insert_metric.step();
    insert_metric.reset();
  }
  transaction.commit();
  return {run_id, rows.size(), false};
}

std::vector<StoredRun> HistoryStore::runs() const {
  if (db_->empty) return {};
  Statement query(db_->handle,
                  "SELECT id, added_at, run_date, git_hash, model, profile, source, results FROM runs ORDER BY id",
                  [&](const std::string& doing) { db_->raise(doing); });
  std::vector<StoredRun> out;
  while (query.step()) {
    StoredRun run{query.integer(0), query.text(1), query.text(2), query.text(3),
                  query.text(4),    query.text(5), query.text(6), ordered_json()};
    try {
      run.results = ordered_json::parse(query.text(7));
    } catch (const ordered_json::parse_error& e) {
      fail("history {}: run #{} holds damaged results JSON: {}", path_.string(), run.id, e.what());
    }
    out.push_back(std::move(run));
  }
  return out;
}

std::vector<StoredMetric> HistoryStore::metrics(const std::vector<int64_t>& run_ids, const std::string& task) const {
  if (db_->empty) return {};
  Statement query(db_->handle,
                  "SELECT run_id, task, is_group, metric, filter, value, stderr, n_shot FROM metrics "
                  "WHERE run_id = ?1 AND (?2 = '' OR task = ?2) ORDER BY position",
                  [&](const std::string& doing) { db_->raise(doing); });
  std::vector<StoredMetric> out;
  for (int64_t id : run_ids) {
    query.bind(1, id);
    query.bind(2, task);
    while (query.step()) {
      StoredMetric metric;
      metric.run_id = query.integer(0);
      metric.task = query.text(1);
      metric.is_group = query.integer(2) != 0;
      metric.metric = query.text(3);
      metric.filter = query.text(4);
      metric.value = query.real(5);
      if (!query.is_null(6)) metric.stderr_value = query.real(6);
      if (!query.is_null(7)) metric.shots = static_cast<int>(query.integer(7));
      out.push_back(std::move(metric));
    }
    query.reset();
  }
  return out;
}

namespace {

std::string column_header(const StoredRun& run) {
  std::string date = run.run_date.empty() ? run.added_at : run.run_date;
  if (date.size() >= 16)
    date = date.substr(0, 10) + " " + date.substr(11, 5);  // 2026-11-27T22:30:40Z -> 2026-11-27 22:30
  return fmt::format("#{} {} {}", run.id, date, run.model);
}

std::string legend_line(const StoredRun& run) {
  const auto& results = run.results;
  std::string model = run.model;
  // The model as loaded: config.model_details, or config.model in results.json written before it was a string.
  const ordered_json details = model_details_of_results(results);
  const std::string dtype = string_at(details, {"dtype"});
  const std::string device = string_at(details, {"device"});
  if (!dtype.empty() || !device.empty())
    model += " (" + dtype + (dtype.empty() || device.empty() ? "" : ", ") + device + ")";
  std::string line = fmt::format("- #{}: {}, {}", run.id, run.run_date.empty() ? "date unknown" : run.run_date, model);
  if (!run.profile.empty()) line += ", profile " + run.profile;
  if (!run.git_hash.empty()) line += ", git " + run.git_hash;
  const std::string weights = string_at(details, {"weights_fingerprint"});
  if (!weights.empty()) line += ", weights " + weights.substr(0, 12);
  return line + ", from " + run.source + " (added " + run.added_at + ")\n";
}

struct RowKey {
  std::string task, metric, filter;
  bool is_group = false;
  bool operator<(const RowKey& other) const {
    return std::tie(task, metric, filter) < std::tie(other.task, other.metric, other.filter);
  }
};

}  // namespace

std::string history_table(const HistoryStore& store, const HistoryTableOptions& options) {
  const auto all_runs = store.runs();
  if (all_runs.empty())
    return fmt::format("No runs in {} yet: gemma-eval history add RUN_DIR stores one.\n", store.path().string());
  std::vector<int64_t> all_ids;
  for (const auto& run : all_runs) all_ids.push_back(run.id);
  auto all_metrics = store.metrics(all_ids, options.task);
  if (all_metrics.empty()) {
    std::set<std::string> known;
    for (const auto& m : store.metrics(all_ids)) known.insert(m.task);
    std::string names;
    for (const auto& name : known) names += (names.empty() ? "" : ", ") + name;
    fail("history {}: no task or group {} in any stored run (stored: {})", store.path().string(), options.task, names);
  }
  // The runs that have something to show (with --task: the runs of that task), the last `last` of them.
  std::set<int64_t> with_rows;
  for (const auto& m : all_metrics) with_rows.insert(m.run_id);
  std::vector<StoredRun> runs;
  for (const auto& run : all_runs)
    if (with_rows.count(run.id)) runs.push_back(run);
  const size_t available = runs.size();
  if (options.last != 0 && runs.size() > options.last)
    runs.erase(runs.begin(), runs.end() - static_cast<std::ptrdiff_t>(options.last));
  std::set<int64_t> shown_ids;
  for (const auto& run : runs) shown_ids.insert(run.id);
  std::vector<StoredMetric> metrics;
  for (auto& m : all_metrics)
    if (shown_ids.count(m.run_id)) metrics.push_back(std::move(m));

  // Rows in order of first appearance, oldest run first, so rows keep their place as runs are added.
  std::vector<RowKey> rows;
  std::set<RowKey> seen;
  std::map<std::pair<RowKey, int64_t>, const StoredMetric*> cells;
  for (const auto& m : metrics) {  // metrics() returns them run by run, oldest first
    RowKey key{m.task, m.metric, m.filter, m.is_group};
    cells[{key, m.run_id}] = &m;
    if (seen.insert(key).second) rows.push_back(key);
  }

  // For each task and column: what changed since the previous column that ran it (reports/comparability.h).
  std::map<std::pair<std::string, size_t>, std::vector<std::string>> changes;
  std::vector<std::string> notes;
  std::set<std::string> tasks;
  for (const auto& row : rows) tasks.insert(row.task);
  for (const auto& task : tasks) {
    std::optional<size_t> previous;
    for (size_t column = 0; column < runs.size(); ++column) {
      const bool has_task = std::any_of(metrics.begin(), metrics.end(), [&](const StoredMetric& m) {
        return m.run_id == runs[column].id && m.task == task;
      });
      if (!has_task) continue;
      if (previous) {
        auto differences = comparability_differences(runs[*previous].results, runs[column].results, task);
        if (!differences.empty()) {
          std::string what;
          for (const auto& d : differences) what += (what.empty() ? "" : ", ") + d;
          notes.push_back(fmt::format("‡ {} in #{} vs #{}: {}", task, runs[column].id, runs[*previous].id, what));
          changes[{task, column}] = std::move(differences);
        }
      }
      previous = column;
    }
  }

  std::vector<std::string> headers = {"Task", "Metric", "Filter"};
  std::vector<Align> align = {Align::Left, Align::Left, Align::Left};
  for (const auto& run : runs) {
    headers.push_back(column_header(run));
    align.push_back(Align::Right);
  }
  std::vector<std::vector<std::string>> cells_text;
  for (const auto& row : rows) {
    std::vector<std::string> line = {row.task + (row.is_group ? " (group)" : ""), row.metric, row.filter};
    for (size_t column = 0; column < runs.size(); ++column) {
      auto found = cells.find({row, runs[column].id});
      if (found == cells.end()) {
        line.push_back("");
        continue;
      }
      const StoredMetric& m = *found->second;
      std::string cell = fixed4(m.value);
      if (m.stderr_value) cell += " ± " + fixed4(m.stderr_value);
      if (changes.count({row.task, column})) cell += " ‡";
      line.push_back(cell);
    }
    cells_text.push_back(std::move(line));
  }

  std::string text = fmt::format("History {}: {} of {} run(s){}, oldest left\n\n", store.path().string(), runs.size(),
                                 available, options.task.empty() ? "" : " with " + options.task);
  text += text_table(headers, align, cells_text);
  if (!notes.empty()) {
    text += "\nNot comparable with the run to the left (gemma-eval compare names the same differences):\n";
    for (const auto& note : notes) text += "- " + note + "\n";
  }
  text += "\nRuns:\n";
  for (const auto& run : runs) text += legend_line(run);
  return text;
}

}  // namespace gemma::reports
