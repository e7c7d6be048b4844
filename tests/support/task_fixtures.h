#pragma once
// Shared by the dataset and task tests: where the real data and the bundled samples are, and a task
// looked up by its exact name.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "common/error.h"
#include "evals/task_registry.h"

namespace gemma::test {

inline const std::filesystem::path kSharedData = std::filesystem::path(GEMMA_TEST_SHARED_DIR) / "data";
inline const std::filesystem::path kBundledSamples =
    std::filesystem::path(GEMMA_TEST_SOURCE_DIR) / "datasets" / "samples";

inline const evals::TaskSpec& task_named(const std::string& name) {
  const auto tasks = evals::resolve_tasks(name);
  REQUIRE(tasks.size() == 1);
  return *tasks[0];
}

// Copies of the tasks that task or group names (resolve_tasks order: builtin_tasks() order within a
// group), e.g. one task family's tasks by its group, concatenated in the order of `names`.
inline std::vector<evals::TaskSpec> tasks_named(std::initializer_list<const char*> names) {
  std::vector<evals::TaskSpec> tasks;
  for (const char* name : names)
    for (const evals::TaskSpec* task : evals::resolve_tasks(name)) tasks.push_back(*task);
  return tasks;
}

// The task named `name` in a list of tasks (e.g. one family's, from tasks_named).
inline const evals::TaskSpec& find_task(const std::vector<evals::TaskSpec>& tasks, const std::string& name) {
  for (const evals::TaskSpec& t : tasks)
    if (t.name == name) return t;
  FAIL("no task " << name);
  return tasks.front();
}

// lm-eval's plain-text k-shot prompt (lm-eval lm_eval/api/task.py::fewshot_context@4e7e0d47) from a task's own
// rendering functions.
inline std::string render_prompt(const evals::TaskSpec& t, const std::vector<evals::Doc>& shots,
                                 const evals::Doc& doc) {
  std::string prompt = t.description;
  for (const evals::Doc& shot : shots)
    prompt += t.doc_to_text(shot) + t.target_delimiter + t.doc_to_target(shot) + t.fewshot_delimiter;
  return prompt + t.doc_to_text(doc);
}

// The message of the gemma::Error `action` throws (a test failure when it throws none).
inline std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const gemma::Error& e) {
    return e.what();
  }
  FAIL("expected a gemma::Error");
  return "";
}

}  // namespace gemma::test
