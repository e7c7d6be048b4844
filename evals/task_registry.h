#pragma once
// Every built-in task, by lm-eval's task names, and the groups that name several at once
// ("mmlu", "mmlu_stem", "mmlu_humanities", "mmlu_social_sciences", "mmlu_other").
#include <string>
#include <vector>

#include "evals/task.h"

namespace gemma::evals {

// Every task, built once: MMLU subjects first (alphabetical), then hellaswag, boolq, piqa,
// social_iqa, arc_easy, arc_challenge, winogrande, gsm8k, gsm8k_cot.
const std::vector<TaskSpec>& builtin_tasks();

// A task name, a task's alias or a group name -> the tasks it names, in a stable order ("mmlu" follows lm-eval's
// group order stem, other, social_sciences, humanities; subjects alphabetical within each).
// Unknown -> gemma::Error naming close matches and pointing at --list-tasks.
std::vector<const TaskSpec*> resolve_tasks(const std::string& name);

// Task names in builtin_tasks() order, then (if asked) the group names, sorted.
std::vector<std::string> list_task_names(bool include_groups);

}  // namespace gemma::evals
