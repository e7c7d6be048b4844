#pragma once
// The Gemma 3 text decoder's weights as tensors on the target device, in the compute dtype.
//
// Layout choices made at load time (so the forward pass stays plain math):
//  - q/k/v projections are concatenated into one [(nh+2*nkv)*hd, H] matrix and gate/up into one
//    [2*I, H] matrix: one GEMM (or one matrix-vector product when decoding) instead of three / two.
//  - every Gemma RMSNorm weight w is stored as the float32 scale (1 + w), which is what the
//    reference computes at run time ("(1 + w.float())"), once instead of per call.
//  - bf16/f16 checkpoints are upcast once at load when computing in float32: CPU bf16 matmul is
//    ~20x slower than fp32, and upcasting per layer per forward would re-read the weights twice.
#include <vector>

#include <torch/types.h>

#include "model/config.h"
#include "model/device.h"

namespace gemma {

class Checkpoint;

struct DecoderLayerWeights {
  torch::Tensor input_norm_scale;  // (1 + w), float32 [H]
  torch::Tensor qkv_proj;          // [(nh + 2*nkv)*hd, H]
  torch::Tensor q_norm_scale;      // (1 + w), float32 [hd]
  torch::Tensor k_norm_scale;      // (1 + w), float32 [hd]
  torch::Tensor o_proj;            // [H, nh*hd]
  torch::Tensor post_attention_norm_scale;
  torch::Tensor pre_feedforward_norm_scale;
  torch::Tensor gate_up_proj;  // [2*I, H]: gate rows first, then up rows
  torch::Tensor down_proj;     // [H, I]
  torch::Tensor post_feedforward_norm_scale;
};

struct TextWeights {
  torch::Tensor embed_tokens;  // [V, H]; also the tied LM head
  std::vector<DecoderLayerWeights> layers;
  torch::Tensor final_norm_scale;  // (1 + w), float32 [H]
  // sqrt(H) rounded to the compute dtype (placement.dtype), whatever the checkpoint stores: HF
  // transformers (Gemma3TextScaledWordEmbedding), google/gemma_pytorch (GemmaModel: normalizer in
  // hidden_states.dtype) and the JAX Embedder all round it to the activations' dtype.
  double embed_scale = 1.0;
};

// The SigLIP tower and multi-modal projector (transformers models/siglip/modeling_siglip.py@00b20656; transformers
// models/gemma3/modeling_gemma3.py@0018aa64), in the compute dtype on the first stage. q/k/v are concatenated into one
// [3D, D] matrix (and bias); SigLIP's LayerNorms keep weight and bias as stored (no 1 + w); the projector's
// soft-embedding norm is a Gemma RMSNorm, kept as (1 + w) in float32.
struct VisionLayerWeights {
  torch::Tensor layer_norm1_weight, layer_norm1_bias;
  torch::Tensor qkv_proj, qkv_bias;  // [3D, D], [3D]
  torch::Tensor out_proj, out_bias;  // [D, D], [D]
  torch::Tensor layer_norm2_weight, layer_norm2_bias;
  torch::Tensor fc1, fc1_bias;  // [F, D], [F]
  torch::Tensor fc2, fc2_bias;  // [D, F], [D]
};

struct VisionWeights {
  torch::Tensor patch_embedding, patch_bias;  // [D, 3, P, P], [D]
  torch::Tensor position_embedding;           // [patches, D]
  std::vector<VisionLayerWeights> layers;
  torch::Tensor post_layernorm_weight, post_layernorm_bias;
  torch::Tensor soft_emb_norm_scale;  // (1 + w), float32 [D]
  torch::Tensor input_projection;     // [D, H]: applied as x @ W
};

// Loads and checks the vision tower and projector of a multimodal checkpoint (either naming).
VisionWeights load_vision_weights(const ModelConfig& config, const Checkpoint& checkpoint, const Placement& placement);

// Loads and checks (names and shapes against the config) the language-model tensors of a
// checkpoint, in any of the three naming schemes. Vision tensors, if present, are left alone.
TextWeights load_text_weights(const ModelConfig& config, const Checkpoint& checkpoint, const Placement& placement);

// Deterministic random weights with the config's exact shapes (benchmarks and tests).
TextWeights random_text_weights(const TextConfig& config, const Placement& placement, uint64_t seed);

// sqrt(hidden_size) as a float32, rounded to the compute dtype `compute` (kFloat32: float32(sqrt(H)),
// e.g. 33.941124 for H = 1152; kBFloat16: 34.0).
double embedding_scale(int hidden_size, torch::ScalarType compute);

// Deterministic random vision tower and projector weights with the config's exact shapes (benchmarks
// and tests; config.multimodal must be set). Drawn on the CPU in a fixed order, then moved, scaled as
// random_text_weights: matrices by 1/sqrt(fan-in), LayerNorm weights and the soft-embedding norm scale
// 1 + 0.1 * N(0, 1) (that scale stays float32), biases 0.02 * N(0, 1), position embedding 0.05 * N(0, 1).
VisionWeights random_vision_weights(const ModelConfig& config, const Placement& placement, uint64_t seed);

}  // namespace gemma
