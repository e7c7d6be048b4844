// libFuzzer target: the JSON Lines reader (datasets/jsonl.h). Parsed records are then dumped, as the
// logged samples do with every doc. gemma::Error is the expected outcome for bad input; any other
// exception, crash, sanitizer report or hang is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/error.h"
#include "datasets/jsonl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto records = gemma::datasets::parse_jsonl(text, "fuzz.jsonl");
    size_t previous_line = 0;
    for (const auto& record : records) {
      if (record.line <= previous_line) std::abort();
      previous_line = record.line;
      (void)record.value.dump();
    }
  } catch (const gemma::Error&) {
  }
  return 0;
}
