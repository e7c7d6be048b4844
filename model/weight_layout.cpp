#include "model/weight_layout.h"

#include <algorithm>
#include <array>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"

namespace gemma {

namespace {

struct SchemeInfo {
  NamingScheme scheme;
  const char* text_prefix;
  const char* lm_head;
  const char* description;
};

constexpr std::array<SchemeInfo, 3> kSchemes = {{
    {NamingScheme::TextOnly, "model.", "lm_head.weight", "text-only (model.*)"},
    {NamingScheme::MultimodalLegacy, "language_model.model.", "language_model.lm_head.weight",
     "multimodal, legacy (language_model.model.*)"},
    {NamingScheme::MultimodalNew, "model.language_model.", "lm_head.weight",
     "multimodal, new (model.language_model.*)"},
}};

const SchemeInfo& scheme_info(NamingScheme scheme) {
  for (const auto& info : kSchemes)
    if (info.scheme == scheme) return info;
  fail("internal error: unknown NamingScheme value {}", static_cast<int>(scheme));
}

const std::string kEmbedRole = "embed_tokens.weight";

// Per decoder layer, in transformers models/gemma3/convert_gemma3_weights.py@0d7e95d9 order: role suffix and shape.
std::vector<std::pair<std::string, std::vector<int64_t>>> layer_tensor_shapes(const TextConfig& t) {
  const int64_t H = t.hidden_size, I = t.intermediate_size, hd = t.head_dim;
  const int64_t q_width = int64_t(t.num_heads) * hd, kv_width = int64_t(t.num_kv_heads) * hd;
  return {
      {"input_layernorm.weight", {H}},
      {"self_attn.q_proj.weight", {q_width, H}},
      {"self_attn.k_proj.weight", {kv_width, H}},
      {"self_attn.v_proj.weight", {kv_width, H}},
      {"self_attn.o_proj.weight", {H, q_width}},
      {"self_attn.q_norm.weight", {hd}},
      {"self_attn.k_norm.weight", {hd}},
      {"post_attention_layernorm.weight", {H}},
      {"pre_feedforward_layernorm.weight", {H}},
      {"mlp.gate_proj.weight", {I, H}},
      {"mlp.up_proj.weight", {I, H}},
      {"mlp.down_proj.weight", {H, I}},
      {"post_feedforward_layernorm.weight", {H}},
  };
}

bool is_float_dtype(DType dtype) { return dtype == DType::F32 || dtype == DType::Bf16 || dtype == DType::F16; }

// The problem with one tensor, or "" if it is as expected.
std::string tensor_problem(const TensorView& tensor, const std::vector<int64_t>& expected_shape) {
  if (tensor.shape != expected_shape)
    return fmt::format("tensor {} in {} has shape {}, expected {}", tensor.name, tensor.file,
                       shape_to_string(tensor.shape), shape_to_string(expected_shape));
  if (!is_float_dtype(tensor.dtype))
    return fmt::format("tensor {} in {} has dtype {}, expected F32, BF16 or F16", tensor.name, tensor.file,
                       dtype_name(tensor.dtype));
  return "";
}

std::string problem_list(const std::vector<std::string>& problems) {
  constexpr size_t kShown = 10;
  std::vector<std::string> shown(problems.begin(), problems.begin() + std::min(problems.size(), kShown));
  std::string more = problems.size() > kShown ? fmt::format("\n  ... and {} more", problems.size() - kShown) : "";
  return fmt::format("{} problem(s):\n  - {}{}", problems.size(), fmt::join(shown, "\n  - "), more);
}

[[noreturn]] void fail_with_problems(const Checkpoint& checkpoint, const TextConfig& t,
                                     const std::vector<std::string>& problems) {
  fail(
      "checkpoint {} does not match its config (vocab_size {}, hidden_size {}, intermediate_size {}, "
      "num_hidden_layers {}, heads {}/{} kv, head_dim {}): {}",
      checkpoint.dir().string(), t.vocab_size, t.hidden_size, t.intermediate_size, t.num_layers, t.num_heads,
      t.num_kv_heads, t.head_dim, problem_list(problems));
}

// Every expected tensor present with its shape and a float dtype; problems appended.
void collect_tensor_problems(const Checkpoint& checkpoint, const std::vector<ExpectedTensor>& expected,
                             std::vector<std::string>& problems) {
  for (const auto& tensor : expected) {
    const TensorView* found = checkpoint.find(tensor.name);
    std::string problem =
        found ? tensor_problem(*found, tensor.shape)
              : fmt::format("tensor {} (shape {}) is missing", tensor.name, shape_to_string(tensor.shape));
    if (!problem.empty()) problems.push_back(problem);
  }
}

// Tensors under `prefix` that `expected` does not name: weights the model would silently ignore.
void collect_unexpected_tensors(const Checkpoint& checkpoint, const std::string& prefix,
                                const std::vector<ExpectedTensor>& expected, std::vector<std::string>& problems) {
  std::set<std::string> expected_names;
  for (const auto& tensor : expected) expected_names.insert(tensor.name);
  for (const std::string& name : checkpoint.tensor_names())
    if (name.rfind(prefix, 0) == 0 && !expected_names.count(name))
      problems.push_back(
          fmt::format("tensor {} in {} is not part of the configured model", name, checkpoint.find(name)->file));
}

}  // namespace

const char* naming_scheme_name(NamingScheme scheme) { return scheme_info(scheme).description; }

std::string text_tensor_prefix(NamingScheme scheme) { return scheme_info(scheme).text_prefix; }

NamingScheme detect_naming_scheme(const std::vector<std::string>& names, const std::string& where) {
  std::vector<const SchemeInfo*> found;
  std::vector<std::string> looked_for;
  for (const auto& info : kSchemes) {
    std::string embed_name = info.text_prefix + kEmbedRole;
    looked_for.push_back(embed_name);
    if (std::find(names.begin(), names.end(), embed_name) != names.end()) found.push_back(&info);
  }
  if (found.empty()) fail("{}: no Gemma 3 token embedding found; looked for {}", where, fmt::join(looked_for, ", "));
  if (found.size() > 1)
    fail("{}: ambiguous tensor names: both {}{} and {}{} are present", where, found[0]->text_prefix, kEmbedRole,
         found[1]->text_prefix, kEmbedRole);
  return found.front()->scheme;
}

std::vector<ExpectedTensor> expected_text_tensors(const TextConfig& t, NamingScheme scheme) {
  const std::string prefix = text_tensor_prefix(scheme);
  auto entry = [&](std::string role, std::vector<int64_t> shape) {
    return ExpectedTensor{role, prefix + role, std::move(shape)};
  };
  std::vector<ExpectedTensor> tensors;
  tensors.push_back(entry(kEmbedRole, {t.vocab_size, t.hidden_size}));
  const auto per_layer = layer_tensor_shapes(t);
  for (int layer = 0; layer < t.num_layers; ++layer)
    for (const auto& [suffix, shape] : per_layer)
      tensors.push_back(entry(fmt::format("layers.{}.{}", layer, suffix), shape));
  tensors.push_back(entry("norm.weight", {t.hidden_size}));
  return tensors;
}

std::optional<std::string> lm_head_name(NamingScheme scheme) { return std::string(scheme_info(scheme).lm_head); }

void check_text_tensors(const ModelConfig& config, const Checkpoint& checkpoint) {
  const TextConfig& t = config.text;
  NamingScheme scheme =
      detect_naming_scheme(checkpoint.tensor_names(), fmt::format("checkpoint {}", checkpoint.dir().string()));
  std::vector<ExpectedTensor> expected = expected_text_tensors(t, scheme);

  std::vector<std::string> problems;
  collect_tensor_problems(checkpoint, expected, problems);
  if (std::optional<std::string> head = lm_head_name(scheme))
    if (const TensorView* found = checkpoint.find(*head)) {
      // An untied head is allowed, but it must have the embedding's shape: V logits from H features.
      std::string problem = tensor_problem(*found, {t.vocab_size, t.hidden_size});
      if (!problem.empty()) problems.push_back(problem);
    }
  // Text tensors the config does not account for (a layer beyond num_hidden_layers, biases, ...).
  collect_unexpected_tensors(checkpoint, text_tensor_prefix(scheme), expected, problems);
  if (!problems.empty()) fail_with_problems(checkpoint, t, problems);
}

std::string vision_tensor_prefix(NamingScheme scheme) {
  if (scheme == NamingScheme::TextOnly) fail("internal: a text-only checkpoint has no vision tower");
  return scheme == NamingScheme::MultimodalNew ? "model.vision_tower.vision_model." : "vision_tower.vision_model.";
}

std::string projector_tensor_prefix(NamingScheme scheme) {
  if (scheme == NamingScheme::TextOnly) fail("internal: a text-only checkpoint has no projector");
  return scheme == NamingScheme::MultimodalNew ? "model.multi_modal_projector." : "multi_modal_projector.";
}

std::vector<ExpectedTensor> expected_vision_tensors(const ModelConfig& config, NamingScheme scheme) {
  const VisionConfig& v = config.vision;
  const int64_t D = v.hidden_size, F = v.intermediate_size, P = v.patch_size;
  const int64_t patches = int64_t(v.patches_per_side()) * v.patches_per_side();
  const std::string tower = vision_tensor_prefix(scheme), projector = projector_tensor_prefix(scheme);
  std::vector<ExpectedTensor> tensors;
  auto add = [&](const std::string& prefix, std::string role, std::vector<int64_t> shape) {
    tensors.push_back({role, prefix + role, std::move(shape)});
  };
  add(tower, "embeddings.patch_embedding.weight", {D, v.num_channels, P, P});
  add(tower, "embeddings.patch_embedding.bias", {D});
  add(tower, "embeddings.position_embedding.weight", {patches, D});
  for (int layer = 0; layer < v.num_layers; ++layer) {
    const std::string l = fmt::format("encoder.layers.{}.", layer);
    for (const char* norm : {"layer_norm1", "layer_norm2"}) {
      add(tower, l + norm + ".weight", {D});
      add(tower, l + norm + ".bias", {D});
    }
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      add(tower, l + "self_attn." + proj + ".weight", {D, D});
      add(tower, l + "self_attn." + proj + ".bias", {D});
    }
    add(tower, l + "mlp.fc1.weight", {F, D});
    add(tower, l + "mlp.fc1.bias", {F});
    add(tower, l + "mlp.fc2.weight", {D, F});
    add(tower, l + "mlp.fc2.bias", {D});
  }
  add(tower, "post_layernorm.weight", {D});
  add(tower, "post_layernorm.bias", {D});
  // [vision hidden, text hidden], applied as x @ W (not transposed; transformers
  // models/gemma3/modeling_gemma3.py@0018aa64).
  add(projector, "mm_input_projection_weight", {D, config.text.hidden_size});
  add(projector, "mm_soft_emb_norm.weight", {D});
  return tensors;
}

