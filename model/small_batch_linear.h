#pragma once
// x @ W^T for a few rows at once (the decode step of a small batch), reading W from memory once.
//
// A decode step is bound by memory: every weight is read for a handful of tokens. OpenBLAS's sgemm
// re-packs W for every call with 2-16 rows and ran 2.7 GB/s on the 1B MLP shape at 8 rows, slower
// than 8 separate torch::mv calls would need; this kernel streams each row of W once and takes its
// dot product with every input row while it sits in L1 (bench/bench_model.cpp: SmallBatchProjection).
#include <torch/types.h>

namespace gemma {

// Whether small_batch_linear has a kernel for these operands on this CPU: float32 on the CPU,
// x [M, K] with 2 <= M <= 16, W [N, K] contiguous, and AVX-512F or AVX2+FMA found at run time.
bool small_batch_linear_applies(const torch::Tensor& x, const torch::Tensor& weight);

// [M, N] = x [M, K] @ weight[N, K]^T. Call only where small_batch_linear_applies.
torch::Tensor small_batch_linear(const torch::Tensor& x, const torch::Tensor& weight);

// Which kernel small_batch_linear uses on this CPU: "avx512f", "avx2+fma" or "none".
const char* small_batch_linear_kernel();

// Turns the kernel off (applies() says false) or on again: for benchmarks against torch::linear.
void set_small_batch_linear_enabled(bool enabled);

}  // namespace gemma
