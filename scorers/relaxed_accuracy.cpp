#include "scorers/relaxed_accuracy.h"

#include <cmath>

#include "common/error.h"
#include "common/python_text.h"

namespace gemma::scorers {

std::optional<double> chartqa_to_float(std::string_view text) {
  if (!text.empty() && text.back() == '%') {
    size_t end = text.size();
    while (end > 0 && text[end - 1] == '%') --end;
    const auto value = python_float(text.substr(0, end));
    if (!value) return std::nullopt;
    return *value / 100.0;
  }
  return python_float(text);
}

bool relaxed_correctness(std::string_view prediction, std::string_view target, double max_relative_change) {
  const auto predicted = chartqa_to_float(prediction);
  const auto gold = chartqa_to_float(target);
  if (predicted && gold && *gold != 0.0)  // Python truthiness: 0.0 is false, NaN is true
    return std::fabs(*predicted - *gold) / std::fabs(*gold) <= max_relative_change;
  return python_lower(prediction) == python_lower(target);
}

double relaxed_accuracy(std::string_view prediction, const std::vector<std::string>& references,
                        double max_relative_change) {
  if (references.empty()) fail("relaxed accuracy: no reference to score the prediction against");
  for (const std::string& reference : references)
    if (relaxed_correctness(prediction, reference, max_relative_change)) return 1.0;
  return 0.0;
}

}  // namespace gemma::scorers
