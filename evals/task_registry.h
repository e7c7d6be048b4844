#pragma once
// Every built-in task, by lm-eval's task names, and the groups that name several at once (every group a
// task declares: "mmlu", "mmlu_stem", "bbh_cot_fewshot", "global_mmlu", "xquad", ...). Metrics a task
// declares with registry_metric (evals/registry_metric.h) come from scorers/metric_registry.h, the table
// `gemma-eval score` uses.
#include <string>
#include <vector>

#include "evals/task.h"

namespace gemma::evals {

// Every task, built once, family by family in the order make_tasks() (task_registry.cpp) lists them:
// the 57 MMLU subjects (alphabetical), hellaswag, boolq, piqa, social_iqa, arc_easy, arc_challenge,
// winogrande, gsm8k, gsm8k_cot, then BBH, Minerva MATH, MGSM, AGIEval, MMLU-Pro, GPQA, the open QA
// tasks, code, translation, Global-MMLU-Lite, the vision answer and the vision choice tasks.
// `gemma-eval --list-tasks` prints them in this order; results keep it.
const std::vector<TaskSpec>& builtin_tasks();

// A task name, a task's alias or a group name -> the tasks it names, in a stable order ("mmlu" follows lm-eval's
// group order stem, other, social_sciences, humanities; subjects alphabetical within each).
// Unknown -> gemma::Error naming close matches and pointing at --list-tasks.
std::vector<const TaskSpec*> resolve_tasks(const std::string& name);

// Task names in builtin_tasks() order, then (if asked) the group names, sorted.
std::vector<std::string> list_task_names(bool include_groups);

}  // namespace gemma::evals
