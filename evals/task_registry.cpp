#include "evals/task_registry.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "evals/tasks/builtin.h"
#include "evals/tasks/code.h"
#include "evals/tasks/open_qa.h"
#include "evals/tasks/reasoning.h"
#include "evals/tasks/translation.h"

namespace gemma::evals {
namespace {

std::vector<TaskSpec> make_tasks() {
  std::vector<TaskSpec> all = tasks::mmlu_tasks();
  for (auto make :
       {tasks::hellaswag_task, tasks::boolq_task, tasks::piqa_task, tasks::social_iqa_task, tasks::arc_easy_task,
        tasks::arc_challenge_task, tasks::winogrande_task, tasks::gsm8k_task, tasks::gsm8k_cot_task})
    all.push_back(make());
  for (auto make :
       {tasks::bbh_tasks, tasks::minerva_math_tasks, tasks::mgsm_tasks, tasks::agieval_tasks, tasks::mmlu_pro_tasks,
        tasks::gpqa_tasks, tasks::open_qa_tasks, tasks::code_tasks, tasks::translation_tasks,
        tasks::global_mmlu_lite_tasks, tasks::vision_answer_tasks, tasks::vision_choice_tasks})
    for (TaskSpec& task : make()) all.push_back(std::move(task));
  return all;
}

// Group name -> members (every group a task names, innermost first: global_mmlu_fr and global_mmlu).
// MMLU's outer group lists its subgroups' members subgroup by subgroup, in the order lm-eval's
// tasks/mmlu/default/_mmlu.yaml lists the subgroups.
std::map<std::string, std::vector<const TaskSpec*>> make_groups(const std::vector<TaskSpec>& all) {
  static const char* const kMmluOrder[] = {"mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities"};
  std::map<std::string, std::vector<const TaskSpec*>> groups;
  for (const auto& task : all)
    for (const auto& group : task.groups) groups[group].push_back(&task);
  auto& mmlu = groups["mmlu"];
  mmlu.clear();
  for (const char* sub : kMmluOrder) mmlu.insert(mmlu.end(), groups[sub].begin(), groups[sub].end());
  return groups;
}

const std::map<std::string, std::vector<const TaskSpec*>>& groups() {
  static const auto table = make_groups(builtin_tasks());
  return table;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
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

const std::vector<TaskSpec>& builtin_tasks() {
  static const std::vector<TaskSpec> tasks = make_tasks();
  return tasks;
}

std::vector<const TaskSpec*> resolve_tasks(const std::string& name) {
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
  if (include_groups)
    for (const auto& [group, members] : groups()) names.push_back(group);
  return names;
}

}  // namespace gemma::evals
