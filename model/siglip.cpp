#include "model/siglip.h"

#include <cmath>

#include <torch/torch.h>

#include "common/error.h"
#include "model/checkpoint.h"

namespace gemma {
namespace {

using torch::Tensor;

// x @ W^T + b.
Tensor affine(const Tensor& x, const Tensor& weight, const Tensor& bias) { return torch::linear(x, weight, bias); }

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  return torch::layer_norm(x, {x.size(-1)}, weight, bias, eps);
}

}  // namespace

VisionTower::VisionTower(ModelConfig config, VisionWeights weights, Placement placement)
    : config_(std::move(config)), weights_(std::move(weights)), placement_(placement) {
  if (!config_.multimodal) fail("internal: a vision tower for a text-only config");
}

std::unique_ptr<VisionTower> VisionTower::load(const ModelConfig& config, const Checkpoint& checkpoint,
                                               const Placement& placement) {
  return std::make_unique<VisionTower>(config, load_vision_weights(config, checkpoint, placement), placement);
}

Tensor VisionTower::encode(const Tensor& pixels, VisionTrace* trace) const {
  const VisionConfig& v = config_.vision;
  const int64_t N = pixels.size(0), D = v.hidden_size, heads = v.num_heads, hd = v.head_dim();
  const double eps = v.layer_norm_eps;

  // Patches: a stride-P convolution; patch index = row * (S/P) + col.
  auto x = torch::conv2d(pixels.to(placement_.device, placement_.dtype), weights_.patch_embedding, weights_.patch_bias,
                         /*stride=*/v.patch_size);
  x = x.flatten(2).transpose(1, 2) + weights_.position_embedding;  // [N, P, D]
  const int64_t P = x.size(1);
  if (trace) trace->embeddings = x, trace->hidden_states.push_back(x);

  for (const auto& w : weights_.layers) {
    // Bidirectional self-attention over the patches of one image.
    auto qkv = affine(layer_norm(x, w.layer_norm1_weight, w.layer_norm1_bias, eps), w.qkv_proj, w.qkv_bias);
    auto heads_of = [&](int64_t part) { return qkv.narrow(-1, part * D, D).view({N, P, heads, hd}).transpose(1, 2); };
    auto q = heads_of(0), k = heads_of(1), vv = heads_of(2);
    auto scores = torch::matmul(q, k.transpose(-1, -2)) * (1.0 / std::sqrt(static_cast<double>(hd)));
    auto probs = torch::softmax(scores, -1, torch::kFloat32).to(x.scalar_type());
    auto attended = torch::matmul(probs, vv).transpose(1, 2).reshape({N, P, D});
    x = x + affine(attended, w.out_proj, w.out_bias);

    auto hidden = affine(layer_norm(x, w.layer_norm2_weight, w.layer_norm2_bias, eps), w.fc1, w.fc1_bias);
    x = x + affine(torch::gelu(hidden, "tanh"), w.fc2, w.fc2_bias);
    if (trace) trace->hidden_states.push_back(x);
  }
  x = layer_norm(x, weights_.post_layernorm_weight, weights_.post_layernorm_bias, eps);
  if (trace) trace->last_hidden_state = x;
  return x;
}

Tensor VisionTower::project(const Tensor& last_hidden_state, VisionTrace* trace) const {
  const int64_t N = last_hidden_state.size(0), D = last_hidden_state.size(2);
  const int64_t side = config_.vision.patches_per_side(), tokens_side = config_.mm_tokens_per_side();
  // The patch grid, channels first, average-pooled to tokens_side x tokens_side (token t = row-major).
  auto grid = last_hidden_state.transpose(1, 2).reshape({N, D, side, side});
  auto pooled = torch::avg_pool2d(grid, side / tokens_side, side / tokens_side).flatten(2).transpose(1, 2);
  // Gemma RMSNorm with (1 + w), in float32.
  auto pooled_f = pooled.to(torch::kFloat32);
  auto normed = pooled_f * torch::rsqrt(pooled_f.pow(2).mean(-1, true) + config_.vision.layer_norm_eps) *
                weights_.soft_emb_norm_scale;
  normed = normed.to(pooled.scalar_type());
  if (trace) trace->pooled = pooled, trace->normed = normed;
  return torch::matmul(normed, weights_.input_projection);  // [N, T, H]; W is [D, H], not transposed
}

Tensor VisionTower::image_features(const Tensor& pixels, VisionTrace* trace) const {
  c10::InferenceMode inference;
  const int64_t S = config_.vision.image_size;
  if (pixels.dim() != 4 || pixels.size(1) != 3 || pixels.size(2) != S || pixels.size(3) != S)
    fail("internal: pixel values of shape {} for a vision tower of {}x{} images", c10::str(pixels.sizes()), S, S);
  return project(encode(pixels, trace), trace);
}

}  // namespace gemma
