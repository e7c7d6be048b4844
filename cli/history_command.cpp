// gemma-eval history add RUN_DIR | history show [--task T]: runs kept in an SQLite file
// (reports/history.h does the work).
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "reports/history.h"
#include "reports/run_record.h"

namespace gemma::cli {
namespace fs = std::filesystem;

int run_history_add(const HistoryArgs& args) {
  const fs::path results_path = reports::results_json_path(args.run_dir);
  const auto results = reports::read_results_json(results_path);
  reports::HistoryStore store(args.db, reports::HistoryStore::Mode::ReadWrite);
  std::error_code ec;
  const fs::path absolute = fs::absolute(results_path, ec);
  const auto outcome = store.add_run(results, (ec ? results_path : absolute).lexically_normal().string());
  if (outcome.already_present)
    std::printf("gemma-eval history: %s is already run #%lld in %s; nothing added\n", results_path.c_str(),
                static_cast<long long>(outcome.run_id), args.db.c_str());
  else
    std::printf("gemma-eval history: added %s as run #%lld (%zu metric rows) to %s\n", results_path.c_str(),
                static_cast<long long>(outcome.run_id), outcome.metric_rows, args.db.c_str());
  return 0;
}

int run_history_show(const HistoryArgs& args) {
  reports::HistoryStore store(args.db, reports::HistoryStore::Mode::ReadOnly);
  reports::HistoryTableOptions options;
  options.task = args.task;
  options.last = args.last;
  std::printf("%s", reports::history_table(store, options).c_str());
  return 0;
}

}  // namespace gemma::cli
