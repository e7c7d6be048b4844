// gemma-eval validate FILE...: lm-eval task files read and checked as `run --task FILE` would read
// them, without loading a model.
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "common/error.h"
#include "evals/task_file.h"
#include "evals/task_registry.h"

namespace gemma::cli {
namespace fs = std::filesystem;

int run_validate(const ValidateArgs& args) {
  evals::TaskFileSet all;
  for (const std::string& file : args.files) {
    const evals::TaskFileSet set = evals::load_task_file(file);
    for (const evals::TaskSpec& task : set.tasks) {
      if (!args.data_dir.empty()) task.check_data(args.data_dir, task.default_shots);
      std::vector<std::string> metrics;
      for (const auto& metric : task.metrics) metrics.push_back(metric.name);
      const char* type = evals::output_type_name(task.output_type);
      std::printf("%s: task %s (%s, %d-shot, metrics: %s)\n", file.c_str(), task.name.c_str(), type, task.default_shots,
                  fmt::format("{}", fmt::join(metrics, ", ")).c_str());
    }
    for (const evals::TaskCollection& collection : set.collections)
      std::printf("%s: %s %s: %s\n", file.c_str(), collection.aggregated ? "group" : "tag", collection.name.c_str(),
                  fmt::format("{}", fmt::join(collection.members, ", ")).c_str());
    for (const evals::TaskSpec& task : set.tasks) all.tasks.push_back(task);
    all.collections.insert(all.collections.end(), set.collections.begin(), set.collections.end());
  }
  // All files together, as --include-path would load them: a group member that none of them nor the
  // built-in tasks define is an error here.
  evals::register_task_files(std::move(all));
  return 0;
}

}  // namespace gemma::cli
