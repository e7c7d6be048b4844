#pragma once
// Single-answer metrics (RealWorldQA, BLINK, TallyQA, CountBenchQA, SpatialSense, ReMI) score against the
// first reference; a doc without one is a bad row, reported by name rather than as std::out_of_range.
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace gemma::scorers {

inline const std::string& single_reference(const std::vector<std::string>& references, std::string_view metric) {
  if (references.empty()) fail("{}: no reference answer to score the prediction against", metric);
  return references.front();
}

}  // namespace gemma::scorers
