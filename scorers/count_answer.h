#pragma once
// The answer checks of the counting benchmarks: big_vision's TallyQA evaluation (PaliGemma transfer,
// big_vision configs/proj/paligemma/transfers/tallyqa.py, HEAD), which big_vision's CountBenchQA protocol
// (big_vision datasets/countbenchqa, HEAD) uses too, and lmms-eval's countbenchqa
// (lmms_eval/tasks/countbenchqa/@75571cfe). Registered as acc:big_vision_tallyqa,
// acc:big_vision_countbenchqa and acc:lmms_countbenchqa (scorers/metric_registry.h). Each is 1 or 0, the
// gold count being references[0]. Torch-free.
#include <string>
#include <vector>

namespace gemma::scorers {

// big_vision's number_word_to_numeral: the whole lower-cased text looked up in REPLACEMENTS
// (none/zero -> 0, one .. twenty -> 1 .. 20), else the text unchanged.
std::string number_word_to_numeral(const std::string& text);

// big_vision tallyqa: number_word_to_numeral(prediction) == number_word_to_numeral(gold), no strip.
double tallyqa_accuracy(const std::string& prediction, const std::vector<std::string>& references);
// big_vision countbenchqa (the tallyqa evaluator on a stripped prediction):
// number_word_to_numeral(prediction.strip()) == gold.
double countbenchqa_big_vision_accuracy(const std::string& prediction, const std::vector<std::string>& references);
// lmms-eval countbenchqa: prediction.strip() == str(number).
double countbenchqa_lmms_accuracy(const std::string& prediction, const std::vector<std::string>& references);

}  // namespace gemma::scorers
