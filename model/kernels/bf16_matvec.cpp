#include "model/kernels/bf16_matvec.h"

#include <atomic>
#include <cstring>

#include <torch/torch.h>

#include "common/error.h"
#include "model/cpu_features.h"
#include "model/kernels/lane_sum.h"
#include "model/kernels/parallel_rows.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GEMMA_BF16_MATVEC_X86 1
#endif

namespace gemma {
namespace {

std::atomic<bool> matvec_enabled{true};

// float32 -> bf16, rounding to nearest even (NaN stays a quiet NaN): c10::BFloat16's conversion.
uint16_t bf16_bits(float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

#ifdef GEMMA_BF16_MATVEC_X86
#define GEMMA_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// Dot products of R weight rows (row stride K) with M rows of x (row stride K), sums in `sums`
// [M][R]. 32 bf16 per step; the last K % 32 elements through masked loads (zeros contribute nothing).
template <int M, int R>
GEMMA_AVX512_BF16 void dot_rows(const uint16_t* w, const uint16_t* x, int64_t K, float* sums) {
  __m512 acc[M][R];
#pragma GCC unroll 8
  for (int m = 0; m < M; ++m)
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[m][r] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) {
    __m512bh wv[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      wv[r] = (__m512bh)_mm512_loadu_si512(w + r * K + k);
      // The same cache line of the next pass's rows: one pass ahead.
      _mm_prefetch(reinterpret_cast<const char*>(w + (r + R) * K + k), _MM_HINT_T0);
    }
#pragma GCC unroll 8
    for (int m = 0; m < M; ++m) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(x + m * K + k);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[m][r] = _mm512_dpbf16_ps(acc[m][r], wv[r], xv);
    }
  }
  if (k < K) {
    const __mmask32 tail = static_cast<__mmask32>((1ull << (K - k)) - 1);
    __m512bh wv[R];
    for (int r = 0; r < R; ++r) wv[r] = (__m512bh)_mm512_maskz_loadu_epi16(tail, w + r * K + k);
    for (int m = 0; m < M; ++m) {
      const __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(tail, x + m * K + k);
      for (int r = 0; r < R; ++r) acc[m][r] = _mm512_dpbf16_ps(acc[m][r], wv[r], xv);
    }
  }
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r) sums[m * R + r] = lane_sum(acc[m][r]);
}

// out[m, n] for n in [begin, end): R rows of W per pass (each x load feeds R products), then one by one.
template <int M, int R>
void matvec_rows(const uint16_t* w, const uint16_t* x, uint16_t* out, int64_t N, int64_t K, int64_t begin,
                 int64_t end) {
  float sums[M * R];
  int64_t n = begin;
  for (; n + R <= end; n += R) {
    dot_rows<M, R>(w + n * K, x, K, sums);
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < R; ++r) out[m * N + n + r] = bf16_bits(sums[m * R + r]);
  }
  for (; n < end; ++n) {
    dot_rows<M, 1>(w + n * K, x, K, sums);
    for (int m = 0; m < M; ++m) out[m * N + n] = bf16_bits(sums[m]);
  }
}

// Up to 16 accumulators (of 32 zmm registers): 4 weight rows per pass for up to 4 rows of x, 2 beyond.
template <int M>
void matvec(const uint16_t* w, const uint16_t* x, uint16_t* out, int64_t N, int64_t K, int64_t begin, int64_t end) {
  matvec_rows<M, (M <= 4 ? 4 : 2)>(w, x, out, N, K, begin, end);
}

using MatvecFn = void (*)(const uint16_t*, const uint16_t*, uint16_t*, int64_t, int64_t, int64_t, int64_t);
const MatvecFn kMatvecByRows[kBf16MatvecMaxRows] = {matvec<1>, matvec<2>, matvec<3>, matvec<4>,
                                                    matvec<5>, matvec<6>, matvec<7>, matvec<8>};
#endif

}  // namespace

bool bf16_matvec_available() {
#ifdef GEMMA_BF16_MATVEC_X86
  return matvec_enabled.load(std::memory_order_relaxed) && cpu_features().avx512_bf16 && cpu_features().avx512_core();
#else
  return false;
#endif
}

void set_bf16_matvec_enabled(bool enabled) { matvec_enabled.store(enabled, std::memory_order_relaxed); }

torch::Tensor bf16_matvec(const torch::Tensor& x, const torch::Tensor& weight) {
  if (!bf16_matvec_available()) fail("internal: bf16_matvec on a CPU without AVX512_BF16 (or switched off)");
  if (x.scalar_type() != torch::kBFloat16 || weight.scalar_type() != torch::kBFloat16 || !x.device().is_cpu() ||
      !weight.device().is_cpu() || weight.dim() != 2 || !weight.is_contiguous() || x.size(-1) != weight.size(1))
    fail("internal: bf16_matvec wants bf16 CPU x [..., K] and contiguous weight [N, K]; got x {} {} and weight {} {}",
         c10::toString(x.scalar_type()), c10::str(x.sizes()), c10::toString(weight.scalar_type()),
         c10::str(weight.sizes()));
  const int64_t K = weight.size(1), N = weight.size(0);
  auto rows = x.reshape({-1, K}).contiguous();
  const int64_t M = rows.size(0);
  if (M < 1 || M > kBf16MatvecMaxRows) fail("internal: bf16_matvec takes 1 to {} rows, got {}", kBf16MatvecMaxRows, M);
  auto out = torch::empty({M, N}, rows.options());
#ifdef GEMMA_BF16_MATVEC_X86
  const auto* w = reinterpret_cast<const uint16_t*>(weight.data_ptr<at::BFloat16>());
  const auto* xs = reinterpret_cast<const uint16_t*>(rows.data_ptr<at::BFloat16>());
  auto* ys = reinterpret_cast<uint16_t*>(out.data_ptr<at::BFloat16>());
  const MatvecFn kernel = kMatvecByRows[M - 1];
  // Rows split evenly over the threads; a matrix under ~256 rows is not worth a hand-off.
  parallel_rows(N, 256, [&](int64_t begin, int64_t end) { kernel(w, xs, ys, N, K, begin, end); });
#endif
  auto sizes = x.sizes().vec();
  sizes.back() = N;
  return out.view(sizes);
}

}  // namespace gemma
