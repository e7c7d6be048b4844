#include "model/device.h"

#include <sched.h>

#include <algorithm>
#include <optional>
#include <thread>

#include <ATen/Parallel.h>
#include <ATen/Version.h>
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

namespace {

// The dtype a config's torch_dtype names, or nullopt for "" and names this harness does not compute in.
std::optional<torch::ScalarType> checkpoint_dtype(const std::string& torch_dtype) {
  if (torch_dtype == "bfloat16") return torch::kBFloat16;
  if (torch_dtype == "float16") return torch::kFloat16;
  if (torch_dtype == "float32") return torch::kFloat32;
  return std::nullopt;
}

}  // namespace

DtypeChoice choose_dtype(const std::string& text, const std::vector<torch::Device>& stages,
                         const std::string& checkpoint_torch_dtype, const CpuFeatures& cpu) {
  const bool any_cpu =
      stages.empty() || std::any_of(stages.begin(), stages.end(), [](const torch::Device& d) { return d.is_cpu(); });
  const bool all_cuda =
      !stages.empty() && std::all_of(stages.begin(), stages.end(), [](const torch::Device& d) { return d.is_cuda(); });
  if (text != "auto") {
    DtypeChoice choice;
    if (text == "float32" || text == "fp32")
      choice.dtype = torch::kFloat32;
    else if (text == "bfloat16" || text == "bf16")
      choice.dtype = torch::kBFloat16;
    else if (text == "float16" || text == "fp16")
      choice.dtype = torch::kFloat16;
    else
      fail("--dtype {}: expected float32, bfloat16, float16 or auto", text);
    choice.reason = "--dtype " + text + " as given";
    if (any_cpu && choice.dtype == torch::kBFloat16 && !cpu.native_bf16())
      choice.reason += " (this CPU has " + cpu.summary() + ": bf16 runs emulated, slower than float32)";
    return choice;
  }
  const std::string named = checkpoint_torch_dtype.empty() ? "checkpoint config names no torch_dtype"
                                                           : "checkpoint torch_dtype " + checkpoint_torch_dtype;
  const auto wanted = checkpoint_dtype(checkpoint_torch_dtype);
  auto chosen = [&](torch::ScalarType dtype, const std::string& why) {
    return DtypeChoice{dtype, "auto: " + named + "; " + why + " -> " + dtype_label(dtype)};
  };
  if (all_cuda) return chosen(wanted.value_or(torch::kBFloat16), "every stage CUDA");
  // A CPU stage decides for all: one dtype runs through every stage.
  const bool mixed = std::any_of(stages.begin(), stages.end(), [](const torch::Device& d) { return d.is_cuda(); });
  const std::string cpu_has = std::string(mixed ? "a CPU stage, and the " : "") + "CPU has " + cpu.summary();
  if (wanted == torch::kBFloat16 && cpu.native_bf16()) return chosen(torch::kBFloat16, cpu_has);
  if (wanted == torch::kFloat16) return chosen(torch::kFloat32, cpu_has + ", no native float16 on CPU");
  return chosen(torch::kFloat32, cpu_has);
}

std::string dtype_label(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32:
      return "float32";
    case torch::kBFloat16:
      return "bfloat16";
    case torch::kFloat16:
      return "float16";
    default:
      return c10::toString(dtype);
  }
}

std::string Placement::label() const {
  std::string text;
  for (int s = 0; s < num_stages(); ++s) text += (s ? "," : "") + stage_device(s).str();
  return text;
}

Placement parse_placement(const std::string& devices, const std::string& dtype,
                          const std::string& checkpoint_torch_dtype) {
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
  DtypeChoice choice = choose_dtype(dtype, stages, checkpoint_torch_dtype, cpu_features());
  placement.dtype = choice.dtype;
  placement.dtype_reason = choice.reason;
  if (stages.size() > 1) placement.stages = stages;
  return placement;
}

std::string aten_cpu_capability_in_effect() {
  // at::native::get_cpu_capability() is not exported from libtorch_cpu 1.13; show_config() prints its
  // answer as "CPU capability usage: AVX512" (AVX2, or NO AVX for DEFAULT).
  const std::string config = at::show_config();
  const std::string key = "CPU capability usage:";
  const size_t at = config.find(key);
  if (at == std::string::npos) return "unknown";
  const size_t begin = config.find_first_not_of(' ', at + key.size());
  const size_t end = config.find('\n', begin);
  const std::string level = config.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  return level == "NO AVX" ? "DEFAULT" : level;  // the name ATEN_CPU_CAPABILITY=default gives it
}

ThreadChoice choose_threads(int requested, const char* omp_num_threads, int usable_cores) {
  if (requested > 0) return {requested, fmt::format("--threads {}", requested)};
  if (omp_num_threads && *omp_num_threads) return {0, fmt::format("OMP_NUM_THREADS={}", omp_num_threads)};
  const int cores = std::max(1, usable_cores);
  return {cores, fmt::format("the {} core{} this process may run on", cores, cores == 1 ? "" : "s")};
}

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {
std::string& recorded_thread_reason() {
  static std::string reason;
  return reason;
}
}  // namespace

ThreadChoice apply_threads(int requested) {
  ThreadChoice choice = choose_threads(requested, std::getenv("OMP_NUM_THREADS"), usable_cores());
  if (choice.threads > 0) at::set_num_threads(choice.threads);
  recorded_thread_reason() = choice.reason;
  return thread_choice();
}

ThreadChoice thread_choice() { return {at::get_num_threads(), recorded_thread_reason()}; }

std::vector<LayerRange> split_layers(int num_layers, int num_stages) {
  if (num_stages < 1) fail("internal: split_layers with {} stages", num_stages);
  if (num_stages > num_layers)
    fail("--device lists {} stages but the model has only {} layers: at most one stage per layer", num_stages,
         num_layers);
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
    for (int i = ranges[s].begin; i < ranges[s].end; ++i)
      devices.push_back(placement.stage_device(static_cast<int>(s)));
  return devices;
}

}  // namespace gemma
