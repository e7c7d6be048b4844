#pragma once
// Gemma 3 attention over a KV cache in memory linear in the sequence length: keys are visited in
// blocks with a streaming ("online") softmax in float32 — a running maximum, a running sum and an
// accumulator rescaled as the maximum grows (Milakov & Gimelshein 2018; FlashAttention) — so no
// [queries x keys] tensor is ever made, and query x key blocks that no query can see (the future on
// causal layers, keys older than the window on sliding layers) are skipped without being computed.
//
// Which keys a query sees comes only from positions and validity, as in transformers'
// modeling_gemma3.py masks: causal (k <= q), real keys only, on sliding layers q - W < k <= q, and
// the soft tokens of one image block see each other both ways.
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace gemma {

// What decides visibility, all on the device of the keys. Positions are absolute token positions.
struct AttentionVisibility {
  torch::Tensor query_positions;  // [B, T] int64
  torch::Tensor key_positions;    // [B, S] int64
  torch::Tensor key_valid;        // [B, S] bool: false = padding, never seen (except as below)
  // Image soft tokens: the block index (>= 0) of the image each belongs to, -1 elsewhere; a query and
  // a key of the same block see each other whatever their positions. Undefined: no images.
  torch::Tensor query_image_block;  // [B, T] int64
  torch::Tensor key_image_block;    // [B, S] int64
};

struct AttentionOptions {
  double scale = 1.0;          // scores = q k^T * scale (1 / sqrt(query_pre_attn_scalar) for Gemma 3)
  int64_t sliding_window = 0;  // W > 0: a query sees the W keys q - W < k <= q; 0: all keys k <= q
  // Block sizes in tokens: the working set is [B, heads, query_block, key_block] float32 scores.
  // 256 measured best or tied on the 1B shape (bench_model BM_AttentionBlocks, 2 cores): at T = 512
  // 1.4x the materialised path where 512 only ties it; 128 loses on full layers, 1024 everywhere.
  int64_t query_block = 256;
  int64_t key_block = 256;
};

// Which query x key blocks attention visits, decided once from positions and validity (on the host:
// one transfer of per-block summaries) and shared by every layer with the same window: blocks no
// query can see are left out, blocks every query sees whole need no mask.
struct AttentionBlock {
  int64_t key_begin = 0, key_length = 0;
  bool needs_mask = true;
};
struct AttentionPlan {
  AttentionVisibility visibility;
  AttentionOptions options;
  int64_t num_keys = 0;                                 // S
  std::vector<int64_t> query_begins, query_lengths;     // the query blocks
  std::vector<std::vector<AttentionBlock>> key_blocks;  // per query block, in key order
};
AttentionPlan plan_attention(const AttentionVisibility& visibility, const AttentionOptions& options);
// The same plan from per-block summaries made by LibTorch operations, the path a GPU takes (on the CPU
// plan_attention folds the summaries in a loop over host memory instead); for tests on the CPU.
AttentionPlan plan_attention_by_tensor_ops(const AttentionVisibility& visibility, const AttentionOptions& options);

// q [B, T, nh, hd] (the projection's layout), k and v [B, nkv, S, hd] (the KV cache's), nh a multiple
// of nkv (query head h reads kv head h / (nh / nkv)); all in the compute dtype on the plan's device.
// Returns softmax(q k^T * scale, over the visible keys) v as [B, T, nh, hd] in the compute dtype.
// Scores are made in the compute dtype, the softmax runs in float32 and the probabilities are cast
// back before the product with v, as in transformers' eager_attention_forward.
// A query that sees no key (possible only for padding) gets a finite average of values, never NaN.
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const AttentionPlan& plan);
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const AttentionVisibility& visibility, const AttentionOptions& options);

}  // namespace gemma
