#include "scorers/count_answer.h"

#include <map>

#include "common/python_text.h"
#include "scorers/single_reference.h"

namespace gemma::scorers {

std::string number_word_to_numeral(const std::string& text) {
  static const std::map<std::string, std::string> kReplacements = [] {
    static const char* const kWords[] = {"zero",     "one",      "two",      "three",   "four",    "five",
                                         "six",      "seven",    "eight",    "nine",    "ten",     "eleven",
                                         "twelve",   "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                                         "eighteen", "nineteen", "twenty"};
    std::map<std::string, std::string> map{{"none", "0"}};
    for (int i = 0; i <= 20; ++i) map[kWords[i]] = std::to_string(i);
    return map;
  }();
  const auto it = kReplacements.find(python_lower(text));
  return it == kReplacements.end() ? text : it->second;
}

double tallyqa_accuracy(const std::string& prediction, const std::vector<std::string>& references) {
  return number_word_to_numeral(prediction) == number_word_to_numeral(single_reference(references, "tallyqa accuracy"))
             ? 1.0
             : 0.0;
}

double countbenchqa_big_vision_accuracy(const std::string& prediction, const std::vector<std::string>& references) {
  return number_word_to_numeral(python_strip(prediction)) == single_reference(references, "countbenchqa accuracy")
             ? 1.0
             : 0.0;
}

double countbenchqa_lmms_accuracy(const std::string& prediction, const std::vector<std::string>& references) {
  return python_strip(prediction) == single_reference(references, "countbenchqa accuracy") ? 1.0 : 0.0;
}

}  // namespace gemma::scorers
