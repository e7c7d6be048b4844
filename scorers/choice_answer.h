#pragma once
// The answer checks of lmms-eval's vision multiple-choice tasks (lmms_eval/tasks/@75571cfe): a letter
// extracted from a free-form response, compared with the gold letter (or answer). Registered as
// exact_match:lmms_ai2d, exact_match:lmms_realworldqa and blink_acc (scorers/metric_registry.h).
// Torch-free.
#include <string>
#include <vector>

#include "scorers/exact_match.h"

namespace gemma::scorers {

// lmms-eval ai2d's filter (lmms_eval/tasks/ai2d/utils.py@75571cfe): a response starting "<spaces><capital
// letter>." gives that letter, any other response is kept whole.
std::string ai2d_extract(const std::string& response);
// lmms-eval ai2d's metric: lm-eval exact_match (with `options`; the task's: ignore_case and
// ignore_punctuation) of ai2d_extract(prediction) against the references.
double ai2d_exact_match(const ExactMatch& exact_match, const std::string& prediction,
                        const std::vector<std::string>& references);

// lmms-eval's extract_mcq_answer (lmms_eval/tasks/_task_utils/mcq_extract.py@c228e273) with the default
// choices A-H: every letter found in some format is a candidate; the highest-priority format wins (start
// 10, end 9, answer phrase 7, "(A)" 6, "A." 5, "A:" 4, "A)" 3, "A " 2, any occurrence 0 only when nothing
// else matched), then the later position. "" when no letter occurs.
std::string extract_mcq_answer(const std::string& response);
// lmms-eval realworldqa's process_results (lmms_eval/tasks/realworldqa/@75571cfe): a letter gold
// answer (A-D) is compared with extract_mcq_answer(prediction); any other with
// prediction.lower().strip().rstrip('.') == gold.lower().strip(). 1 or 0; references[0] is the gold.
double realworldqa_accuracy(const std::string& prediction, const std::vector<std::string>& references);

// lmms-eval blink's accuracy (lmms_eval/tasks/blink/@75571cfe), on the letter the task's
// filter extracted (_extract_answer_letter): 1 when the prediction is one letter equal, case-insensitively,
// to the gold letter references[0] (the answer "(A)" stripped of its parentheses).
double blink_accuracy(const std::string& prediction, const std::vector<std::string>& references);

}  // namespace gemma::scorers
