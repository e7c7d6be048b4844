#include "evals/tasks/text.h"

#include "common/python_text.h"

namespace gemma::evals::tasks {

std::string py_capitalize(std::string_view text) {
  if (text.empty()) return "";
  const auto lead = static_cast<unsigned char>(text[0]);
  std::string first;
  size_t first_len = 1;
  if (lead < 0x80) {
    first = std::string(1, (lead >= 'a' && lead <= 'z') ? static_cast<char>(lead - 32) : static_cast<char>(lead));
  } else {
    first_len = (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
    if (first_len > text.size()) first_len = 1;
    first = std::string(text.substr(0, first_len));
    // Latin-1 small letters U+00E0..U+00FE (not U+00F7) are "\xC3\xA0".."\xC3\xBE"; upper = -0x20.
    const auto second = first_len == 2 ? static_cast<unsigned char>(text[1]) : 0;
    if (lead == 0xC3 && second >= 0xA0 && second <= 0xBE && second != 0xB7) first[1] = static_cast<char>(second - 0x20);
  }
  return first + python_lower(text.substr(first_len));
}

}  // namespace gemma::evals::tasks
