#pragma once
// x @ W^T for a few rows of bf16 activations against a bf16 weight matrix, streaming the weights
// once: the one-token (and few-sequence) projections of decoding, which read every weight for a few
// multiply-adds and so run at the speed memory delivers the weights.
//
// Why not LibTorch: in bf16 its one-row products (torch::mv, linear, matmul) go to oneDNN 2.6's
// kernels, measured in bench/bench_model.cpp (BM_OneTokenProjectionBf16) well below the memory
// bandwidth that fp32 sgemv reaches on the same machine. This kernel uses AVX512-BF16's VDPBF16PS
// (pairs of bf16 products summed into float32 lanes), several weight rows per pass so each load of
// x serves them all, and splits the rows over LibTorch's intra-op threads.
//
// It runs only where the CPU has AVX512_BF16 (cpu_features()); the instructions live in functions
// compiled for that target alone, so a build that includes it still runs on an AVX2-only CPU.
#include <torch/types.h>

namespace gemma {

// The most rows of x one call takes; more rows are GEMM territory (oneDNN's AMX kernels).
constexpr int64_t kBf16MatvecMaxRows = 8;

// Whether bf16_matvec may run here: AVX512_BF16 present (and not masked by GEMMA_EVAL_CPU_FEATURES),
// and not switched off by set_bf16_matvec_enabled(false).
bool bf16_matvec_available();

// Benchmarks and tests compare against the library path in one process.
void set_bf16_matvec_enabled(bool enabled);

// x: [..., K] bf16 with at most kBf16MatvecMaxRows rows in all, weight: [N, K] bf16 contiguous, both
// on the CPU. Returns [..., N] in bf16: float32 sums rounded to nearest even, as torch::linear gives.
// Requires bf16_matvec_available().
torch::Tensor bf16_matvec(const torch::Tensor& x, const torch::Tensor& weight);

}  // namespace gemma
