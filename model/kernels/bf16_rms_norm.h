#pragma once
// Gemma's RMSNorm of bf16 activations in one pass over each row, for the CPU: x * rsqrt(mean(x^2) + eps)
// * scale in float32, rounded to bf16 at the end, as model/gemma3.cpp's rms_norm computes it with eight
// LibTorch operations (transformers modeling_gemma3.py Gemma3RMSNorm: float32 inside, cast back).
//
// Why: a decode step runs 6 norms in each of the 1B model's 26 layers on a few rows of 1152 (or 256)
// values; there each LibTorch operation costs its dispatch and allocation (~5 us), not its arithmetic,
// and the norms' ~1250 operations per step were a tenth of a bf16 decode step that streams 2 GB of
// weights (bench/bench_model.cpp: BM_RmsNormBf16). The sum of squares is accumulated in float32 in
// another order than LibTorch's mean, so results may differ from rms_norm's in the last bf16 bit:
// float32 keeps LibTorch's path, bit for bit.
#include <torch/types.h>

namespace gemma {

// Whether bf16_rms_norm takes these: x bf16 on the CPU with a last dimension H > 0, scale float32 [H].
bool bf16_rms_norm_applies(const torch::Tensor& x, const torch::Tensor& scale);

// x [..., H] normalised over its last dimension and multiplied by `scale` (already 1 + w); bf16, x's
// shape, contiguous. Call only where bf16_rms_norm_applies.
torch::Tensor bf16_rms_norm(const torch::Tensor& x, const torch::Tensor& scale, double eps);

}  // namespace gemma
