// gemma-eval history's store and trend table: runs added (twice, and the same one again), read back by
// a fresh connection, shown with and without --task and --last, setup changes marked, and clear errors
// for files that are not a gemma-eval history.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <fstream>
#include <string>

#include "../support/fake_runs.h"
#include "../support/temp_dir.h"
#include "common/error.h"
#include "common/files.h"
#include "reports/history.h"

using namespace gemma;
using namespace gemma::reports;
using namespace gemma::test;
using Catch::Contains;

namespace {

FakeRun two_task_run(size_t arc_ones, size_t boolq_ones, const std::string& date, const std::string& git) {
  FakeRun run;
  run.tasks = {FakeTask{}, FakeTask{}};
  run.tasks[0].values = binary_values(10, arc_ones);
  run.tasks[1].name = "boolq";
  run.tasks[1].values = binary_values(10, boolq_ones);
  run.tasks[1].data_file = "/data/boolq/val.jsonl";
  run.date = date;
  run.git_hash = git;
  return run;
}

}  // namespace

TEST_CASE("history: runs added twice are kept, in order, across connections", "[history]") {
  TempDir dir("gemma-history");
  const auto db = dir.path / "history.sqlite";
  const auto first = fake_results_json(two_task_run(5, 3, "2026-01-02T03:04:05Z", "aaa111"));
  const auto second = fake_results_json(two_task_run(7, 3, "2026-01-03T10:20:30Z", "bbb222"));
  {
    HistoryStore store(db, HistoryStore::Mode::ReadWrite);
    auto a = store.add_run(first, "/runs/a/results.json");
    CHECK(a.run_id == 1);
    CHECK(a.metric_rows == 2);
    CHECK_FALSE(a.already_present);
    auto b = store.add_run(second, "/runs/b/results.json");
    CHECK(b.run_id == 2);
    auto again = store.add_run(first, "/runs/a-copy/results.json");  // same results.json content
    CHECK(again.already_present);
    CHECK(again.run_id == 1);
  }
  HistoryStore store(db, HistoryStore::Mode::ReadOnly);
  const auto runs = store.runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].id == 1);
  CHECK(runs[0].model == "gemma-3-1b-pt");
  CHECK(runs[0].git_hash == "aaa111");
  CHECK(runs[0].run_date == "2026-01-02T03:04:05Z");
  CHECK(runs[0].profile == "pt");
  CHECK(runs[0].source == "/runs/a/results.json");
  CHECK(runs[0].results == first);  // the whole results.json, for later comparability checks
  CHECK(runs[1].git_hash == "bbb222");

  const auto metrics = store.metrics({1, 2});
  REQUIRE(metrics.size() == 4);
  CHECK(metrics[0].task == "arc_easy");
  CHECK(metrics[0].value == Approx(0.5));
  CHECK(*metrics[0].stderr_value == Approx(fake_stderr(binary_values(10, 5))));
  CHECK(*metrics[0].shots == 0);
  CHECK(metrics[2].run_id == 2);
  CHECK(metrics[2].value == Approx(0.7));
  CHECK(store.metrics({2}, "boolq").size() == 1);
}

TEST_CASE("history: show prints a trend table, per task too", "[history]") {
  TempDir dir("gemma-history");
  HistoryStore store(dir.path / "h.sqlite", HistoryStore::Mode::ReadWrite);
  store.add_run(fake_results_json(two_task_run(5, 3, "2026-01-02T03:04:05Z", "aaa111")), "/runs/a/results.json");
  store.add_run(fake_results_json(two_task_run(7, 3, "2026-01-03T10:20:30Z", "bbb222")), "/runs/b/results.json");

  const std::string all = history_table(store, {});
  const std::string expected_table =
      "| Task     | Metric | Filter | #1 2026-01-02 03:04 gemma-3-1b-pt | #2 2026-01-03 10:20 gemma-3-1b-pt |\n"
      "|----------|--------|--------|----------------------------------:|----------------------------------:|\n"
      "| arc_easy | acc    | none   |                   0.5000 ± 0.1667 |                   0.7000 ± 0.1528 |\n"
      "| boolq    | acc    | none   |                   0.3000 ± 0.1528 |                   0.3000 ± 0.1528 |\n";
  CHECK_THAT(all, Contains(expected_table));
  CHECK_THAT(all, Contains(": 2 of 2 run(s), oldest left"));
  CHECK_THAT(all, Contains("- #1: 2026-01-02T03:04:05Z, gemma-3-1b-pt (float32, cpu), profile pt, git aaa111, "
                           "weights 5c98893241c1, from /runs/a/results.json"));
  CHECK_THAT(all, !Contains("‡"));

  HistoryTableOptions boolq;
  boolq.task = "boolq";
  const std::string one = history_table(store, boolq);
  CHECK_THAT(one, Contains("| boolq | acc    | none   |                   0.3000 ± 0.1528 |"));
  CHECK_THAT(one, !Contains("arc_easy"));
  CHECK_THAT(one, Contains("2 of 2 run(s) with boolq"));

  // --task shows only the runs that have the task: a later run without boolq adds no empty column.
  auto arc_only = two_task_run(6, 0, "2026-01-05T00:00:00Z", "ccc333");
  arc_only.tasks.pop_back();
  store.add_run(fake_results_json(arc_only), "/runs/c/results.json");
  CHECK_THAT(history_table(store, boolq), Contains("2 of 2 run(s) with boolq") && !Contains("#3"));
  CHECK_THAT(history_table(store, {}), Contains("| #3 2026-01-05 00:00 gemma-3-1b-pt |"));

  HistoryTableOptions last;
  last.last = 1;
  const std::string newest = history_table(store, last);
  CHECK_THAT(newest, Contains("1 of 3 run(s)"));
  CHECK_THAT(newest, !Contains("#2 2026"));
  CHECK_THAT(newest, Contains("#3 2026-01-05 00:00 gemma-3-1b-pt"));
  last.task = "boolq";
  CHECK_THAT(history_table(store, last), Contains("1 of 2 run(s) with boolq") && Contains("#2 2026-01-03 10:20"));

  HistoryTableOptions unknown;
  unknown.task = "mmlu";
  CHECK_THROWS_WITH(history_table(store, unknown), Contains("no task or group mmlu") && Contains("arc_easy, boolq"));
}

