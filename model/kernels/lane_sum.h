#pragma once
// The sum of a 512-bit vector's 16 float lanes, for the hand-written CPU kernels (bf16_matvec,
// small_batch_linear). It adds in the order GCC's _mm512_reduce_add_ps does (256-bit halves, then
// 128-bit, then pairs), so the results are the same bits; but through the masked (maskz) forms,
// because GCC 12's plain ones pass an undefined merge operand that -W(maybe-)uninitialized reports.
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

namespace gemma {

__attribute__((target("avx512f"))) inline float lane_sum(__m512 v) {
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xffff, v, v, 0x4e));  // 128-bit blocks 0+2, 1+3
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xffff, v, v, 0xb1));  // then 0+1
  __m128 quarter = _mm512_maskz_extractf32x4_ps(0xf, v, 0);
  quarter = _mm_add_ps(quarter, _mm_movehl_ps(quarter, quarter));
  quarter = _mm_add_ss(quarter, _mm_shuffle_ps(quarter, quarter, 1));
  return _mm_cvtss_f32(quarter);
}

}  // namespace gemma
#endif
