#pragma once
// The text task adapters declared here (MMLU, HellaSwag, ARC, PIQA, BoolQ, WinoGrande, SocialIQA,
// GSM8K) and the vision families, one file each (evals/tasks/<benchmark>.cpp), plus the helpers every
// adapter uses; the other families are declared in code.h, open_qa.h, reasoning.h and translation.h.
// evals/task_registry.cpp collects them all. Each returns fully filled TaskSpecs with lm-eval's names.
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

std::vector<TaskSpec> mmlu_tasks();  // mmlu_<subject> x 57, groups {mmlu_<category>, mmlu}
TaskSpec hellaswag_task();
TaskSpec arc_easy_task();
TaskSpec arc_challenge_task();
TaskSpec piqa_task();
TaskSpec boolq_task();
TaskSpec winogrande_task();
TaskSpec social_iqa_task();
TaskSpec gsm8k_task();
TaskSpec gsm8k_cot_task();
// Vision (multimodal models; images through TaskSpec::doc_to_images):
// docvqa, infovqa, chartqa, textvqa, vqav2, ok_vqa, coco_cap (vision_answer*.cpp)
std::vector<TaskSpec> vision_answer_tasks();
// ai2d, mmmu, realworldqa, tallyqa, countbenchqa, blink, spatialsense, remi (vision_choice*.cpp)
std::vector<TaskSpec> vision_choice_tasks();

// MMLU's 57 subjects, alphabetical, with lm-eval's category (tasks/mmlu/default/mmlu_<s>.yaml).
struct MmluSubject {
  const char* name;
  const char* category;  // "stem", "other", "social_sciences", "humanities"
};
const std::vector<MmluSubject>& mmlu_subjects();

}  // namespace gemma::evals::tasks