void check_vision_tensors(const ModelConfig& config, const Checkpoint& checkpoint) {
  if (!config.multimodal) fail("internal: check_vision_tensors on a text-only config");
  NamingScheme scheme =
      detect_naming_scheme(checkpoint.tensor_names(), fmt::format("checkpoint {}", checkpoint.dir().string()));
  if (scheme == NamingScheme::TextOnly)
    fail(
        "checkpoint {}: config.json describes a multimodal Gemma 3 but the tensors are named like a text-only "
        "checkpoint (model.*), with no vision tower",
        checkpoint.dir().string());
  const auto expected = expected_vision_tensors(config, scheme);
  std::vector<std::string> problems;
  collect_tensor_problems(checkpoint, expected, problems);
  collect_unexpected_tensors(checkpoint, vision_tensor_prefix(scheme), expected, problems);
  collect_unexpected_tensors(checkpoint, projector_tensor_prefix(scheme), expected, problems);
  if (!problems.empty()) {
    const VisionConfig& v = config.vision;
    fail(
        "checkpoint {}: the vision tower does not match vision_config (image_size {}, patch_size {}, hidden_size {}, "
        "intermediate_size {}, num_hidden_layers {}; text hidden_size {}): {}",
        checkpoint.dir().string(), v.image_size, v.patch_size, v.hidden_size, v.intermediate_size, v.num_layers,
        config.text.hidden_size, problem_list(problems));
  }
}

}  // namespace gemma
