#include "model/device.h"

#include <algorithm>

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

torch::ScalarType parse_dtype(const std::string& text, const std::vector<torch::Device>& stages) {
  if (text == "auto") {
    bool all_cuda = !stages.empty() && std::all_of(stages.begin(), stages.end(),
                                                   [](const torch::Device& d) { return d.is_cuda(); });
    return all_cuda ? torch::kBFloat16 : torch::kFloat32;
  }
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

std::string Placement::label() const {
  std::string text;
  for (int s = 0; s < num_stages(); ++s) text += (s ? "," : "") + stage_device(s).str();
  return text;
}

Placement parse_placement(const std::string& devices, const std::string& dtype) {
  std::vector<torch::Device> stages;
  size_t start = 0;
  while (true) {
    size_t comma = devices.find(',', start);
    std::string item = devices.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) fail("--device {}: an empty entry in the device list", devices);
    stages.push_back(parse_device(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  Placement placement;
  placement.device = stages.front();
  placement.dtype = parse_dtype(dtype, stages);
  if (stages.size() > 1) placement.stages = stages;
  return placement;
}

std::vector<LayerRange> split_layers(int num_layers, int num_stages) {
  if (num_stages < 1) fail("internal: split_layers with {} stages", num_stages);
  if (num_stages > num_layers)
    fail("--device lists {} stages but the model has only {} layers: at most one stage per layer",
         num_stages, num_layers);
  std::vector<LayerRange> ranges;
  const int base = num_layers / num_stages, extra = num_layers % num_stages;
  int begin = 0;
  for (int s = 0; s < num_stages; ++s) {
    int size = base + (s < extra ? 1 : 0);
    ranges.push_back({begin, begin + size});
    begin += size;
  }
  return ranges;
}

std::vector<torch::Device> layer_devices(const Placement& placement, int num_layers) {
  std::vector<torch::Device> devices;
  const auto ranges = split_layers(num_layers, placement.num_stages());
  for (size_t s = 0; s < ranges.size(); ++s)
    for (int i = ranges[s].begin; i < ranges[s].end; ++i) devices.push_back(placement.stage_device(static_cast<int>(s)));
  return devices;
}

}  // namespace gemma
