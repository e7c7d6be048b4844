#pragma once
// Multilingual benchmarks of the Gemma 3 card: WMT24++ (the google/wmt24pp dataset card) and FloRes (lm-eval
// lm_eval/tasks/galician_bench/flores_gl/_flores_common_yaml@4e7e0d47) translation, scored by corpus chrF (sacrebleu
// sacrebleu/metrics/chrf.py@f615c728), and Global-MMLU-Lite (lm-eval lm_eval/tasks/global_mmlu/default/*@4e7e0d47). One
// adapter file each: evals/tasks/{wmt24pp,flores,global_mmlu_lite}.cpp.
#include <string>
#include <vector>

#include "evals/task.h"
#include "scorers/chrf.h"

namespace gemma::evals::tasks {

// wmt24pp_en-<xx_YY> for the dataset's 55 en->xx pairs, group "wmt24pp" (reads
// data_dir/wmt24pp/en-<xx_YY>.jsonl, drops is_bad_source rows).
std::vector<TaskSpec> wmt24pp_tasks();
// flores_<src>-<tgt> (lm-eval's galician_bench naming), English to and from 19 languages, group
// "flores" (reads data_dir/flores200/devtest/<code>.devtest; shots from dev/<code>.dev).
std::vector<TaskSpec> flores_tasks();
// wmt24pp_tasks() followed by flores_tasks().
std::vector<TaskSpec> translation_tasks();
// global_mmlu_<lang>_<category> for lm-eval's 15 languages x 6 subject categories, groups
// {global_mmlu_<lang>, global_mmlu} (reads data_dir/global_mmlu_lite/<lang>/{test,dev}.jsonl).
std::vector<TaskSpec> global_mmlu_lite_tasks();

// Shared by the translation adapters (defined in wmt24pp.cpp):
// lm-eval's corpus `chrf` metric (the metric registry's chrf, or chrf++ for word_order 2): sacrebleu
// corpus_chrf over all docs with `options` (defaults = CHRF(); other settings are an error), bootstrap
// stderr over 100 resamples (lm-eval: bleu/chrf/ter use min(iters, 100), lm-eval
// lm_eval/api/metrics.py::stderr_for_metric@4e7e0d47).
MetricSpec corpus_chrf_metric(const scorers::ChrfOptions& options = {}, const std::string& name = "chrf");
// A GenerateUntil task that stops at the first newline and scores the stripped generation by chrF.
void set_translation_generation(TaskSpec& task);

}  // namespace gemma::evals::tasks
