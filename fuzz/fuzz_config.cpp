// libFuzzer target: config.json, as load_config reads it (JSON text -> parse_config).
// gemma::Error is the expected outcome for bad input (load_config turns JSON syntax errors into one);
// any other exception, crash, sanitizer report or hang is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // load_config reports this as "config ... is not valid JSON"
  }
  try {
    gemma::ModelConfig config = gemma::parse_config(parsed, "fuzz/config.json");
    const gemma::TextConfig& text = config.text;
    // What the model layer relies on.
    if (text.layer_types.size() != static_cast<size_t>(text.num_layers)) std::abort();
    if (text.num_heads <= 0 || text.num_kv_heads <= 0 || text.num_heads % text.num_kv_heads != 0) std::abort();
    if (text.head_dim <= 0 || text.head_dim % 2 != 0 || config.eos_token_ids.empty()) std::abort();
  } catch (const gemma::Error&) {
  }
  return 0;
}
