#pragma once
// Gemma 3's eyes (transformers models/siglip/modeling_siglip.py@00b20656; transformers
// models/gemma3/modeling_gemma3.py@0018aa64): the SigLIP vision encoder and the multi-modal projector, reading top to
// bottom as the math:
//   pixels [N,3,S,S] -> patch conv + position embedding -> L x (LayerNorm, bidirectional attention, +,
//   LayerNorm, GELU-tanh MLP, +) -> post LayerNorm                         = last_hidden_state [N,P,D]
//   -> average pool of the patch grid to mm_tokens_per_image -> Gemma RMSNorm (1+w) -> x @ W  = [N,T,H]
// Numerics as Hugging Face's eager path: softmax and the soft-embedding norm in float32, the rest in the
// compute dtype. Runs on the first pipeline stage, where the token embeddings are merged.
#include <memory>
#include <vector>

#include <torch/types.h>

#include "model/config.h"
#include "model/device.h"
#include "model/weights.h"

namespace gemma {

class Checkpoint;

// Intermediate values, for parity tests against the reference fixtures.
struct VisionTrace {
  torch::Tensor embeddings;                  // [N, P, D] patch conv + position embedding
  std::vector<torch::Tensor> hidden_states;  // [0] = embeddings, [l+1] = output of encoder layer l
  torch::Tensor last_hidden_state;           // after post_layernorm
  torch::Tensor pooled, normed;              // the projector's average pool and soft-embedding norm
};

class VisionTower {
 public:
  VisionTower(ModelConfig config, VisionWeights weights, Placement placement);
  static std::unique_ptr<VisionTower> load(const ModelConfig& config, const Checkpoint& checkpoint,
                                           const Placement& placement);

  // pixels [N, 3, image_size, image_size] (float32, any device) -> image features [N, mm_tokens, H] in
  // the compute dtype on the first stage: what replaces the <image_soft_token> embeddings.
  torch::Tensor image_features(const torch::Tensor& pixels, VisionTrace* trace = nullptr) const;

  const ModelConfig& config() const { return config_; }

 private:
  torch::Tensor encode(const torch::Tensor& pixels, VisionTrace* trace) const;
  torch::Tensor project(const torch::Tensor& last_hidden_state, VisionTrace* trace) const;

  ModelConfig config_;
  VisionWeights weights_;
  Placement placement_;
};

}  // namespace gemma
