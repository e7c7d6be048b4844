#pragma once
// lm-evaluation-harness 0.4 task files (YAML + Jinja2) read into TaskSpecs, so a user's own benchmark
// runs through the same evaluator as the built-in tasks. The vocabulary and its meaning follow lm-eval
// lm_eval/api/task.py (ConfigurableTask: doc_to_text / doc_to_target / doc_to_choice resolution, gold
// and few-shot target), lm_eval/utils.py::load_yaml_config (include chains) and lm_eval/config/.
// Anything that needs Python (`!function utils.process_docs`) or that lm-eval does not define is
// refused with an error naming the file, the line and the key. Torch-free.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "evals/task.h"

namespace gemma::evals {

// A group (lm-eval `group:` config, aggregated) or a tag (a task's `tag:`, a name for several tasks,
// not aggregated), and the task or group names it stands for, in order.
struct TaskCollection {
  std::string name;
  bool aggregated = false;  // a group: its members' metrics are combined (weight_by_size)
  std::vector<std::string> members;
  std::string file;   // where it was defined
  std::string alias;  // group_alias: shown in the results for the group's name (lm-eval's Tasks column)
};

// What one or more task files define.
struct TaskFileSet {
  std::vector<TaskSpec> tasks;  // task configs, in file order (a group's inline tasks included)
  std::vector<TaskCollection> collections;
  std::vector<std::string> files;  // every file read, include targets included
  std::vector<std::string> roots;  // the task or group each loaded file defines, in load order
};

// One task file: a task config (`task: name`) or a group config (`group: name` with a `task:` list).
// Its includes are followed (paths relative to the including file; its own keys win; a cycle is an
// error). Throws gemma::Error naming file, line and key on anything it cannot run as lm-eval would.
TaskFileSet load_task_file(const std::filesystem::path& path);

// Every *.yaml under `dir` (recursively, in path order) that is a task or group config; files with
// neither `task` nor `group` (shared templates reached by `include`) are read only through includes,
// as lm-eval's TaskManager indexes them.
TaskFileSet load_task_dir(const std::filesystem::path& dir);

// Makes the tasks and collections visible to resolve_tasks() (evals/task_registry.h), ahead of the
// built-in tasks: a task file's task named like a built-in one replaces it there, with a notice on
// stderr. A group's members get the group's name in TaskSpec::groups so results aggregate it. A group
// member that no task file defines is looked up among the built-in tasks (then copied with the group
// added). Loading the same name twice is an error naming both files.
void register_task_files(TaskFileSet set);

// The built-in tasks that are task files (tasks/, compiled in: evals/builtin_task_files.h), for the
// registry (evals/task_registry.h): the task `root` names, or every task of the group or tag `root`, in
// file order, each with its groups (innermost first) in TaskSpec::groups. Every built-in file is loaded
// once, on first use; an error in one is a gemma::Error naming it.
std::vector<TaskSpec> builtin_task_file_family(const std::string& root);
// The built-in groups' group_alias (mmlu_social_sciences: "social sciences").
const std::map<std::string, std::string>& builtin_group_aliases();
// The built-in task files' groups and tags (mmlu, mmlu_stem, mmlu_stem_tasks, ai2_arc, ...), each with
// its tasks' names in the group's order (mmlu: its stem, other, social sciences, humanities subjects).
const std::map<std::string, std::vector<std::string>>& builtin_task_file_collections();

// Forgets every registered task file (tests).
void clear_registered_task_files();

}  // namespace gemma::evals
