// libFuzzer target: the native tokenizer.json reader (HfTokenizer). The input is tokenizer.json's
// text, optionally followed by a NUL byte and tokenizer_config.json's text. Whatever loads is then
// used: a few fixed strings are encoded, decoded and looked up. gemma::Error is the expected outcome
// for bad input; any other exception, crash, sanitizer report or hang is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "model/hf_tokenizer.h"

namespace {

const char* const kTexts[] = {
    "Hello world! The quick brown fox.\n\n  <bos><start_of_turn>user\tdouble  spaces",
    "\xC3\xBC\xC3\xB1\xC3\xAF\xC3\xA7\xC3\xB8\xE2\x96\x81"
    "d\xC3\xA9 \xF0\x9F\x99\x82 \xFF\xFE\x80 <unk><eos>",
    "",
};

void exercise(const gemma::HfTokenizer& tokenizer) {
  const int vocab_size = tokenizer.vocab_size();
  for (const char* text : kTexts) {
    std::vector<int> ids = tokenizer.encode(text);
    for (int id : ids) {
      if (id < 0 || id >= vocab_size) std::abort();  // encode must only produce known ids
      std::string piece = tokenizer.piece(id);
      (void)tokenizer.piece_to_id(piece);
      (void)tokenizer.is_special(id);
      (void)tokenizer.is_added_token(id);
    }
    (void)tokenizer.decode(ids, true);
    (void)tokenizer.decode(ids, false);
  }
  (void)tokenizer.decode({-1, 0, 1, 2, 3, vocab_size, vocab_size + 1}, false);
  (void)tokenizer.special();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view tokenizer_json = input, config_json;
  if (size_t nul = input.find('\0'); nul != std::string_view::npos) {
    tokenizer_json = input.substr(0, nul);
    config_json = input.substr(nul + 1);
  }
  try {
    gemma::HfTokenizer tokenizer(tokenizer_json, config_json, "fuzz/tokenizer.json");
    exercise(tokenizer);
  } catch (const gemma::Error&) {
  }
  return 0;
}
