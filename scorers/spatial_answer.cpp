#include "scorers/spatial_answer.h"

#include <cmath>

#include "common/python_float.h"
#include "scorers/single_reference.h"
#include "scorers/vqa_accuracy.h"

namespace gemma::scorers {

std::string first_normalized_word(const std::string& text) {
  const std::string normalized = vqa_normalize_answer(text);
  const size_t begin = normalized.find_first_not_of(' ');
  if (begin == std::string::npos) return "";
  return normalized.substr(begin, normalized.find(' ', begin) - begin);
}

double spatialsense_accuracy(const std::string& prediction, const std::vector<std::string>& references) {
  return first_normalized_word(prediction) == single_reference(references, "spatialsense accuracy") ? 1.0 : 0.0;
}

double remi_accuracy(const std::string& prediction, const std::vector<std::string>& references) {
  const std::string pred = vqa_normalize_answer(prediction);
  const std::string gold = vqa_normalize_answer(single_reference(references, "remi accuracy"));
  if (pred == gold) return 1.0;
  const auto gold_number = python_float(gold);
  const auto pred_number = python_float(pred);
  if (!gold_number || !pred_number || !std::isfinite(*gold_number) || !std::isfinite(*pred_number)) return 0.0;
  return std::fabs(*pred_number - *gold_number) <= 0.01 * std::fabs(*gold_number) ? 1.0 : 0.0;
}

}  // namespace gemma::scorers
