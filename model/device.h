#pragma once
// Where the model runs and in which dtype it computes, parsed from --device / --dtype.
//
// --device takes one device ("cpu", "cuda", "cuda:N") or a comma-separated list of them: pipeline
// stages for a model larger than one GPU. The decoder layers are split into contiguous ranges, one
// per stage in order; the embedding (and the tied LM head) lives on the first stage, the final norm
// on the last. Activations move stage to stage; each layer's KV cache lives with its layer.
#include <string>
#include <vector>

#include <torch/types.h>

#include "model/cpu_features.h"

namespace gemma {

struct Placement {
  torch::Device device = torch::kCPU;         // the first stage: token ids go in, logits come out here
  torch::ScalarType dtype = torch::kFloat32;  // the compute dtype of activations and weights
  std::vector<torch::Device> stages;          // every stage in order; empty means just `device`
  // Why `dtype`: "auto: checkpoint torch_dtype bfloat16; CPU has AVX512_BF16+AMX -> bfloat16", printed
  // once by the CLI and recorded with the results.
  std::string dtype_reason;

  int num_stages() const { return stages.empty() ? 1 : static_cast<int>(stages.size()); }
  torch::Device stage_device(int stage) const { return stages.empty() ? device : stages.at(stage); }
  // "cpu", "cuda:0" or "cuda:0,cuda:1": what --device would say.
  std::string label() const;
};

// "cpu", "cuda", "cuda:N". CUDA on a build or machine without it is a clear error.
torch::Device parse_device(const std::string& text);

struct DtypeChoice {
  torch::ScalarType dtype = torch::kFloat32;
  std::string reason;
};

// "float32" | "bfloat16" | "float16" (also fp32/bf16/fp16) as given, or "auto": the checkpoint's
// config torch_dtype (`checkpoint_torch_dtype`, "" when config.json names none), as transformers'
// torch_dtype="auto" does, wherever every stage computes in it natively, else float32:
//   - every stage CUDA: the checkpoint's dtype (bfloat16 when the config names none);
//   - a CPU stage: bfloat16 only when `cpu` has a hardware bf16 matrix product (AVX512_BF16 or AMX;
//     LibTorch runs bf16 linear on oneDNN's kernels for it, ~6x fp32 on Sapphire Rapids); float16
//     never (no CPU kernels for it): float32.
// A float32 checkpoint computes in float32 everywhere.
DtypeChoice choose_dtype(const std::string& text, const std::vector<torch::Device>& stages,
                         const std::string& checkpoint_torch_dtype, const CpuFeatures& cpu);

std::string dtype_label(torch::ScalarType dtype);

// --device and --dtype for a checkpoint whose config says `checkpoint_torch_dtype`, on this CPU
// (cpu_features()).
Placement parse_placement(const std::string& devices, const std::string& dtype,
                          const std::string& checkpoint_torch_dtype);

// The elementwise kernel level ATen dispatches to in this process: "DEFAULT", "AVX2" or "AVX512"
// (LibTorch reads ATEN_CPU_CAPABILITY once; see choose_aten_cpu_capability in model/cpu_features.h).
std::string aten_cpu_capability_in_effect();

struct ThreadChoice {
  int threads = 1;     // 0 from choose_threads: leave LibTorch's own count (it read OMP_NUM_THREADS)
  std::string reason;  // "--threads 2", "OMP_NUM_THREADS=2", "the 2 cores this process may run on"
};

// LibTorch's intra-op threads: --threads N when N > 0; else OMP_NUM_THREADS when set (`omp_num_threads`,
// nullptr when unset; LibTorch reads it itself); else every core this process may run on
// (`usable_cores`), because Debian's LibTorch 1.13 starts with one thread whatever the machine has.
ThreadChoice choose_threads(int requested, const char* omp_num_threads, int usable_cores);

// The CPUs in this process's affinity mask (sched_getaffinity; taskset and cgroup cpusets narrow it),
// else std::thread::hardware_concurrency(), at least 1.
int usable_cores();

// choose_threads() for this process applied with torch::set_num_threads, remembered for thread_choice().
ThreadChoice apply_threads(int requested);

// What the last apply_threads() decided, with the count LibTorch now uses ({threads, ""} before any call).
ThreadChoice thread_choice();

// Layers [begin, end) of one pipeline stage.
struct LayerRange {
  int begin = 0, end = 0;
};

// Contiguous ranges covering 0..num_layers-1 in order, as equal as possible (the first stages take
// one more layer when the count does not divide). More stages than layers is an error.
std::vector<LayerRange> split_layers(int num_layers, int num_stages);

// The device of every layer under `placement` (size num_layers).
std::vector<torch::Device> layer_devices(const Placement& placement, int num_layers);

}  // namespace gemma
