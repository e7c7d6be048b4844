#include "model/kernels/bf16_decode_attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <torch/torch.h>

#include "common/error.h"
#include "model/cpu_features.h"
#include "model/kernels/lane_sum.h"
#include "model/kernels/parallel_rows.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GEMMA_DECODE_ATTENTION_X86 1
#endif

namespace gemma {
namespace {

std::atomic<bool> decode_attention_enabled{true};

// float32 -> bf16 -> float32, rounding to nearest even (NaN stays NaN): what storing a bf16 result does.
float round_to_bf16(float value) { return static_cast<float>(c10::BFloat16(value)); }

#ifdef GEMMA_DECODE_ATTENTION_X86
#define GEMMA_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// sum a[i] * b[i] over n bf16 elements, in float32.
GEMMA_AVX512_BF16 float dot(const uint16_t* a, const uint16_t* b, int64_t n) {
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_loadu_si512(a + i), (__m512bh)_mm512_loadu_si512(b + i));
  if (i < n) {
    const __mmask32 tail = static_cast<__mmask32>((1ull << (n - i)) - 1);
    acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_maskz_loadu_epi16(tail, a + i),
                           (__m512bh)_mm512_maskz_loadu_epi16(tail, b + i));
  }
  return lane_sum(acc);
}

// acc[i] += p * float(v[i]) over n elements.
GEMMA_AVX512_BF16 void add_scaled(float p, const uint16_t* v, float* acc, int64_t n) {
  const __m512 weight = _mm512_set1_ps(p);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 values = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(
        0xffff, _mm512_maskz_cvtepu16_epi32(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + i))), 16));
    _mm512_storeu_ps(acc + i, _mm512_fmadd_ps(weight, values, _mm512_loadu_ps(acc + i)));
  }
  for (; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(v[i]) << 16;
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    acc[i] += p * value;
  }
}
#endif

// Whether key s of sequence b is visible to that sequence's query (model/attention.cpp hidden_keys).
inline bool visible(int64_t query_position, int64_t key_position, bool valid, int64_t window) {
  const int64_t distance = query_position - key_position;
  return valid && distance >= 0 && (window == 0 || distance < window);
}

}  // namespace

bool bf16_decode_attention_available() {
#ifdef GEMMA_DECODE_ATTENTION_X86
  return decode_attention_enabled.load(std::memory_order_relaxed) && cpu_features().avx512_bf16 &&
         cpu_features().avx512_core();
#else
  return false;
#endif
}

void set_bf16_decode_attention_enabled(bool enabled) {
  decode_attention_enabled.store(enabled, std::memory_order_relaxed);
}

bool bf16_decode_attention_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                   const torch::Tensor& query_positions, const torch::Tensor& key_positions,
                                   const torch::Tensor& key_valid, int64_t sliding_window) {
  if (!bf16_decode_attention_available()) return false;
  for (const auto* t : {&q, &k, &v})
    if (t->scalar_type() != torch::kBFloat16 || !t->device().is_cpu() || t->dim() != 4 || t->stride(3) != 1)
      return false;
  const int64_t B = q.size(0), S = k.size(2);
  if (q.size(1) != 1 || k.sizes() != v.sizes() || k.size(0) != B || k.size(3) != q.size(3) || k.size(1) == 0 ||
      q.size(2) % k.size(1) != 0 || sliding_window < 0)
    return false;
  if (query_positions.scalar_type() != torch::kInt64 || key_positions.scalar_type() != torch::kInt64 ||
      key_valid.scalar_type() != torch::kBool || !query_positions.device().is_cpu() ||
      !key_positions.device().is_cpu() || !key_valid.device().is_cpu() ||
      query_positions.sizes() != torch::IntArrayRef({B, 1}) || key_positions.sizes() != torch::IntArrayRef({B, S}) ||
      key_valid.sizes() != torch::IntArrayRef({B, S}))
    return false;
  auto q_pos = query_positions.contiguous(), k_pos = key_positions.contiguous(), valid = key_valid.contiguous();
  const int64_t* qp = q_pos.data_ptr<int64_t>();
  const int64_t* kp = k_pos.data_ptr<int64_t>();
  const bool* kv = valid.data_ptr<bool>();
  for (int64_t b = 0; b < B; ++b) {
    bool any = false;
    for (int64_t s = 0; s < S && !any; ++s) any = visible(qp[b], kp[b * S + s], kv[b * S + s], sliding_window);
    if (!any) return false;
  }
  return true;
}

