#pragma once
// A label file: one label per line, parallel to a data file's rows (PIQA's and Social IQa's
// *-labels.lst: line i labels row i). Labels are whitespace-trimmed; blank lines may only trail.
#include <string>
#include <string_view>
#include <vector>

namespace gemma::datasets {

struct LabelLine {
  size_t line = 0;  // 1-based
  std::string label;
};

// `source` names the input in errors ("<source>:<line>: empty line inside a label file").
std::vector<LabelLine> parse_label_lines(std::string_view text, const std::string& source);

}  // namespace gemma::datasets
