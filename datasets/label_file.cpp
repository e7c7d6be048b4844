#include "datasets/label_file.h"

#include "common/error.h"

namespace gemma::datasets {

std::vector<LabelLine> parse_label_lines(std::string_view text, const std::string& source) {
  std::vector<LabelLine> labels;
  size_t line = 0, pos = 0, first_blank = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view value = text.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    const size_t begin = value.find_first_not_of(" \t\r");
    value = begin == std::string_view::npos ? std::string_view()
                                            : value.substr(begin, value.find_last_not_of(" \t\r") - begin + 1);
    if (value.empty()) {
      if (first_blank == 0) first_blank = line;
      continue;
    }
    if (first_blank != 0) fail("{}:{}: empty line inside a label file", source, first_blank);
    labels.push_back({line, std::string(value)});
  }
  return labels;
}

}  // namespace gemma::datasets