torch::Tensor bf16_decode_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const torch::Tensor& query_positions, const torch::Tensor& key_positions,
                                    const torch::Tensor& key_valid, int64_t sliding_window, double scale) {
  if (!bf16_decode_attention_applies(q, k, v, query_positions, key_positions, key_valid, sliding_window))
    fail("internal: bf16_decode_attention of queries {} over keys {} and values {} does not apply", c10::str(q.sizes()),
         c10::str(k.sizes()), c10::str(v.sizes()));
  const int64_t B = q.size(0), nh = q.size(2), hd = q.size(3), nkv = k.size(1), S = k.size(2), group = nh / nkv;
  auto queries = q.contiguous();
  auto out = torch::empty({B, 1, nh, hd}, q.options());
#ifdef GEMMA_DECODE_ATTENTION_X86
  auto q_pos = query_positions.contiguous(), k_pos = key_positions.contiguous(), valid = key_valid.contiguous();
  const int64_t* qp = q_pos.data_ptr<int64_t>();
  const int64_t* kp = k_pos.data_ptr<int64_t>();
  const bool* kv = valid.data_ptr<bool>();
  const auto* qs = reinterpret_cast<const uint16_t*>(queries.data_ptr<at::BFloat16>());
  const auto* ks = reinterpret_cast<const uint16_t*>(k.data_ptr<at::BFloat16>());
  const auto* vs = reinterpret_cast<const uint16_t*>(v.data_ptr<at::BFloat16>());
  auto* os = out.data_ptr<at::BFloat16>();
  const int64_t k_batch = k.stride(0), k_head = k.stride(1), k_row = k.stride(2);
  const int64_t v_batch = v.stride(0), v_head = v.stride(1), v_row = v.stride(2);
  // ATen's bf16 multiply by a scalar computes in float32 (its opmath type) and rounds.
  const float scale_f = static_cast<float>(scale);
  // One unit of work per (sequence, kv head): its group of queries against its keys.
  parallel_rows(B * nkv, 1, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> keys;
    std::vector<float> scores, acc(static_cast<size_t>(hd));
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t b = unit / nkv, h = unit % nkv;
      keys.clear();
      for (int64_t s = 0; s < S; ++s)
        if (visible(qp[b], kp[b * S + s], kv[b * S + s], sliding_window)) keys.push_back(s);
      scores.resize(keys.size());
      const uint16_t* k_base = ks + b * k_batch + h * k_head;
      const uint16_t* v_base = vs + b * v_batch + h * v_head;
      for (int64_t g = 0; g < group; ++g) {
        const int64_t head = h * group + g;
        const uint16_t* query = qs + (b * nh + head) * hd;
        float top = -std::numeric_limits<float>::infinity();
        for (size_t i = 0; i < keys.size(); ++i) {
          // The bf16 product (rounded), then the bf16 scaling (rounded again), as the blocked path's
          // matmul and mul_ produce them.
          const float product = round_to_bf16(dot(query, k_base + keys[i] * k_row, hd));
          scores[i] = round_to_bf16(product * scale_f);
          top = std::max(top, scores[i]);
        }
        std::fill(acc.begin(), acc.end(), 0.0f);
        float sum = 0;
        for (size_t i = 0; i < keys.size(); ++i) {
          const float p = std::exp(scores[i] - top);
          sum += p;
          add_scaled(round_to_bf16(p), v_base + keys[i] * v_row, acc.data(), hd);
        }
        at::BFloat16* row = os + (b * nh + head) * hd;
        for (int64_t d = 0; d < hd; ++d) row[d] = at::BFloat16(acc[static_cast<size_t>(d)] / sum);
      }
    }
  });
#endif
  return out;
}

}  // namespace gemma
