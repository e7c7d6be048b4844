#pragma once
// The answer checks of SpatialSense VQA (the SpatialSense paper) and ReMI (the ReMI paper). Neither has an
// lm-eval / lmms-eval / big_vision reference implementation: both are a best-effort reading of their
// papers ([inferred], docs/deviations.md), on the EvalAI VQA answer normaliser (scorers/vqa_accuracy.h).
// Registered as acc:spatialsense and acc:remi (scorers/metric_registry.h). Each is 1 or 0, the gold
// answer being references[0]. Torch-free.
#include <string>
#include <vector>

namespace gemma::scorers {

// The EvalAI-normalised text's first word ("" for none).
std::string first_normalized_word(const std::string& text);

// SpatialSense: the first word of the EvalAI-normalised prediction equals the yes/no label.
double spatialsense_accuracy(const std::string& prediction, const std::vector<std::string>& references);
// ReMI: exact match after the EvalAI normaliser; a numeric gold answer also accepts a number within 1%
// (relative) of it.
double remi_accuracy(const std::string& prediction, const std::vector<std::string>& references);

}  // namespace gemma::scorers
