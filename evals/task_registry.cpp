#include "evals/task_registry.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/edit_distance.h"
#include "common/error.h"
#include "evals/task_file.h"

namespace gemma::evals {
namespace {

// Constructed on first use: a TaskRegistration in any file may run before this file's statics are
// initialised.
std::vector<RegisteredFamily>& registrations() {
  static std::vector<RegisteredFamily> all;
  return all;
}

// Group name -> members: every group a task names (global_mmlu_fr and global_mmlu), in task order, and
// every group and tag of the built-in task files in the order their configs list them ("mmlu": its
// stem, other, social_sciences and humanities subjects, as lm-eval's tasks/mmlu/default/_mmlu.yaml).
std::map<std::string, std::vector<const TaskSpec*>> make_groups(const std::vector<TaskSpec>& all) {
  std::map<std::string, std::vector<const TaskSpec*>> groups;
  for (const auto& task : all)
    for (const auto& group : task.groups) groups[group].push_back(&task);
  for (const auto& [name, members] : builtin_task_file_collections()) {
    std::vector<const TaskSpec*>& tasks = groups[name];
    tasks.clear();
    for (const std::string& member : members)
      for (const auto& task : all)
        if (task.name == member) tasks.push_back(&task);
  }
  return groups;
}

const std::map<std::string, std::vector<const TaskSpec*>>& groups() {
  static const auto table = make_groups(builtin_tasks());
  return table;
}

// Names within a small edit distance, or containing / contained in the query (e.g. "anatomy" ->
// mmlu_anatomy, "arc" -> arc_easy, arc_challenge). Best first, at most 8.
std::vector<std::string> close_matches(const std::string& query) {
  std::string lowered = query;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char c) { return std::tolower(c); });
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& name : list_task_names(true)) {
    const size_t distance = edit_distance(lowered, name);
    const bool related = lowered.size() >= 3 && name.find(lowered) != std::string::npos;
    if (distance <= std::max<size_t>(2, lowered.size() / 4) || related)
      scored.emplace_back(related ? std::min<size_t>(distance, 3) : distance, name);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> names;
  for (size_t i = 0; i < scored.size() && i < 8; ++i) names.push_back(scored[i].second);
  return names;
}

}  // namespace

std::vector<TaskSpec> make_registered_tasks(std::vector<RegisteredFamily> families) {
  std::sort(families.begin(), families.end(),
            [](const RegisteredFamily& a, const RegisteredFamily& b) { return a.order_key < b.order_key; });
  std::vector<TaskSpec> all;
  std::map<std::string, int> key_of_name;
  for (size_t i = 0; i < families.size(); ++i) {
    const RegisteredFamily& family = families[i];
    if (i > 0 && families[i - 1].order_key == family.order_key)
      fail("two task registrations share the order key {} (evals/tasks/*.cpp: each TaskRegistration needs its own key)",
           family.order_key);
    std::vector<TaskSpec> made = family.make ? family.make() : std::vector<TaskSpec>{};
    if (family.make_one) made.push_back(family.make_one());
    if (family.task_file_root) made = builtin_task_file_family(family.task_file_root);
    for (TaskSpec& task : made) {
      if (const auto [it, added] = key_of_name.emplace(task.name, family.order_key); !added)
        fail("task \"{}\" is registered twice (order keys {} and {})", task.name, it->second, family.order_key);
      all.push_back(std::move(task));
    }
  }
  return all;
}

TaskRegistration::TaskRegistration(int order_key, TaskMaker make) {
  registrations().push_back({order_key, make, nullptr});
}

TaskRegistration::TaskRegistration(int order_key, SingleTaskMaker make) {
  registrations().push_back({order_key, nullptr, make});
}

TaskRegistration::TaskRegistration(int order_key, TaskFileRoot root) {
  registrations().push_back({order_key, nullptr, nullptr, root.name});
}

const std::vector<TaskSpec>& builtin_tasks() {
  static const std::vector<TaskSpec> tasks = make_registered_tasks(registrations());
  return tasks;
}

