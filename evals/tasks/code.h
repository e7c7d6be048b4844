#pragma once
// What the code-generation tasks share (evals/tasks/humaneval.cpp: humaneval, 0-shot, pass@1, filter
// "create_test"; evals/tasks/mbpp.cpp: mbpp, 3 fixed shots (task_ids 2, 3, 4), pass_at_1), scored by
// running the model's program as lm-eval @4e7e0d47 lm_eval/tasks/{mbpp,humaneval}/ run them, pass@k as HF
// evaluate's metrics/code_eval computes it. Each doc's references hold everything the check
// needs, so `rescore` works from (prediction, references) alone; programs run in sandbox/sandbox.h with HF code_eval's
// 3 s per program.
#include <functional>
#include <string>
#include <vector>

#include "evals/task.h"
#include "sandbox/sandbox.h"
#include "scorers/metric_registry.h"
#include "scorers/pass_at_k.h"

namespace gemma::evals::tasks {

// HF evaluate code_eval's default per-program timeout (lm-eval's humaneval/mbpp utils keep it).
inline constexpr double kProgramTimeoutSeconds = 3.0;

inline sandbox::SandboxLimits code_scoring_limits() {
  sandbox::SandboxLimits limits;
  limits.timeout_seconds = kProgramTimeoutSeconds;
  return limits;
}

// The registry's pass@1 (greedy: one sample per problem, so pass@1 = 1 if it passes else 0) over the
// check program built from the filtered prediction and the doc's references, run in the sandbox.
// "Passes" is code_eval's: the check program ran to its end (a program that exits before its tests
// finish fails; sandbox.h).
inline MetricSpec pass_at_1_metric(
    std::string name,
    std::function<std::string(const std::string& prediction, const std::vector<std::string>& references)> program) {
  const scorers::Metric* entry = &scorers::metric_registry().find("pass@1");  // lives as long as the program
  MetricSpec metric;
  metric.name = std::move(name);
  metric.higher_is_better = entry->higher_is_better;
  metric.variant = "hf_code_eval";
  metric.registry_key = entry->key();
  scorers::MetricContext context;
  context.program_passes = [](const std::string& check_program) {
    return sandbox::python_program_passes(check_program, code_scoring_limits());
  };
  // The entry appends the references as test code; the task's builder already has, so it gets none.
  metric.score_record = [entry, context, program = std::move(program)](const scorers::MetricDoc& doc,
                                                                       const std::string& prediction,
                                                                       const std::vector<std::string>& references) {
    return entry->score(doc, program(prediction, references), {}, context).front().second;
  };
  metric.score = [score_record = metric.score_record](const std::string& prediction,
                                                      const std::vector<std::string>& references) {
    return score_record(scorers::MetricDoc(), prediction, references);
  };
  return metric;
}

}  // namespace gemma::evals::tasks
