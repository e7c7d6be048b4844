#include "model/config.h"

// The released Gemma 3 sizes as config.json values, for benchmarks and tests that need a model's shape
// without its checkpoint; parsed by parse_config (config.cpp) like a file from the Hub.
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace gemma {
using nlohmann::json;

namespace {

// The SigLIP So400m/14 tower shared by 4B / 12B / 27B (transformers models/gemma3/configuration_gemma3.py@008f5c8c).
json released_vision_config() {
  return {{"model_type", "siglip_vision_model"},
          {"image_size", 896},
          {"patch_size", 14},
          {"num_channels", 3},
          {"hidden_size", 1152},
          {"intermediate_size", 4304},
          {"num_hidden_layers", 27},
          {"num_attention_heads", 16},
          {"hidden_act", "gelu_pytorch_tanh"},
          {"layer_norm_eps", 1e-6},
          {"vision_use_head", false}};
}

// 270M / 1B: flat Gemma3ForCausalLM configs that spell everything out.
json text_only_preset(int hidden, int intermediate, int layers) {
  return {{"architectures", {"Gemma3ForCausalLM"}},
          {"model_type", "gemma3_text"},
          {"vocab_size", 262144},
          {"hidden_size", hidden},
          {"intermediate_size", intermediate},
          {"num_hidden_layers", layers},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 1},
          {"head_dim", 256},
          {"query_pre_attn_scalar", 256},
          {"sliding_window", 512},
          {"sliding_window_pattern", 6},
          {"rope_theta", 1e6},
          {"rope_local_base_freq", 1e4},
          {"rope_scaling", nullptr},
          {"max_position_embeddings", 32768},
          {"bos_token_id", 2},
          {"pad_token_id", 0},
          {"eos_token_id", {1, 106}},
          {"torch_dtype", "bfloat16"}};
}

// 4B / 12B / 27B: like the Hub files, text_config writes only what differs from the defaults.
json multimodal_preset(json text_config) {
  text_config["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 8.0}};
  text_config["sliding_window"] = 1024;
  return {{"architectures", {"Gemma3ForConditionalGeneration"}},
          {"model_type", "gemma3"},
          {"text_config", std::move(text_config)},
          {"vision_config", released_vision_config()},
          {"mm_tokens_per_image", 256},
          {"boi_token_index", 255999},
          {"eoi_token_index", 256000},
          {"image_token_index", 262144},
          {"eos_token_id", {1, 106}},
          {"torch_dtype", "bfloat16"}};
}

}  // namespace

ModelConfig config_preset(const std::string& size) {
  json preset;
  if (size == "270m")
    preset = text_only_preset(640, 2048, 18);
  else if (size == "1b")
    preset = text_only_preset(1152, 6912, 26);
  else if (size == "4b")
    preset = multimodal_preset({{"hidden_size", 2560}, {"intermediate_size", 10240}, {"num_hidden_layers", 34}});
  else if (size == "12b")
    preset = multimodal_preset({{"hidden_size", 3840},
                                {"intermediate_size", 15360},
                                {"num_hidden_layers", 48},
                                {"num_attention_heads", 16},
                                {"num_key_value_heads", 8}});
  else if (size == "27b")
    preset = multimodal_preset({{"head_dim", 128},
                                {"hidden_size", 5376},
                                {"intermediate_size", 21504},
                                {"num_attention_heads", 32},
                                {"num_hidden_layers", 62},
                                {"num_key_value_heads", 16},
                                {"query_pre_attn_scalar", 168}});
  else
    fail("unknown Gemma 3 size '{}': expected one of 270m, 1b, 4b, 12b, 27b", size);
  return parse_config(preset, fmt::format("preset {}", size));
}

}  // namespace gemma
