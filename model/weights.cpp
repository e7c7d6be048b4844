#include "model/weights.h"

#include <cmath>
#include <cstring>
#include <map>

#include <torch/torch.h>

#include "common/error.h"
#include "model/checkpoint.h"
#include "model/weight_layout.h"

namespace gemma {
namespace {

torch::ScalarType torch_dtype_of(const TensorView& view) {
  switch (view.dtype) {
    case DType::F32:
      return torch::kFloat32;
    case DType::Bf16:
      return torch::kBFloat16;
    case DType::F16:
      return torch::kFloat16;
    default:
      fail("tensor {} in {} has dtype {}; expected F32, BF16 or F16", view.name, view.file, dtype_name(view.dtype));
  }
}

// A weight that is NaN or Inf makes every forward pass through it non-finite, so every weight is
// checked at load. Measured on Gemma-3-1B-shaped float32 tensors (4.0 GB, one CPU thread): the
// bf16 -> float32 copy of loading takes 1.3-2.3 s, isfinite().all() 9-15 s (too slow to pay every
// run), sum() 0.4 s. A sum is non-finite whenever any value is (and, rarely, when finite values
// overflow together), so the exact isfinite pass runs only after a non-finite sum.
void require_finite(const torch::Tensor& tensor, const TensorView& view) {
  if (std::isfinite(tensor.sum(torch::kFloat32).item<double>())) return;
  auto finite = torch::isfinite(tensor);
  if (finite.all().item<bool>()) return;
  auto flat = finite.reshape({-1}).logical_not().nonzero();
  const int64_t first = flat[0][0].item<int64_t>();
  fail(
      "tensor {} in {} holds {} non-finite value(s) (NaN or Inf) as loaded in {}, the first at flat index {} "
      "({}); the checkpoint is damaged, was saved from a diverged model, or overflows the --dtype",
      view.name, view.file, flat.size(0), dtype_label(tensor.scalar_type()), first,
      tensor.reshape({-1})[first].item<double>());
}

// A tensor copied out of the memory-mapped file into `dtype` on `device`, checked to be finite.
torch::Tensor to_tensor(const TensorView& view, torch::ScalarType dtype, const torch::Device& device) {
  auto stored = torch::TensorOptions().dtype(torch_dtype_of(view));
  torch::Tensor loaded;
  // The format does not promise aligned offsets; kernels may assume element alignment.
  if (reinterpret_cast<uintptr_t>(view.data) % dtype_size(view.dtype) != 0) {
    auto aligned = torch::empty(view.shape, stored);
    std::memcpy(aligned.data_ptr(), view.data, view.nbytes);
    loaded = aligned.to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
  } else {
    auto mapped = torch::from_blob(const_cast<uint8_t*>(view.data), view.shape, stored);
    loaded = mapped.to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
  }
  require_finite(loaded, view);
  return loaded;
}

torch::Tensor norm_scale(const TensorView& view, const torch::Device& device) {
  return (to_tensor(view, torch::kFloat32, torch::kCPU) + 1.0f).to(device);
}

}  // namespace

double embedding_scale(int hidden_size, torch::ScalarType compute) {
  // HF transformers Gemma3TextScaledWordEmbedding: the float32 buffer torch.tensor(hidden_size**0.5)
  // times the embedding as `embed_scale.to(self.weight.dtype)`, the weight being in the compute dtype.
  auto scale = torch::tensor(std::sqrt(static_cast<double>(hidden_size)), torch::kFloat32);
  return scale.to(compute).to(torch::kFloat64).item<double>();
}

TextWeights load_text_weights(const ModelConfig& config, const Checkpoint& checkpoint, const Placement& placement) {
  check_text_tensors(config, checkpoint);
  NamingScheme scheme = detect_naming_scheme(checkpoint.tensor_names(), checkpoint.dir().string());
  std::map<std::string, const TensorView*> by_role;
  for (const auto& expected : expected_text_tensors(config.text, scheme))
    by_role[expected.role] = checkpoint.find(expected.name);
  auto view = [&](const std::string& role) -> const TensorView& {
    auto it = by_role.find(role);
    if (it == by_role.end() || it->second == nullptr)
      fail("checkpoint {} has no tensor for {}", checkpoint.dir().string(), role);
    return *it->second;
  };
  const auto dtype = placement.dtype;
  const auto devices = layer_devices(placement, config.text.num_layers);

  // The embedding (also the tied head) on the first stage, the final norm with the last layer.
  TextWeights weights;
  const TensorView& embed = view("embed_tokens.weight");
  weights.embed_tokens = to_tensor(embed, dtype, placement.device);
  weights.embed_scale = embedding_scale(config.text.hidden_size, dtype);
  weights.final_norm_scale = norm_scale(view("norm.weight"), devices.back());
  for (int i = 0; i < config.text.num_layers; ++i) {
    const auto& device = devices[i];
    auto layer_view = [&](const std::string& suffix) -> const TensorView& {
      return view("layers." + std::to_string(i) + "." + suffix);
    };
    auto weight = [&](const std::string& suffix) { return to_tensor(layer_view(suffix), dtype, device); };
    DecoderLayerWeights layer;
    layer.input_norm_scale = norm_scale(layer_view("input_layernorm.weight"), device);
    layer.qkv_proj = torch::cat(
        {weight("self_attn.q_proj.weight"), weight("self_attn.k_proj.weight"), weight("self_attn.v_proj.weight")}, 0);
    layer.q_norm_scale = norm_scale(layer_view("self_attn.q_norm.weight"), device);
    layer.k_norm_scale = norm_scale(layer_view("self_attn.k_norm.weight"), device);
    layer.o_proj = weight("self_attn.o_proj.weight");
    layer.post_attention_norm_scale = norm_scale(layer_view("post_attention_layernorm.weight"), device);
    layer.pre_feedforward_norm_scale = norm_scale(layer_view("pre_feedforward_layernorm.weight"), device);
    layer.gate_up_proj = torch::cat({weight("mlp.gate_proj.weight"), weight("mlp.up_proj.weight")}, 0);
    layer.down_proj = weight("mlp.down_proj.weight");
    layer.post_feedforward_norm_scale = norm_scale(layer_view("post_feedforward_layernorm.weight"), device);
    weights.layers.push_back(std::move(layer));
  }
  return weights;
}

VisionWeights load_vision_weights(const ModelConfig& config, const Checkpoint& checkpoint, const Placement& placement) {
  check_vision_tensors(config, checkpoint);
  NamingScheme scheme = detect_naming_scheme(checkpoint.tensor_names(), checkpoint.dir().string());
  std::map<std::string, const TensorView*> by_role;
  for (const auto& expected : expected_vision_tensors(config, scheme))
    by_role[expected.role] = checkpoint.find(expected.name);
  const auto& device = placement.device;
  auto weight = [&](const std::string& role) { return to_tensor(*by_role.at(role), placement.dtype, device); };

  VisionWeights w;
  w.patch_embedding = weight("embeddings.patch_embedding.weight");
  w.patch_bias = weight("embeddings.patch_embedding.bias");
  w.position_embedding = weight("embeddings.position_embedding.weight");
  for (int i = 0; i < config.vision.num_layers; ++i) {
    auto layer = [&](const std::string& suffix) {
      return weight("encoder.layers." + std::to_string(i) + "." + suffix);
    };
    VisionLayerWeights l;
    l.layer_norm1_weight = layer("layer_norm1.weight");
    l.layer_norm1_bias = layer("layer_norm1.bias");
    l.qkv_proj = torch::cat(
        {layer("self_attn.q_proj.weight"), layer("self_attn.k_proj.weight"), layer("self_attn.v_proj.weight")}, 0);
    l.qkv_bias =
        torch::cat({layer("self_attn.q_proj.bias"), layer("self_attn.k_proj.bias"), layer("self_attn.v_proj.bias")}, 0);
    l.out_proj = layer("self_attn.out_proj.weight");
    l.out_bias = layer("self_attn.out_proj.bias");
    l.layer_norm2_weight = layer("layer_norm2.weight");
    l.layer_norm2_bias = layer("layer_norm2.bias");
    l.fc1 = layer("mlp.fc1.weight");
    l.fc1_bias = layer("mlp.fc1.bias");
    l.fc2 = layer("mlp.fc2.weight");
    l.fc2_bias = layer("mlp.fc2.bias");
    w.layers.push_back(std::move(l));
  }
  w.post_layernorm_weight = weight("post_layernorm.weight");
  w.post_layernorm_bias = weight("post_layernorm.bias");
  w.soft_emb_norm_scale = norm_scale(*by_role.at("mm_soft_emb_norm.weight"), device);
  w.input_projection = weight("mm_input_projection_weight");
  return w;
}

TextWeights random_text_weights(const TextConfig& config, const Placement& placement, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t H = config.hidden_size, I = config.intermediate_size, hd = config.head_dim;
  const int64_t q_rows = static_cast<int64_t>(config.num_heads) * hd;
  const int64_t kv_rows = static_cast<int64_t>(config.num_kv_heads) * hd;
  // Drawn on the CPU in a fixed order, then moved: the same seed gives the same weights on any placement.
  const auto devices = layer_devices(placement, config.num_layers);
  torch::Device device = placement.device;
  auto matrix = [&](int64_t rows, int64_t cols) {
    return (torch::randn({rows, cols}) * (1.0 / std::sqrt(static_cast<double>(cols)))).to(device, placement.dtype);
  };
  auto scale = [&](int64_t n) { return (1.0f + 0.1f * torch::randn({n})).to(device); };
  TextWeights weights;
  weights.embed_tokens = (torch::randn({config.vocab_size, H}) * 0.05).to(device, placement.dtype);
  weights.embed_scale = embedding_scale(config.hidden_size, placement.dtype);
  weights.final_norm_scale = scale(H).to(devices.back());
  for (int i = 0; i < config.num_layers; ++i) {
    device = devices[i];
    DecoderLayerWeights layer;
    layer.input_norm_scale = scale(H);
    layer.qkv_proj = matrix(q_rows + 2 * kv_rows, H);
    layer.q_norm_scale = scale(hd);
    layer.k_norm_scale = scale(hd);
    layer.o_proj = matrix(H, q_rows);
    layer.post_attention_norm_scale = scale(H);
    layer.pre_feedforward_norm_scale = scale(H);
    layer.gate_up_proj = matrix(2 * I, H);
    layer.down_proj = matrix(H, I);
    layer.post_feedforward_norm_scale = scale(H);
    weights.layers.push_back(std::move(layer));
  }
  return weights;
}

VisionWeights random_vision_weights(const ModelConfig& config, const Placement& placement, uint64_t seed) {
  if (!config.multimodal) fail("internal: random vision weights for a text-only config");
  torch::manual_seed(seed);
  const VisionConfig& v = config.vision;
  const int64_t D = v.hidden_size, F = v.intermediate_size, P = v.patch_size, C = v.num_channels;
  const int64_t patches = static_cast<int64_t>(v.patches_per_side()) * v.patches_per_side();
  const int64_t H = config.text.hidden_size;
  const torch::Device device = placement.device;
  const auto dtype = placement.dtype;
  auto normal = [](std::vector<int64_t> shape, double scale) { return torch::randn(shape) * scale; };
  auto put = [&](const torch::Tensor& t) { return t.to(device, dtype); };
  auto matrix = [&](int64_t rows, int64_t cols) {  // [out, in], applied as x @ W^T
    return put(normal({rows, cols}, 1.0 / std::sqrt(static_cast<double>(cols))));
  };
  auto bias = [&](int64_t n) { return put(normal({n}, 0.02)); };
  auto ln_weight = [&](int64_t n) { return put(1.0f + normal({n}, 0.1)); };

  VisionWeights w;
  w.patch_embedding = put(normal({D, C, P, P}, 1.0 / std::sqrt(static_cast<double>(C * P * P))));
  w.patch_bias = bias(D);
  w.position_embedding = put(normal({patches, D}, 0.05));
  for (int i = 0; i < v.num_layers; ++i) {
    VisionLayerWeights l;
    l.layer_norm1_weight = ln_weight(D);
    l.layer_norm1_bias = bias(D);
    l.qkv_proj = matrix(3 * D, D);
    l.qkv_bias = bias(3 * D);
    l.out_proj = matrix(D, D);
    l.out_bias = bias(D);
    l.layer_norm2_weight = ln_weight(D);
    l.layer_norm2_bias = bias(D);
    l.fc1 = matrix(F, D);
    l.fc1_bias = bias(F);
    l.fc2 = matrix(D, F);
    l.fc2_bias = bias(D);
    w.layers.push_back(std::move(l));
  }
  w.post_layernorm_weight = ln_weight(D);
  w.post_layernorm_bias = bias(D);
  w.soft_emb_norm_scale = (1.0f + normal({D}, 0.1)).to(device);                       // float32, as loaded
  w.input_projection = put(normal({D, H}, 1.0 / std::sqrt(static_cast<double>(D))));  // [D, H]: x @ W
  return w;
}

}  // namespace gemma
