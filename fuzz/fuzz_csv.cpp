// libFuzzer target: the RFC 4180 CSV reader (datasets/csv.h). gemma::Error is the expected outcome
// for bad input; any other exception, crash, sanitizer report or hang is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/error.h"
#include "datasets/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto records = gemma::datasets::parse_csv(text, "fuzz.csv");
    size_t previous_line = 0, total = 0;
    for (const auto& record : records) {
      if (record.line <= previous_line || record.fields.empty()) std::abort();
      previous_line = record.line;
      for (const auto& field : record.fields) total += field.size();
    }
    if (total > size) std::abort();  // fields are slices of the input (doubled quotes shrink)
  } catch (const gemma::Error&) {
  }
  return 0;
}