LoadedTasks& loaded_tasks() {
  static LoadedTasks loaded;
  return loaded;
}

std::vector<const TaskSpec*> resolve_tasks(const std::string& name) {
  for (const auto& task : loaded_tasks().tasks)
    if (task.name == name) return {&task};
  if (const auto it = loaded_tasks().collections.find(name); it != loaded_tasks().collections.end()) return it->second;
  for (const auto& task : builtin_tasks())
    if (task.name == name || std::find(task.aliases.begin(), task.aliases.end(), name) != task.aliases.end())
      return {&task};
  if (const auto it = groups().find(name); it != groups().end()) return it->second;

  const auto suggestions = close_matches(name);
  if (suggestions.empty()) fail("unknown task or group \"{}\" (gemma-eval --list-tasks lists them all)", name);
  fail("unknown task or group \"{}\"; did you mean: {}? (gemma-eval --list-tasks lists them all)", name,
       fmt::join(suggestions, ", "));
}

std::vector<std::string> list_task_names(bool include_groups) {
  std::vector<std::string> names;
  for (const auto& task : builtin_tasks()) names.push_back(task.name);
  for (const auto& task : loaded_tasks().tasks)
    if (std::find(names.begin(), names.end(), task.name) == names.end()) names.push_back(task.name);
  if (include_groups) {
    for (const auto& [group, members] : groups()) names.push_back(group);
    for (const auto& [collection, members] : loaded_tasks().collections)
      if (!groups().count(collection)) names.push_back(collection);
  }
  return names;
}

const char* output_type_name(OutputType type) {
  switch (type) {
    case OutputType::MultipleChoice:
      return "multiple_choice";
    case OutputType::GenerateUntil:
      return "generate_until";
    case OutputType::Loglikelihood:
      return "loglikelihood";
    case OutputType::LoglikelihoodRolling:
      return "loglikelihood_rolling";
  }
  return "multiple_choice";
}

TaskListing task_listing() {
  TaskListing listing;
  const auto location_of = [](const TaskSpec& task) {
    return task.source_file.empty() ? std::string("---") : task.source_file;
  };
  // A task file's task replaces the built-in one of its name (resolve_tasks looks at task files first).
  std::map<std::string, const TaskSpec*> from_files;
  for (const auto& task : loaded_tasks().tasks) from_files.emplace(task.name, &task);
  for (const auto& task : builtin_tasks()) {
    const auto replaced = from_files.find(task.name);
    const TaskSpec& shown = replaced == from_files.end() ? task : *replaced->second;
    listing.tasks.push_back({task.name, location_of(shown), output_type_name(shown.output_type)});
  }
  std::set<std::string> listed;
  for (const auto& entry : listing.tasks) listed.insert(entry.name);
  for (const auto& task : loaded_tasks().tasks)
    if (listed.insert(task.name).second)
      listing.tasks.push_back({task.name, location_of(task), output_type_name(task.output_type)});

  std::map<std::string, TaskListing::Entry> group_entries, tag_entries;
  // A collection is a group when it aggregates (its name is in its members' TaskSpec::groups: the built-in
  // groups, and a task file's group, which register_task_files adds there); a tag (mmlu_stem_tasks, a task
  // file's `tag:`) adds nothing to them.
  const auto add_collection = [&](const std::string& name, const std::vector<const TaskSpec*>& members) {
    if (group_entries.count(name) || tag_entries.count(name)) return;
    const bool aggregated = std::any_of(members.begin(), members.end(), [&name](const TaskSpec* task) {
      return std::find(task->groups.begin(), task->groups.end(), name) != task->groups.end();
    });
    (aggregated ? group_entries : tag_entries)[name] = {name, "---", ""};
  };
  for (const auto& [group, members] : groups()) add_collection(group, members);
  for (const auto& [collection, members] : loaded_tasks().collections) add_collection(collection, members);
  for (auto& [name, entry] : group_entries) listing.groups.push_back(std::move(entry));
  for (auto& [name, entry] : tag_entries) listing.tags.push_back(std::move(entry));
  return listing;
}

}  // namespace gemma::evals
