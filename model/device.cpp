#include "model/device.h"

#include <torch/cuda.h>

#include "common/error.h"

namespace gemma {

torch::Device parse_device(const std::string& text) {
  if (text == "cpu") return torch::kCPU;
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      fail("--device {}: CUDA is not available (this LibTorch build or machine has no CUDA device)", text);
    int index = 0;
    if (text.size() > 5) {
      try {
        size_t used = 0;
        index = std::stoi(text.substr(5), &used);
        if (used != text.size() - 5 || index < 0) throw std::invalid_argument("index");
      } catch (const std::exception&) {
        fail("--device {}: expected cuda:N with N a device index", text);
      }
    }
    if (index >= static_cast<int>(torch::cuda::device_count()))
      fail("--device {}: only {} CUDA device(s) present", text, torch::cuda::device_count());
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  fail("--device {}: expected cpu, cuda or cuda:N", text);
}

torch::ScalarType parse_dtype(const std::string& text, const torch::Device& device) {
  if (text == "auto") return device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
  if (text == "float32" || text == "fp32") return torch::kFloat32;
  if (text == "bfloat16" || text == "bf16") return torch::kBFloat16;
  if (text == "float16" || text == "fp16") return torch::kFloat16;
  fail("--dtype {}: expected float32, bfloat16, float16 or auto", text);
}

std::string dtype_label(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32: return "float32";
    case torch::kBFloat16: return "bfloat16";
    case torch::kFloat16: return "float16";
    default: return c10::toString(dtype);
  }
}

Placement parse_placement(const std::string& device, const std::string& dtype) {
  Placement placement;
  placement.device = parse_device(device);
  placement.dtype = parse_dtype(dtype, placement.device);
  return placement;
}

}  // namespace gemma
