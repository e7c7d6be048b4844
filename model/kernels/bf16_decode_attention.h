#pragma once
// Attention of a decode step (one query per sequence) in bf16 on the CPU, in one pass per sequence and
// kv head: scores, softmax and the weighted values in a loop, where model/attention.cpp's blocked
// path runs ~15 LibTorch operations per layer (matrix products, casts, reductions), each paying its
// dispatch and allocation for a few thousand multiply-adds: part of a decode step's time outside the
// projections (issue 12 §3).
//
// Numerics as that path and transformers' eager_attention_forward (modeling_gemma3.py): scores are the
// bf16 product q k^T, scaled in bf16, the softmax runs in float32 and the probabilities are rounded to
// bf16 before they weight the values; the sums accumulate in float32 and the output is rounded to bf16.
#include <torch/types.h>

namespace gemma {

// AVX512_BF16 present (and the kernel not switched off); else attention takes the LibTorch path.
bool bf16_decode_attention_available();
void set_bf16_decode_attention_enabled(bool enabled);  // tests and benchmarks compare the paths

// Whether bf16_decode_attention takes these: bf16 CPU q [B, 1, nh, hd], k and v [B, nkv, S, hd] with
// contiguous rows of hd, positions [B, 1] and [B, S] int64, validity [B, S] bool, and every sequence
// sees at least one key (a query that sees none keeps the blocked path's finite fallback).
bool bf16_decode_attention_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                   const torch::Tensor& query_positions, const torch::Tensor& key_positions,
                                   const torch::Tensor& key_valid, int64_t sliding_window);

// softmax(q k^T * scale over the visible keys) v as [B, 1, nh, hd] bf16. A key is visible when valid,
// not after the query, and (sliding_window W > 0) fewer than W positions before it.
torch::Tensor bf16_decode_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const torch::Tensor& query_positions, const torch::Tensor& key_positions,
                                    const torch::Tensor& key_valid, int64_t sliding_window, double scale);

}  // namespace gemma
