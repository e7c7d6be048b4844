#include "model/kernels/bf16_rope.h"

#include <torch/torch.h>

#include "common/error.h"

namespace gemma {

bool bf16_rope_applies(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  auto table_fits = [&](const torch::Tensor& t) {
    return t.scalar_type() == torch::kBFloat16 && t.device().is_cpu() && t.dim() == 4 && t.size(0) == x.size(0) &&
           t.size(1) == x.size(1) && t.size(2) == 1 && t.size(3) == x.size(3);
  };
  return x.scalar_type() == torch::kBFloat16 && x.device().is_cpu() && x.dim() == 4 && x.size(3) % 2 == 0 &&
         table_fits(cos) && table_fits(sin);
}

torch::Tensor bf16_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  if (!bf16_rope_applies(x, cos, sin))
    fail("internal: bf16_rope wants bf16 CPU x [B, T, heads, hd] and cos, sin [B, T, 1, hd]; got {}, {} and {}",
         c10::str(x.sizes()), c10::str(cos.sizes()), c10::str(sin.sizes()));
  const auto input = x.contiguous(), cosines = cos.contiguous(), sines = sin.contiguous();
  auto out = torch::empty_like(input);
  const int64_t positions = input.size(0) * input.size(1), heads = input.size(2), hd = input.size(3), half = hd / 2;
  const auto* xs = input.data_ptr<at::BFloat16>();
  const auto* cs = cosines.data_ptr<at::BFloat16>();
  const auto* ss = sines.data_ptr<at::BFloat16>();
  auto* ys = out.data_ptr<at::BFloat16>();
  // at::BFloat16 arithmetic is float32 arithmetic rounded back to nearest even, as LibTorch's bf16
  // elementwise kernels compute: x * cos, -x2 * sin (negation is exact), their sum, each rounded.
  for (int64_t p = 0; p < positions; ++p) {
    const at::BFloat16* c = cs + p * hd;
    const at::BFloat16* s = ss + p * hd;
    for (int64_t h = 0; h < heads; ++h) {
      const at::BFloat16* in = xs + (p * heads + h) * hd;
      at::BFloat16* o = ys + (p * heads + h) * hd;
      for (int64_t j = 0; j < half; ++j) {
        const at::BFloat16 direct = in[j] * c[j], rotated = (-in[j + half]) * s[j];
        o[j] = direct + rotated;
      }
      for (int64_t j = half; j < hd; ++j) {
        const at::BFloat16 direct = in[j] * c[j], rotated = in[j - half] * s[j];
        o[j] = direct + rotated;
      }
    }
  }
  return out;
}

}  // namespace gemma
