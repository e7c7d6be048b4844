#pragma once
// Which tensor names and shapes a Gemma 3 config needs from a checkpoint (transformers
// models/gemma3/convert_gemma3_weights.py@0d7e95d9). Torch-free, so a mismatched checkpoint is caught in fast tests and
// before any weight is loaded.
#include <optional>
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "model/config.h"

namespace gemma {

enum class NamingScheme {
  TextOnly,          // model.*                 (Gemma3ForCausalLM)
  MultimodalLegacy,  // language_model.model.*  (Hub release of Gemma3ForConditionalGeneration)
  MultimodalNew      // model.language_model.*  (transformers >= 4.52 save_pretrained)
};

struct ExpectedTensor {
  std::string role;  // scheme-independent, e.g. "layers.3.self_attn.q_proj.weight"
  std::string name;  // full name in the file
  std::vector<int64_t> shape;
};

const char* naming_scheme_name(NamingScheme scheme);  // "model.*" style description, for messages
std::string text_tensor_prefix(NamingScheme scheme);  // "model.", "language_model.model.", "model.language_model."

// Decided by which embed_tokens name is present; Error listing what was looked for (in `where`).
NamingScheme detect_naming_scheme(const std::vector<std::string>& names, const std::string& where);

// Embedding, 13 tensors per layer (transformers models/gemma3/convert_gemma3_weights.py@0d7e95d9 order), final norm: 1
// + 13 L + 1 entries.
std::vector<ExpectedTensor> expected_text_tensors(const TextConfig& text, NamingScheme scheme);

// The vision tower's and projector's prefixes: "vision_tower.vision_model." and "multi_modal_projector."
// (legacy) or the same under "model." (new). Error for the text-only scheme.
std::string vision_tensor_prefix(NamingScheme scheme);
std::string projector_tensor_prefix(NamingScheme scheme);

// SigLIP (embeddings, 16 tensors per encoder layer, post_layernorm) and the projector's two tensors;
// roles are relative names such as "encoder.layers.3.self_attn.q_proj.weight" and "mm_soft_emb_norm.weight".
std::vector<ExpectedTensor> expected_vision_tensors(const ModelConfig& config, NamingScheme scheme);

// "lm_head.weight" / "language_model.lm_head.weight". Gemma ties it to the embedding, so it is usually absent.
std::optional<std::string> lm_head_name(NamingScheme scheme);

// Checks every expected tensor exists with the expected shape and a float dtype (F32/BF16/F16); an optional
// lm_head must equal the embedding shape; a text tensor the config does not expect (e.g. a layer beyond
// num_hidden_layers) is refused. Error names the tensor, the file it is in, the expected and actual shape.
void check_text_tensors(const ModelConfig& config, const Checkpoint& checkpoint);

// The same for the vision tower and projector of a multimodal config (also refusing vision tensors
// beyond the configured layers).
void check_vision_tensors(const ModelConfig& config, const Checkpoint& checkpoint);

}  // namespace gemma
