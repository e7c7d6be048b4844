#pragma once
// Every built-in task, by lm-eval's task names, and the groups that name several at once (every group a
// task declares: "mmlu", "mmlu_stem", "bbh_cot_fewshot", "global_mmlu", "xquad", ...). Metrics a task
// declares with registry_metric (evals/registry_metric.h) come from scorers/metric_registry.h, the table
// `gemma-eval score` uses.
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "evals/task.h"

namespace gemma::evals {

// Tasks register themselves: each task family's file (evals/tasks/<family>.cpp) holds a file-scope
//   const TaskRegistration kHumanevalRegistration{2300, &humaneval_task};
// and nothing else lists it, so adding a family touches only its own file (plus the checked-in list
// below). Registering stores the maker
// only; makers run on the first builtin_tasks() call, never during static initialisation (no
// dependence on the order in which files are initialised). gemma_evals links the task files whole
// (evals/CMakeLists.txt), so a registration nothing else references is not dropped by the linker.
//
// The order key places a family in builtin_tasks(): ascending keys, each family's tasks in the order
// its maker returns them. The keys are 100 apart (MMLU 100, hellaswag 200, ..., the vision choice
// tasks up to 4000; `grep -rn "TaskRegistration k" evals/tasks` lists them), so a new family takes an
// unused key between the families it belongs with and no other key moves; the order of the existing
// tasks, and therefore of every results file, stays as it was. Keys must be unique. A file may hold
// several registrations, interleaved with other files' (vision_choice.cpp: ai2d 3500, realworldqa 3700,
// BLINK 3900; vision_choice_mmmu.cpp: MMMU 3600).
using TaskMaker = std::vector<TaskSpec> (*)();
using SingleTaskMaker = TaskSpec (*)();
// A task family lm-eval defines by configuration alone is a task file under tasks/ instead
// (evals/builtin_task_files.h); its registration names the task or group:
//   const TaskRegistration kMmluRegistration{100, TaskFileRoot{"mmlu"}};
struct TaskFileRoot {
  const char* name;
};
class TaskRegistration {
 public:
  TaskRegistration(int order_key, TaskMaker make);
  TaskRegistration(int order_key, SingleTaskMaker make);  // a family of one task
  TaskRegistration(int order_key, TaskFileRoot root);     // the tasks a built-in task file defines
};

// What builtin_tasks() does with the registrations, exposed for its tests: runs each family's maker
// (exactly one of `make`, `make_one`, `task_file_root` set) in ascending key order; a key used twice, or a task name
// made twice, is a gemma::Error naming them.
struct RegisteredFamily {
  int order_key;
  TaskMaker make;
  SingleTaskMaker make_one;
  const char* task_file_root = nullptr;
};
std::vector<TaskSpec> make_registered_tasks(std::vector<RegisteredFamily> families);

// Every task, built once on first use: the registered makers (above) run in order of their keys, so
// the order is fixed by the keys, not by link order. `gemma-eval --list-tasks` prints them in this
// order; results keep it (tests/data/task_names.txt is the expected list). Fails (gemma::Error) when two
// registrations share a key or two tasks share a name.
const std::vector<TaskSpec>& builtin_tasks();

// Tasks that are not compiled in: those of lm-eval task files (evals/task_file.h register_task_files),
// found by resolve_tasks() before the built-in tasks, so a task file's task replaces a built-in one of
// the same name. Deques: resolve_tasks hands out pointers, which stay valid as tasks are added.
struct LoadedTasks {
  std::deque<TaskSpec> tasks;
  std::deque<TaskSpec> group_copies;  // built-in tasks a task file's group names, with that group added
  std::map<std::string, std::vector<const TaskSpec*>> collections;  // groups and tags -> their tasks
  std::map<std::string, std::string> group_aliases;                 // a group config's group_alias
};
LoadedTasks& loaded_tasks();

// A task name, a task's alias or a group name -> the tasks it names, in a stable order ("mmlu" follows lm-eval's
// group order stem, other, social_sciences, humanities; subjects alphabetical within each).
// Unknown -> gemma::Error naming close matches and pointing at --list-tasks.
std::vector<const TaskSpec*> resolve_tasks(const std::string& name);

// Task names in builtin_tasks() order, then (if asked) the group names, sorted.
std::vector<std::string> list_task_names(bool include_groups);

// What `--tasks list` and `gemma-eval ls` print, in the sections of lm-eval's TaskManager.list_all_tasks
// (lm_eval/tasks/__init__.py): groups (names whose members' metrics are aggregated: every built-in group,
// and a task file's `group:` config), tags (a task file's `tag:`, a name for several tasks with no
// aggregate of its own), and tasks. A name lm-eval registers as a group is never also listed as a tag.
struct TaskListing {
  struct Entry {
    std::string name;
    std::string location;  // the task file it comes from (<built-in>/tasks/... for the compiled-in ones); "---" for C++
                           // tasks (lm-eval's mark)
    std::string output_type;  // tasks: lm-eval's output_type ("multiple_choice", "generate_until", ...)
  };
  std::vector<Entry> groups;  // sorted by name
  std::vector<Entry> tags;    // sorted by name
  std::vector<Entry> tasks;   // builtin_tasks() order, then the task files' own tasks in load order
};
TaskListing task_listing();

// lm-eval's output_type name of `type`.
const char* output_type_name(OutputType type);

}  // namespace gemma::evals
