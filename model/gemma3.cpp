#include "model/gemma3.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "common/error.h"
#include "model/attention.h"
#include "model/checkpoint.h"
#include "model/kernels/amx_bf16_linear.h"
#include "model/kernels/bf16_matvec.h"
#include "model/kernels/bf16_rms_norm.h"
#include "model/kernels/bf16_rope.h"
#include "model/kernels/parallel_rows.h"
#include "model/small_batch_linear.h"

namespace gemma {
namespace {

using torch::Tensor;

// The one-pass bf16 norm and RoPE take a decode step's rows (up to 16 sequences x 4 heads), where
// LibTorch's per-operation dispatch is the cost; prefill's thousands of rows keep LibTorch's vectorised,
// threaded operations (a loaded A/B of 1x512 prefill could not rule out a loss there).
constexpr int64_t kOnePassMaxRows = 64;

// Gemma RMSNorm: x * rsqrt(mean(x^2) + eps) * (1 + w), in float32, cast back at the end.
// `scale` already holds (1 + w) in float32. bf16 on the CPU in one pass (kernels/bf16_rms_norm.h says why).
Tensor rms_norm(const Tensor& x, const Tensor& scale, double eps) {
  if (x.numel() <= kOnePassMaxRows * x.size(-1) && bf16_rms_norm_applies(x, scale)) return bf16_rms_norm(x, scale, eps);
  auto xf = x.to(torch::kFloat32);
  auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return (normed * scale).to(x.scalar_type());
}

// Split-half rotation (NeoX style): [x1, x2] -> [-x2, x1].
Tensor rotate_half(const Tensor& x) {
  auto half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// bf16 on the CPU in one pass, the same bits (kernels/bf16_rope.h).
Tensor apply_rope(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  if (x.numel() <= kOnePassMaxRows * x.size(-1) && bf16_rope_applies(x, cos, sin)) return bf16_rope(x, cos, sin);
  return x * cos + rotate_half(x) * sin;
}

// inv_freq[j] = 1 / base^(2j/hd) in float32, divided by the linear scaling factor (HF
// compute_default_rope_parameters + _compute_linear_scaling_rope_parameters).
Tensor rope_inv_freq(int head_dim, double base, double linear_factor) {
  auto exponents = torch::arange(0, head_dim, 2, torch::kInt64).to(torch::kFloat32) / head_dim;
  auto inv_freq = 1.0 / torch::pow(base, exponents);
  return inv_freq / linear_factor;
}

// [B, T] int64: for each image soft token the index of its image block, -1 for other tokens
// (transformers modeling_gemma3.py token_type_ids_mask_function: group = cumsum of block starts; a
// block is a maximal run of image_token_id). Tokens of one block see each other both ways.
Tensor image_blocks(const Tensor& ids, int image_token_id) {
  auto is_image = ids.eq(image_token_id);
  auto previous =
      torch::cat({torch::zeros_like(is_image.narrow(1, 0, 1)), is_image.narrow(1, 0, is_image.size(1) - 1)}, 1);
  auto starts = is_image.logical_and(previous.logical_not());
  return starts.to(torch::kInt64).cumsum(1).masked_fill(is_image.logical_not(), -1);
}

// The scaled token embeddings with the image features written over the soft tokens (unscaled).
Tensor merge_images(const Tensor& embedded, const TokenBatch& batch) {
  auto is_image = batch.ids.eq(batch.image_token_id);
  const int64_t slots = is_image.sum().item<int64_t>(), H = embedded.size(2);
  const auto& features = batch.image_embeddings;
  if (features.dim() != 2 || features.size(1) != H || features.size(0) != slots)
    fail(
        "the prompt has {} image soft tokens but the images give {} embeddings of width {} (expected width {}): "
        "every image needs exactly its block of soft tokens",
        slots, features.dim() == 2 ? features.size(0) : -1, features.dim() == 2 ? features.size(1) : -1, H);
  return embedded.masked_scatter(is_image.unsqueeze(-1).expand_as(embedded),
                                 features.to(embedded.device(), embedded.scalar_type()));
}

}  // namespace

namespace {

enum class ProjectionPath { Bf16Matvec, AmxBf16, MatrixVector, SmallBatchFp32, Linear };

// Below this many rows bf16_matvec's VDPBF16PS loop keeps up with memory as well as the AMX tiles
// (both ~24 GB/s at one row on the 1B shapes); from 2 rows on AMX streams at that rate where
// bf16_matvec falls to 10-15 GB/s at 8 rows and oneDNN's GEMM to 7-15 (bench/bench_model.cpp,
// BM_DecodeProjection with rows 1-16; docs/performance.md).
constexpr int64_t kAmxMinRows = 2;

ProjectionPath projection_path_for(const torch::Tensor& x, const torch::Tensor& weight) {
  const int64_t K = weight.size(1), rows = K > 0 ? x.numel() / K : 0;
  const bool bf16_cpu = x.scalar_type() == torch::kBFloat16 && x.device().is_cpu();
  const bool matvec = bf16_cpu && rows <= kBf16MatvecMaxRows && bf16_matvec_available();
  if (amx_bf16_linear_applies(x, weight) && (rows >= kAmxMinRows || !matvec)) return ProjectionPath::AmxBf16;
  if (matvec) return ProjectionPath::Bf16Matvec;
  if (x.numel() == K) return ProjectionPath::MatrixVector;
  if (small_batch_linear_applies(x.reshape({-1, K}), weight)) return ProjectionPath::SmallBatchFp32;
  return ProjectionPath::Linear;
}

}  // namespace

// x @ W^T. A single token goes through a matrix-vector product: on CPU, GEMM with one row runs at
// a third of the memory-bandwidth bound that torch::mv reaches (measured in bench/). A few rows (a
// decode step of a small batch) go through kernels that read W once for all of them: in bf16 the
// AMX tiles (amx_bf16_linear) or AVX512_BF16's bf16_matvec, in float32 small_batch_linear.
Tensor project(const torch::Tensor& x, const torch::Tensor& weight) {
  auto sizes = x.sizes().vec();
  sizes.back() = weight.size(0);
  switch (projection_path_for(x, weight)) {
    case ProjectionPath::AmxBf16:
      return amx_bf16_linear(x, weight);
    case ProjectionPath::Bf16Matvec:
      return bf16_matvec(x, weight);
    case ProjectionPath::MatrixVector:
      return torch::mv(weight, x.reshape({-1})).view(sizes);
    case ProjectionPath::SmallBatchFp32:
      return small_batch_linear(x.reshape({-1, weight.size(1)}), weight).view(sizes);
    case ProjectionPath::Linear:
      break;
  }
  return torch::linear(x, weight);
}

std::string projection_path(const torch::Tensor& x, const torch::Tensor& weight) {
  switch (projection_path_for(x, weight)) {
    case ProjectionPath::AmxBf16:
      return "amx_bf16_linear (AMX tiles)";
    case ProjectionPath::Bf16Matvec:
      return "bf16_matvec (AVX512_BF16)";
    case ProjectionPath::MatrixVector:
      return "torch::mv";
    case ProjectionPath::SmallBatchFp32:
      return std::string("small_batch_linear (") + small_batch_linear_kernel() + ")";
    case ProjectionPath::Linear:
      break;
  }
  return "torch::linear";
}

struct Gemma3TextModel::LayerInputs {
  AttentionPlan full_plan, sliding_plan;                // which keys each query sees, by layer type
  Tensor cos_global, sin_global, cos_local, sin_local;  // [B, T, 1, hd] in the compute dtype
};

TokenBatch make_batch(const std::vector<std::vector<int>>& sequences, Padding padding, int pad_id,
                      const torch::Device& device) {
  if (sequences.empty()) fail("internal: make_batch with no sequences");
  size_t longest = 0;
  for (const auto& s : sequences) longest = std::max(longest, s.size());
  const int64_t B = static_cast<int64_t>(sequences.size()), T = static_cast<int64_t>(longest);
  auto ids = torch::full({B, T}, pad_id, torch::kInt64);
  auto valid = torch::zeros({B, T}, torch::kBool);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto valid_a = valid.accessor<bool, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = sequences[b];
    int64_t offset = padding == Padding::Left ? T - static_cast<int64_t>(s.size()) : 0;
    for (size_t t = 0; t < s.size(); ++t) {
      ids_a[b][offset + t] = s[t];
      valid_a[b][offset + t] = true;
    }
  }
  auto positions = (valid.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  TokenBatch batch;
  batch.ids = ids.to(device), batch.positions = positions.to(device), batch.valid = valid.to(device);
  return batch;
}

Gemma3TextModel::Gemma3TextModel(TextConfig config, TextWeights weights, Placement placement)
    : config_(std::move(config)),
      weights_(std::move(weights)),
      placement_(placement),
      layer_devices_(layer_devices(placement_, config_.num_layers)) {
  const auto ranges = split_layers(config_.num_layers, placement_.num_stages());
  for (size_t s = 0; s < ranges.size(); ++s)
    for (int i = ranges[s].begin; i < ranges[s].end; ++i) layer_stage_.push_back(static_cast<int>(s));
  inv_freq_local_ = rope_inv_freq(config_.head_dim, config_.rope_local_base, 1.0).to(placement_.device);
  inv_freq_global_ =
      rope_inv_freq(config_.head_dim, config_.rope_global_base, config_.rope_global_scale).to(placement_.device);
}

std::unique_ptr<Gemma3TextModel> Gemma3TextModel::load(const ModelConfig& config, const Checkpoint& checkpoint,
                                                       const Placement& placement) {
  return std::make_unique<Gemma3TextModel>(config.text, load_text_weights(config, checkpoint, placement), placement);
}

KVCache Gemma3TextModel::new_cache(int64_t batch, int64_t capacity) const {
  return KVCache(layer_devices_, placement_.device, batch, config_.num_kv_heads, config_.head_dim, capacity,
                 placement_.dtype);
}

Tensor Gemma3TextModel::embed(const Tensor& ids) const {
  auto rows = weights_.embed_tokens.index_select(0, ids.reshape({-1}));
  auto embedded = rows.view({ids.size(0), ids.size(1), config_.hidden_size});
  return embedded * torch::scalar_tensor(weights_.embed_scale, embedded.options());
}

Tensor Gemma3TextModel::attention(int layer, const Tensor& x, const LayerInputs& in, KVCache& cache) const {
  const auto& w = weights_.layers[layer];
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t nh = config_.num_heads, nkv = config_.num_kv_heads, hd = config_.head_dim;
  const bool sliding = config_.layer_types[layer] == LayerType::Sliding;

  // q and k stay in the projection's layout [B, T, heads, hd]: RoPE and the norm act per head, the
  // cache copies k into its own layout and attention takes q as it is.
  auto qkv = project(x, w.qkv_proj);
  auto q = qkv.narrow(-1, 0, nh * hd).view({B, T, nh, hd});
  auto k = qkv.narrow(-1, nh * hd, nkv * hd).view({B, T, nkv, hd});
  auto v = qkv.narrow(-1, (nh + nkv) * hd, nkv * hd).view({B, T, nkv, hd}).transpose(1, 2);
  q = rms_norm(q, w.q_norm_scale, config_.rms_norm_eps);
  k = rms_norm(k, w.k_norm_scale, config_.rms_norm_eps);
  q = apply_rope(q, sliding ? in.cos_local : in.cos_global, sliding ? in.sin_local : in.sin_global);
  k = apply_rope(k, sliding ? in.cos_local : in.cos_global, sliding ? in.sin_local : in.sin_global);

  cache.append(layer, k.transpose(1, 2), v);
  auto keys = cache.keys(layer, T), values = cache.values(layer, T);  // [B, nkv, S, hd]
  auto out = attend(q, keys, values, sliding ? in.sliding_plan : in.full_plan).reshape({B, T, nh * hd});
  return project(out, w.o_proj);
}

Tensor Gemma3TextModel::mlp(int layer, const Tensor& x) const {
  const auto& w = weights_.layers[layer];
  auto gate_up = project(x, w.gate_up_proj);
  auto gate = gate_up.narrow(-1, 0, config_.intermediate_size);
  auto up = gate_up.narrow(-1, config_.intermediate_size, config_.intermediate_size);
  return project(torch::gelu(gate, "tanh") * up, w.down_proj);
}

Tensor Gemma3TextModel::forward(const TokenBatch& batch, KVCache& cache, std::vector<Tensor>* layer_outputs) const {
  c10::InferenceMode inference;
  const int64_t T = batch.ids.size(1);
  if (batch.ids.size(0) != cache.batch())
    fail("internal: batch of {} rows against a KV cache of {}", batch.ids.size(0), cache.batch());
  cache.reserve(T);

  // Visibility from absolute positions: causal (k <= q), real keys only, and on sliding layers the
  // window q - W < k <= q (W keys including the query itself); decided per block inside attend().
  AttentionVisibility visibility;
  visibility.query_positions = batch.positions;
  visibility.key_positions = torch::cat({cache.key_positions(), batch.positions}, 1);  // [B, S]
  visibility.key_valid = torch::cat({cache.key_valid(), batch.valid}, 1);
  if (batch.image_embeddings.defined()) {
    // Soft tokens of the same image block see each other both ways, on full and sliding layers;
    // an image arrives whole in one forward, so cached keys belong to no block here.
    visibility.query_image_block = image_blocks(batch.ids, batch.image_token_id);
    visibility.key_image_block =
        torch::cat({torch::full({batch.ids.size(0), cache.length()}, -1, visibility.query_image_block.options()),
                    visibility.query_image_block},
                   1);
  }
  AttentionOptions full_options;
  full_options.scale = 1.0 / std::sqrt(config_.query_pre_attn_scalar);
  AttentionOptions sliding_options = full_options;
  sliding_options.sliding_window = config_.sliding_window;

  auto angles = [&](const Tensor& inv_freq) {
    auto freqs = batch.positions.to(torch::kFloat32).unsqueeze(-1) * inv_freq;  // [B, T, hd/2]
    return torch::cat({freqs, freqs}, -1).unsqueeze(2);                         // [B, T, 1, hd]
  };
  const auto dtype = placement_.dtype;
  auto local = angles(inv_freq_local_), global = angles(inv_freq_global_);
  LayerInputs in;
  in.cos_local = local.cos().to(dtype), in.sin_local = local.sin().to(dtype);
  in.cos_global = global.cos().to(dtype), in.sin_global = global.sin().to(dtype);

  // Every pipeline stage gets its own copy of the visibility and RoPE tables, made once per forward.
  auto to_device = [](const Tensor& t, const torch::Device& device) { return t.defined() ? t.to(device) : t; };
  std::vector<LayerInputs> stage_inputs;
  for (int s = 0; s < placement_.num_stages(); ++s) {
    const auto device = placement_.stage_device(s);
    AttentionVisibility on_stage{to_device(visibility.query_positions, device),
                                 to_device(visibility.key_positions, device), to_device(visibility.key_valid, device),
                                 to_device(visibility.query_image_block, device),
                                 to_device(visibility.key_image_block, device)};
    stage_inputs.push_back({plan_attention(on_stage, full_options), plan_attention(on_stage, sliding_options),
                            in.cos_global.to(device), in.sin_global.to(device), in.cos_local.to(device),
                            in.sin_local.to(device)});
  }

  const double eps = config_.rms_norm_eps;
  auto h = embed(batch.ids);
  if (batch.image_embeddings.defined()) h = merge_images(h, batch);
  if (layer_outputs) layer_outputs->push_back(h);
  for (int i = 0; i < config_.num_layers; ++i) {
    const auto& w = weights_.layers[i];
    h = h.to(layer_devices_[i]);  // crossing into the next stage moves the activations (a no-op otherwise)
    const LayerInputs& inputs = stage_inputs[layer_stage_[i]];
    auto attended = attention(i, rms_norm(h, w.input_norm_scale, eps), inputs, cache);
    h = h + rms_norm(attended, w.post_attention_norm_scale, eps);
    auto fed = mlp(i, rms_norm(h, w.pre_feedforward_norm_scale, eps));
    h = h + rms_norm(fed, w.post_feedforward_norm_scale, eps);
    if (layer_outputs) layer_outputs->push_back(h);
  }
  cache.commit(batch.positions, batch.valid);
  return rms_norm(h, weights_.final_norm_scale, eps).to(placement_.device);
}

Tensor Gemma3TextModel::logits(const Tensor& hidden) const {
  c10::InferenceMode inference;
  return project(hidden, weights_.embed_tokens).to(torch::kFloat32);
}

namespace {

// Row r's first maximum into tokens[r] and whether every value is finite into finite[r].
template <class T>
void pick_rows(const T* values, int64_t vocab, int64_t begin, int64_t end, int64_t* tokens, bool* finite) {
  for (int64_t r = begin; r < end; ++r) {
    const T* row = values + r * vocab;
    float best = -std::numeric_limits<float>::infinity();
    int64_t best_index = 0;
    bool all_finite = true;
    for (int64_t v = 0; v < vocab; ++v) {
      const float value = static_cast<float>(row[v]);
      all_finite = all_finite && std::isfinite(value);
      if (value > best) best = value, best_index = v;
    }
    tokens[r] = best_index;
    finite[r] = all_finite;
  }
}

}  // namespace

Gemma3TextModel::GreedyPick Gemma3TextModel::greedy_pick(const Tensor& hidden) const {
  c10::InferenceMode inference;
  if (hidden.dim() != 2) fail("internal: greedy_pick takes hidden [B, H], got {}", c10::str(hidden.sizes()));
  auto head_out = project(hidden, weights_.embed_tokens);  // [B, V] in the compute dtype
  const auto type = head_out.scalar_type();
  if (!head_out.device().is_cpu() || (type != torch::kBFloat16 && type != torch::kFloat32)) {
    auto logits = head_out.to(torch::kFloat32);
    return {logits.argmax(-1).to(torch::kCPU), torch::isfinite(logits).all(-1).to(torch::kCPU)};
  }
  head_out = head_out.contiguous();
  const int64_t B = head_out.size(0), V = head_out.size(1);
  auto tokens = torch::empty({B}, torch::kInt64);
  auto finite = torch::empty({B}, torch::kBool);
  int64_t* token_data = tokens.data_ptr<int64_t>();
  bool* finite_data = finite.data_ptr<bool>();
  parallel_rows(B, 1, [&](int64_t begin, int64_t end) {
    if (type == torch::kBFloat16)
      pick_rows(head_out.data_ptr<at::BFloat16>(), V, begin, end, token_data, finite_data);
    else
      pick_rows(head_out.data_ptr<float>(), V, begin, end, token_data, finite_data);
  });
  return {tokens, finite};
}

}  // namespace gemma
