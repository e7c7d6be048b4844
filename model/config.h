#pragma once
// Gemma 3 config.json: both Hub schemas (legacy rope_theta / rope_scaling / sliding_window_pattern and
// the transformers-v5 rope_parameters / layer_types), flat (Gemma3ForCausalLM) or nested under
// text_config (Gemma3ForConditionalGeneration). Missing keys take the Gemma3TextConfig defaults (spec
// 1.1), except the sizes and sliding_window, which have no safe default. Anything this port would
// compute differently from transformers (softcapping, bidirectional attention, other activations or
// rope types) is refused with an Error naming the file and the field.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gemma {

enum class LayerType { Sliding, Full };

struct TextConfig {
  int vocab_size, hidden_size, intermediate_size, num_layers, num_heads, num_kv_heads, head_dim;
  double query_pre_attn_scalar;  // attention scale = query_pre_attn_scalar^-0.5
  int sliding_window;
  double rope_global_base;   // full_attention layers (rope_theta)
  double rope_global_scale;  // linear scaling factor on global layers; 1.0 = none
  double rope_local_base;    // sliding layers (rope_local_base_freq); never scaled
  double rms_norm_eps;
  int max_position_embeddings;
  std::vector<LayerType> layer_types;  // size num_layers
  std::string hidden_activation;       // must be gelu_pytorch_tanh
};

// The SigLIP vision tower of the multimodal sizes (transformers models/gemma3/configuration_gemma3.py@008f5c8c);
// missing keys take SiglipVisionConfig's defaults, as transformers does.
struct VisionConfig {
  int image_size = 224, patch_size = 16, num_channels = 3;
  int hidden_size = 768, intermediate_size = 3072, num_layers = 12, num_heads = 12;
  double layer_norm_eps = 1e-6;
  int patches_per_side() const { return image_size / patch_size; }
  int head_dim() const { return hidden_size / num_heads; }
};

struct ModelConfig {
  std::string architecture;  // "Gemma3ForCausalLM" | "Gemma3ForConditionalGeneration"
  std::string model_type;    // "gemma3_text" | "gemma3"
  TextConfig text;
  bool multimodal = false;
  nlohmann::json vision_config;  // raw; null for text-only
  VisionConfig vision;           // meaningful when multimodal
  int mm_tokens_per_image = 0, image_token_index = -1, boi_token_index = -1, eoi_token_index = -1;
  int mm_tokens_per_side() const;  // sqrt(mm_tokens_per_image): the pooled grid is square
  int bos_token_id = 2, pad_token_id = 0;
  std::vector<int> eos_token_ids;  // int or list in the file
  std::string torch_dtype;         // as written ("bfloat16"), "" if absent
};

// source_name (usually the file path) appears in every message.
ModelConfig parse_config(const nlohmann::json& config, const std::string& source_name);
ModelConfig load_config(const std::filesystem::path& config_json);
// "270m", "1b", "4b", "12b", "27b": the released sizes (transformers models/gemma3/configuration_gemma3.py@008f5c8c),
// shaped like their Hub configs. Error listing the valid names otherwise.
ModelConfig config_preset(const std::string& size);

const char* layer_type_name(LayerType type);  // "sliding_attention" | "full_attention", as in layer_types

}  // namespace gemma
