#pragma once
// The Gemma 3 text decoder (transformers models/gemma3/modeling_gemma3.py@0018aa64), written to read top to bottom as
// the math: embed -> L x (norm, attention, norm, +, norm, GeGLU MLP, norm, +) -> final norm -> tied head.
//
// Numerics follow Hugging Face's eager path: norms and the attention softmax in float32, everything
// else in the compute dtype (float32 on CPU). The same code runs on CPU and CUDA.
#include <memory>
#include <vector>

#include <torch/types.h>

#include "model/config.h"
#include "model/device.h"
#include "model/kv_cache.h"
#include "model/weights.h"

namespace gemma {

class Checkpoint;

// One forward call's tokens: ids [B, T], their absolute positions [B, T] and whether each is a real
// token (false = padding; padding keys are never attended to).
// With images (transformers models/gemma3/modeling_gemma3.py@0018aa64): `image_embeddings` [K, H] replace, in order
// (row by row, left to right), the embeddings of the K tokens whose id is `image_token_id` (not scaled by sqrt(H)), and
// the soft tokens of one image block attend to each other both ways; everything else stays causal. An image
// block must arrive whole in one forward call.
struct TokenBatch {
  torch::Tensor ids;
  torch::Tensor positions;
  torch::Tensor valid;
  torch::Tensor image_embeddings;  // undefined: no images
  int image_token_id = -1;
};

// Builds a batch from unequal sequences: right padding (scoring) or left padding (generation).
// Positions count real tokens only (HF: cumsum(attention_mask) - 1), so padding never shifts RoPE.
enum class Padding { Right, Left };
TokenBatch make_batch(const std::vector<std::vector<int>>& sequences, Padding padding, int pad_id,
                      const torch::Device& device);

// x [..., K] @ weight[N, K]^T by the path the decoder's projections take for x's row count and dtype
// (a matrix-vector kernel for one or a few rows, GEMM beyond); bench/ times them apart from the rest
// of a decode step.
torch::Tensor project(const torch::Tensor& x, const torch::Tensor& weight);

// Which kernel project(x, weight) runs on this CPU ("amx_bf16_linear (AMX tiles)", "torch::linear", ...),
// for `gemma-eval bench` and the benchmarks.
std::string projection_path(const torch::Tensor& x, const torch::Tensor& weight);

class Gemma3TextModel {
 public:
  Gemma3TextModel(TextConfig config, TextWeights weights, Placement placement);

  // Loads config.json + safetensors from a checkpoint directory.
  static std::unique_ptr<Gemma3TextModel> load(const ModelConfig& config, const Checkpoint& checkpoint,
                                               const Placement& placement);

  const TextConfig& config() const { return config_; }
  const Placement& placement() const { return placement_; }
  const TextWeights& weights() const { return weights_; }

  // An empty cache sized for `batch` rows and `capacity` tokens (it grows if needed).
  KVCache new_cache(int64_t batch, int64_t capacity) const;

  // Runs the decoder over `batch`, attending to everything already in `cache` plus the new tokens,
  // appends the new keys/values to `cache`, and returns the final-normed hidden states [B, T, H]
  // on the first stage's device (where `batch` lives too).
  // If `layer_outputs` is given, it receives the residual stream: [0] the scaled embeddings and
  // [i+1] the output of layer i (for parity tests).
  torch::Tensor forward(const TokenBatch& batch, KVCache& cache,
                        std::vector<torch::Tensor>* layer_outputs = nullptr) const;

  // Tied LM head: hidden [..., H] -> float32 logits [..., V].
  torch::Tensor logits(const torch::Tensor& hidden) const;

  // Greedy decoding's use of the LM head for hidden [B, H]: each row's argmax token (the first of equal
  // maxima, as argmax over logits()) and whether all its logits are finite, both [B] on the CPU. A row
  // with a non-finite logit gets an unspecified token. On the CPU one threaded pass over the head's
  // output in its own dtype (exact: bf16 -> float32 changes no order) replaces the cast to float32, the
  // argmax and the finiteness check: ~4 ms of an 8-sequence 1B decode step (bench_model BM_GreedyPick).
  struct GreedyPick {
    torch::Tensor tokens;  // [B] int64
    torch::Tensor finite;  // [B] bool
  };
  GreedyPick greedy_pick(const torch::Tensor& hidden) const;

 private:
  struct LayerInputs;  // per-forward masks and RoPE tables, shared by the layers of one type
  torch::Tensor embed(const torch::Tensor& ids) const;
  torch::Tensor attention(int layer, const torch::Tensor& x, const LayerInputs& inputs, KVCache& cache) const;
  torch::Tensor mlp(int layer, const torch::Tensor& x) const;

  TextConfig config_;
  TextWeights weights_;
  Placement placement_;
  std::vector<torch::Device> layer_devices_;  // each layer's pipeline stage
  std::vector<int> layer_stage_;
  torch::Tensor inv_freq_local_, inv_freq_global_;  // float32 [hd/2], on the first stage
};

}  // namespace gemma
