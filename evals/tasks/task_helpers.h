#pragma once
// What every task adapter (evals/tasks/<family>.cpp) builds its TaskSpecs from. Each adapter file
// registers its own tasks with a TaskRegistration (evals/task_registry.h); no header lists them.
#include <string>
#include <vector>

#include "evals/registry_metric.h"
#include "evals/task.h"

namespace gemma::evals::tasks {

// The identity every adapter starts from: lm-eval's name and version, the request kind, the model
// card's shot count and the shot sampler (lm-eval's default is random).
inline TaskSpec new_task(std::string name, int version, OutputType type, int default_shots,
                         ShotSampler sampler = ShotSampler::Random) {
  TaskSpec t;
  t.name = std::move(name);
  t.version = version;
  t.output_type = type;
  t.default_shots = default_shots;
  t.sampler = sampler;
  return t;
}

// lm-eval's exact_match with ignore_case and ignore_punctuation, as the CoT tasks that extract a
// letter or a number (MMLU-Pro, GPQA generative, MGSM) declare it.
inline MetricSpec exact_match_ignoring_case_and_punctuation() {
  return registry_metric("exact_match", "", {{"ignore_case", true}, {"ignore_punctuation", true}});
}

}  // namespace gemma::evals::tasks