TEST_CASE("history: a changed setup is marked, not shown as a trend", "[history]") {
  TempDir dir("gemma-history");
  HistoryStore store(dir.path / "h.sqlite", HistoryStore::Mode::ReadWrite);
  auto run = two_task_run(5, 3, "2026-01-02T03:04:05Z", "aaa111");
  store.add_run(fake_results_json(run), "a");
  run.tasks[0].prompts = "new template";
  run.tasks[0].values = binary_values(10, 9);
  run.date = "2026-01-04T00:00:00Z";
  store.add_run(fake_results_json(run), "b");
  const std::string text = history_table(store, {});
  CHECK_THAT(text, Contains("0.9000 ± 0.1000 ‡"));
  CHECK_THAT(text, Contains("- ‡ arc_easy in #2 vs #1: first-prompt hash, all-prompts hash"));
  CHECK_THAT(text, Contains("  0.3000 ± 0.1528 |\n"));  // boolq's cell in #2 has no mark
}

TEST_CASE("history: files that are not a gemma-eval history are refused by name", "[history]") {
  TempDir dir("gemma-history");
  const auto missing = dir.path / "none.sqlite";
  CHECK_THROWS_WITH(HistoryStore(missing, HistoryStore::Mode::ReadOnly),
                    Contains(missing.string()) && Contains("no such file"));

  const auto corrupt = dir.path / "corrupt.sqlite";
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += "this is not an SQLite file ";
  write_file_atomic(corrupt, garbage);
  for (auto mode : {HistoryStore::Mode::ReadOnly, HistoryStore::Mode::ReadWrite})
    CHECK_THROWS_WITH(HistoryStore(corrupt, mode),
                      Contains(corrupt.string()) && Contains("not a gemma-eval history database"));
  CHECK(read_file(corrupt) == garbage);  // left as it was

  const auto foreign = dir.path / "foreign.sqlite";
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(foreign.c_str(), &handle) == SQLITE_OK);
  REQUIRE(sqlite3_exec(handle, "CREATE TABLE users(name TEXT)", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(handle);
  CHECK_THROWS_WITH(HistoryStore(foreign, HistoryStore::Mode::ReadWrite),
                    Contains(foreign.string()) && Contains("not a gemma-eval history (tables: users)"));

  CHECK_THROWS_WITH(HistoryStore(dir.path, HistoryStore::Mode::ReadWrite), Contains("is a folder"));
}

TEST_CASE("history: an empty history and bad runs", "[history]") {
  TempDir dir("gemma-history");
  const auto db = dir.path / "h.sqlite";
  HistoryStore store(db, HistoryStore::Mode::ReadWrite);
  CHECK_THAT(history_table(store, {}), Contains("No runs in " + db.string()));
  CHECK_THROWS_WITH(store.add_run({{"rows", 1}}, "x.json"), Contains("x.json") && Contains("no \"results\" object"));
  nlohmann::ordered_json empty = {{"results", nlohmann::ordered_json::object()}};
  CHECK_THROWS_WITH(store.add_run(empty, "y.json"), Contains("y.json") && Contains("no metric values"));
  CHECK(store.runs().empty());  // nothing half-added
}
