#pragma once
// `gemma-eval score`: another system's predictions scored against references with the same metric
// and extraction code gemma-eval uses for its own runs. Predictions: {"id", "prediction"} per line;
// references: {"id", "references": [...]} per line; ids (strings or integers) pair them up, in any
// order. Torch-free.
//
// --metric NAME[:VARIANT], an entry of the metric registry (scorers/metric_registry.h; the first variant
// listed is the default):
//   exact_match / em   lm-eval's exact_match with its defaults (no trimming)            (scorers/exact_match.h)
//   acc                whitespace-stripped label equality (a multiple-choice letter)
//   f1                 SQuAD token F1, best over the references                        (scorers/squad.h)
//   squad              SQuAD exact match and F1: max (best reference) | first (lm-eval's XQuAD)
//   drop               DROP exact match and F1 (lm-eval tasks/drop/utils.py); a reference is one gold
//                      answer: plain text, or a JSON array of its spans                (scorers/drop.h)
//   chrf, chrf++       sacrebleu corpus chrF / chrF++ (defaults), with lm-eval's bootstrap stderr
//   math               Minerva MATH answer equivalence: sympy (lm-eval's is_equiv, on GiNaC) |
//                      minerva-norm (normalised strings, no CAS)                       (scorers/math_answer.h)
//   pass@1             the prediction is a Python program, the references its test code, appended;
//                      1 when it runs to exit 0 in the sandbox (needs allow_code_execution)
//   anls               lmms | official                                                 (scorers/anls.h)
//   vqa                lmms_vqav2 | lmms_textvqa | lmms_okvqa | official               (scorers/vqa_accuracy.h)
//   relaxed            ChartQA relaxed accuracy, lmms                                 (scorers/relaxed_accuracy.h)
//   mmmu               MMMU's answer check; references {answer} (open) or {answer, options...}  (scorers/mmmu.h)
//   cider, bleu        COCO CIDEr-D / BLEU-4, corpus-level: ptb (PTB-tokenise first) | tokenized
// --filter NAME applies a task's answer extraction to each prediction first: TASK:PIPELINE (any task's
// filter pipeline, e.g. gsm8k:strict-match, or TASK:none for a task without filters) or a short name
// (gsm8k-strict, gsm8k-flexible, ...; see filter_aliases()). The output then also lists each id's
// extracted answer and the invalid count. When the task itself scores the metric --metric names (e.g.
// gsm8k's exact_match), the items are scored as `run` and `rescore` score that task's generations, by
// the same code: the task's metric with its options (gsm8k: ignore_case and regexes_to_ignore, applied
// to prediction and reference alike) and variant, with the task's stderr; "scored_as" says so, and a
// :VARIANT other than the task's is refused. A metric the task does not score is this file's metric
// applied to the extracted answers.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace gemma::evals {

struct OfflineRequest {
  std::string metric;  // NAME[:VARIANT]
  std::filesystem::path predictions, references;
  std::string filter;  // empty: score the predictions as they are
  bool allow_code_execution = false;
};

// One JSON object: {"metric", "variant", "score", "n"} plus "scores" (metrics with several values),
// "stderr" (chrF's bootstrap; a task's metric: the stderr `run` reports), "components" (BLEU), and with
// a filter "filter", "invalid", "extracted" (and "scored_as" when the task's own metric scored it).
// Errors (gemma::Error) name the file and line: bad JSON, a missing or ill-typed field, a duplicate id,
// an id on one side only, an unknown metric, variant or filter.
nlohmann::ordered_json score_offline(const OfflineRequest& request);

// "exact_match, em, acc, ..., anls[:lmms|official], ...", for --help and errors.
std::string known_offline_metrics();

// Short filter names -> TASK:PIPELINE.
const std::vector<std::pair<std::string, std::string>>& filter_aliases();

}  // namespace gemma::evals
