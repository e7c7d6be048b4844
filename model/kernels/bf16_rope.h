#pragma once
// Rotary position embedding of bf16 queries or keys in one pass, for the CPU: the same bits as
// model/gemma3.cpp's apply_rope (x * cos + rotate_half(x) * sin through five LibTorch operations,
// each rounding its bf16 result), for a decode step's few rows where each of those operations costs
// its dispatch and allocation, not its arithmetic (kernels/bf16_rms_norm.h has the figures).
#include <torch/types.h>

namespace gemma {

// Whether bf16_rope takes these: bf16 CPU tensors, x [B, T, heads, hd] with hd even, cos and sin
// [B, T, 1, hd].
bool bf16_rope_applies(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

// x * cos + rotate_half(x) * sin, rotate_half([x1, x2]) = [-x2, x1] over hd's halves (NeoX style, as
// transformers modeling_gemma3.py apply_rotary_pos_emb), each product and the sum rounded to bf16 as
// LibTorch's bf16 operations round them. Call only where bf16_rope_applies.
torch::Tensor bf16_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

}  // namespace gemma
