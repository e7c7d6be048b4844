#pragma once
// x @ W^T for 1-16 rows of bf16 activations against bf16 weights through AMX tiles: the projections of
// a decode step of up to 16 sequences, streaming every weight once.
//
// Why: at 8 rows bf16_matvec's VDPBF16PS loop is bound by its multiply-adds (8 instructions per 64
// bytes of weights on 2 cores), not by memory, and oneDNN 2.6's AMX GEMM (torch::linear) pays its
// packing and set-up per call at this size (bench/bench_model.cpp: BM_DecodeProjection). One TDPBF16PS
// multiplies a 16 x 32 block of W (16 weight rows as they lie in memory, no re-packing) by a 32 x M
// block of x, so the tiles do the arithmetic far faster than memory delivers the weights.
//
// It runs only where cpu_features() reports AMX-BF16 (GEMMA_EVAL_CPU_FEATURES can mask it) and Linux
// grants the process the tile state (arch_prctl ARCH_REQ_XCOMP_PERM); the instructions live in
// functions compiled for that target alone, so the build still runs on an AVX2-only CPU.
#include <torch/types.h>

namespace gemma {

// The most rows of x one call takes: one tile holds 16 columns of float32 sums.
constexpr int64_t kAmxLinearMaxRows = 16;

// Whether the AMX kernel may run here: AMX-BF16 present and not masked, the OS granted tile data,
// and not switched off by set_amx_bf16_linear_enabled(false).
bool amx_bf16_linear_available();

// Benchmarks and tests compare it against the other paths in one process.
void set_amx_bf16_linear_enabled(bool enabled);

// Whether amx_bf16_linear takes these operands: available(), bf16 CPU tensors, x [..., K] with 1 to
// kAmxLinearMaxRows rows in all, weight [N, K] contiguous, and K a multiple of 32 (a tile's depth:
// a partial block would read past a weight row's end).
bool amx_bf16_linear_applies(const torch::Tensor& x, const torch::Tensor& weight);

// [..., N] bf16 = x [..., K] @ weight[N, K]^T, float32 sums rounded to nearest even as torch::linear
// gives. Call only where amx_bf16_linear_applies.
torch::Tensor amx_bf16_linear(const torch::Tensor& x, const torch::Tensor& weight);

}  // namespace gemma
