// `gemma-eval ls tasks|groups|tags|subtasks` and `--tasks list` (with list_groups, list_tags,
// list_subtasks): the names --tasks accepts, in the sections of lm-eval's TaskManager.list_all_tasks
// (lm_eval/tasks/__init__.py: a Group table, a Tag table, a Task table with each task's output type).
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "evals/task_file.h"
#include "evals/task_registry.h"
#include "reports/text_table.h"

namespace gemma::cli {
namespace {

using reports::Align;

std::vector<std::vector<std::string>> rows_of(const std::vector<evals::TaskListing::Entry>& entries, bool tasks) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& entry : entries) {
    if (tasks)
      rows.push_back({entry.name, entry.location, entry.output_type});
    else
      rows.push_back({entry.name, entry.location});
  }
  return rows;
}

}  // namespace

std::optional<std::string> task_listing_section(const std::string& tasks_argument) {
  if (tasks_argument == "list") return std::string("all");
  for (const char* section : {"groups", "tags", "subtasks"})
    if (tasks_argument == std::string("list_") + section) return std::string(section);
  return std::nullopt;
}

std::string task_listing_text(const std::string& section) {
  const evals::TaskListing listing = evals::task_listing();
  const bool all = section == "all";
  std::string text;
  // lm-eval prints a tag table of one column; its groups and tasks carry their config's location ("---"
  // for those without a file: here, the compiled-in ones).
  if (all || section == "groups")
    text += "\n" + reports::text_table({"Group", "Config Location"}, {Align::Left, Align::Left},
                                       rows_of(listing.groups, false));
  if (all || section == "tags") {
    std::vector<std::vector<std::string>> rows;
    for (const auto& tag : listing.tags) rows.push_back({tag.name});
    text += "\n" + reports::text_table({"Tag"}, {Align::Left}, rows);
  }
  if (all || section == "subtasks")
    text += "\n" + reports::text_table({"Task", "Config Location", "Output Type"},
                                       {Align::Left, Align::Left, Align::Left}, rows_of(listing.tasks, true));
  return text;
}

int run_ls(const LsArgs& args) {
  if (args.what != "tasks" && args.what != "groups" && args.what != "tags" && args.what != "subtasks")
    fail("ls {}: expected tasks (groups, tags and tasks), groups, tags or subtasks", args.what);
  for (const std::string& dir : args.include_paths) evals::register_task_files(evals::load_task_dir(dir));
  std::printf("%s", task_listing_text(args.what == "tasks" ? "all" : args.what).c_str());
  return 0;
}

}  // namespace gemma::cli
