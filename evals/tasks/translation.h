#pragma once
// What the translation adapters share: WMT24++ (the google/wmt24pp dataset card) and FloRes (lm-eval
// lm_eval/tasks/galician_bench/flores_gl/_flores_common_yaml@4e7e0d47), scored by corpus chrF (sacrebleu
// sacrebleu/metrics/chrf.py@f615c728). One adapter file each, each registering its own tasks:
// - evals/tasks/wmt24pp.cpp: wmt24pp_en-<xx_YY> for the dataset's 55 en->xx pairs, group "wmt24pp" (reads
//   data_dir/wmt24pp/en-<xx_YY>.jsonl, drops is_bad_source rows);
// - evals/tasks/flores.cpp: flores_<src>-<tgt> (lm-eval's galician_bench naming), English to and from 19
//   languages, group "flores" (reads data_dir/flores200/devtest/<code>.devtest; shots from dev/<code>.dev).
#include <string>
#include <vector>

#include "evals/task.h"
#include "scorers/chrf.h"

namespace gemma::evals::tasks {

// Shared by the translation adapters (defined in wmt24pp.cpp):
// lm-eval's corpus `chrf` metric (the metric registry's chrf, or chrf++ for word_order 2): sacrebleu
// corpus_chrf over all docs with `options` (defaults = CHRF(); other settings are an error), bootstrap
// stderr over 100 resamples (lm-eval: bleu/chrf/ter use min(iters, 100), lm-eval
// lm_eval/api/metrics.py::stderr_for_metric@4e7e0d47).
MetricSpec corpus_chrf_metric(const scorers::ChrfOptions& options = {}, const std::string& name = "chrf");
// A GenerateUntil task that stops at the first newline and scores the stripped generation by chrF.
void set_translation_generation(TaskSpec& task);

}  // namespace gemma::evals::tasks
