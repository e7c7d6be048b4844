#include "model/small_batch_linear.h"

#include <immintrin.h>

#include <atomic>

#include <torch/torch.h>

#include "model/kernels/lane_sum.h"
#include "model/kernels/parallel_rows.h"

namespace gemma {
namespace {

constexpr int64_t kMaxRows = 16;
constexpr int64_t kRowGroup = 8;  // input rows per pass over a weight row: 8 accumulators in registers

// Rows [begin, end) of the output's columns: y[m, n] = dot(x[m], w[n]). Each weight row is read once
// from memory; the row groups that follow find it in L1.
__attribute__((target("avx512f"))) void dot_rows_avx512(const float* x, int64_t M, const float* w, int64_t K, float* y,
                                                        int64_t N, int64_t begin, int64_t end) {
  for (int64_t n = begin; n < end; ++n) {
    const float* row = w + n * K;
    for (int64_t m0 = 0; m0 < M; m0 += kRowGroup) {
      const int64_t rows = std::min(kRowGroup, M - m0);
      __m512 acc[kRowGroup];
      for (int64_t m = 0; m < rows; ++m) acc[m] = _mm512_setzero_ps();
      int64_t k = 0;
      for (; k + 16 <= K; k += 16) {
        const __m512 wv = _mm512_loadu_ps(row + k);
        for (int64_t m = 0; m < rows; ++m) acc[m] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + (m0 + m) * K + k), acc[m]);
      }
      for (int64_t m = 0; m < rows; ++m) {
        float sum = lane_sum(acc[m]);
        for (int64_t j = k; j < K; ++j) sum += row[j] * x[(m0 + m) * K + j];
        y[(m0 + m) * N + n] = sum;
      }
    }
  }
}

__attribute__((target("avx2,fma"))) void dot_rows_avx2(const float* x, int64_t M, const float* w, int64_t K, float* y,
                                                       int64_t N, int64_t begin, int64_t end) {
  for (int64_t n = begin; n < end; ++n) {
    const float* row = w + n * K;
    for (int64_t m0 = 0; m0 < M; m0 += kRowGroup) {
      const int64_t rows = std::min(kRowGroup, M - m0);
      __m256 acc[kRowGroup];
      for (int64_t m = 0; m < rows; ++m) acc[m] = _mm256_setzero_ps();
      int64_t k = 0;
      for (; k + 8 <= K; k += 8) {
        const __m256 wv = _mm256_loadu_ps(row + k);
        for (int64_t m = 0; m < rows; ++m) acc[m] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + (m0 + m) * K + k), acc[m]);
      }
      for (int64_t m = 0; m < rows; ++m) {
        alignas(32) float lanes[8];
        _mm256_store_ps(lanes, acc[m]);
        float sum = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
        for (int64_t j = k; j < K; ++j) sum += row[j] * x[(m0 + m) * K + j];
        y[(m0 + m) * N + n] = sum;
      }
    }
  }
}

using DotRows = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t, int64_t, int64_t);

struct Kernel {
  DotRows dot_rows = nullptr;
  const char* name = "none";
};

const Kernel& kernel() {
  static const Kernel chosen = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return Kernel{dot_rows_avx512, "avx512f"};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Kernel{dot_rows_avx2, "avx2+fma"};
    return Kernel{};
  }();
  return chosen;
}

std::atomic<bool> enabled{true};

}  // namespace

const char* small_batch_linear_kernel() { return kernel().name; }

void set_small_batch_linear_enabled(bool on) { enabled = on; }

bool small_batch_linear_applies(const torch::Tensor& x, const torch::Tensor& weight) {
  return enabled && kernel().dot_rows && x.device().is_cpu() && weight.device().is_cpu() &&
         x.scalar_type() == torch::kFloat32 && weight.scalar_type() == torch::kFloat32 && x.dim() == 2 &&
         weight.dim() == 2 && x.size(0) >= 2 && x.size(0) <= kMaxRows && x.size(1) == weight.size(1) &&
         weight.is_contiguous();
}

torch::Tensor small_batch_linear(const torch::Tensor& x, const torch::Tensor& weight) {
  const auto input = x.contiguous();
  const int64_t M = input.size(0), K = input.size(1), N = weight.size(0);
  auto y = torch::empty({M, N}, input.options());
  const float* xs = input.data_ptr<float>();
  const float* ws = weight.data_ptr<float>();
  float* ys = y.data_ptr<float>();
  const DotRows dot_rows = kernel().dot_rows;
  // Grain of 64 weight rows (~300 KB at K = 1152): large enough that scheduling costs nothing.
  parallel_rows(N, 64, [&](int64_t begin, int64_t end) { dot_rows(xs, M, ws, K, ys, N, begin, end); });
  return y;
}

}  // namespace gemma
