#pragma once
// ChartQA relaxed accuracy (lmms-eval tasks/chartqa/utils.py::
// relaxed_correctness, from Qwen-VL): when both sides read as numbers and the target is non-zero, the
// prediction is correct within 5% relative error; otherwise a case-insensitive exact string match
// (no trimming). Torch-free.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/python_float.h"

namespace gemma::scorers {

// The one variant (lmms-eval = Qwen-VL = the ChartQA paper's rule), recorded with results.
inline constexpr const char* kRelaxedAccuracyVariant = "lmms";
inline constexpr double kRelaxedMaxRelativeChange = 0.05;

using gemma::python_float;  // Python's float(text), common/python_float.h

// relaxed_correctness's _to_float: text ending in "%" loses every trailing "%" and is divided by
// 100 ("12%" -> 0.12, "5%%" -> 0.05); otherwise python_float.
std::optional<double> chartqa_to_float(std::string_view text);

// The Qwen-VL rule for one target: if the prediction parses and the target parses to a truthy
// float (non-zero; NaN counts as truthy), |p - t| / |t| <= max_relative_change; otherwise
// prediction.lower() == target.lower().
bool relaxed_correctness(std::string_view prediction, std::string_view target,
                         double max_relative_change = kRelaxedMaxRelativeChange);

// 1.0 when the prediction is relaxed-correct for any reference (ChartQA has one), else 0.0.
// References must not be empty (gemma::Error otherwise).
double relaxed_accuracy(std::string_view prediction, const std::vector<std::string>& references,
                        double max_relative_change = kRelaxedMaxRelativeChange);

}  // namespace gemma::scorers
