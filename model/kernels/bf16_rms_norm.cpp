#include "model/kernels/bf16_rms_norm.h"

#include <cmath>
#include <cstring>

#include <torch/torch.h>

#include "common/error.h"
#include "model/kernels/parallel_rows.h"

namespace gemma {
namespace {

float bf16_to_float(uint16_t bits) {
  const uint32_t widened = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &widened, sizeof value);
  return value;
}

// float32 -> bf16 rounding to nearest even, NaN kept a quiet NaN: c10::BFloat16's conversion.
uint16_t float_to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

constexpr int kLanes = 16;  // independent partial sums, so the compiler vectorises the squares

void norm_rows(const uint16_t* x, const float* scale, uint16_t* y, int64_t H, float eps, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const uint16_t* in = x + r * H;
    uint16_t* out = y + r * H;
    float partial[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= H; j += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const float v = bf16_to_float(in[j + l]);
        partial[l] += v * v;
      }
    for (; j < H; ++j) {
      const float v = bf16_to_float(in[j]);
      partial[j % kLanes] += v * v;
    }
    float sum = 0;
    for (float p : partial) sum += p;
    // LibTorch's order of rounding: mean, + eps, rsqrt, then x * that, then * scale, each in float32.
    const float inverse = 1.0f / std::sqrt(sum / static_cast<float>(H) + eps);
    for (int64_t k = 0; k < H; ++k) out[k] = float_to_bf16(bf16_to_float(in[k]) * inverse * scale[k]);
  }
}

}  // namespace

bool bf16_rms_norm_applies(const torch::Tensor& x, const torch::Tensor& scale) {
  return x.scalar_type() == torch::kBFloat16 && x.device().is_cpu() && x.dim() >= 1 && x.size(-1) > 0 &&
         scale.scalar_type() == torch::kFloat32 && scale.device().is_cpu() && scale.dim() == 1 &&
         scale.size(0) == x.size(-1);
}

torch::Tensor bf16_rms_norm(const torch::Tensor& x, const torch::Tensor& scale, double eps) {
  if (!bf16_rms_norm_applies(x, scale))
    fail("internal: bf16_rms_norm wants bf16 CPU x [..., H] and float32 scale [H]; got x {} {} and scale {} {}",
         c10::toString(x.scalar_type()), c10::str(x.sizes()), c10::toString(scale.scalar_type()),
         c10::str(scale.sizes()));
  const auto input = x.contiguous();
  const auto weights = scale.contiguous();
  auto out = torch::empty_like(input);
  const int64_t H = input.size(-1), rows = input.numel() / H;
  const auto* xs = reinterpret_cast<const uint16_t*>(input.data_ptr<at::BFloat16>());
  auto* ys = reinterpret_cast<uint16_t*>(out.data_ptr<at::BFloat16>());
  const float* ws = weights.data_ptr<float>();
  const float epsilon = static_cast<float>(eps);
  // A decode step's few rows on the calling thread (a hand-off costs more); prefill's rows split.
  parallel_rows(rows, 64, [&](int64_t begin, int64_t end) { norm_rows(xs, ws, ys, H, epsilon, begin, end); });
  return out;
}

}  // namespace gemma
