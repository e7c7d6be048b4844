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

namespace gemma {

struct Placement {
  torch::Device device = torch::kCPU;         // the first stage: token ids go in, logits come out here
  torch::ScalarType dtype = torch::kFloat32;  // the compute dtype of activations and weights
  std::vector<torch::Device> stages;          // every stage in order; empty means just `device`

  int num_stages() const { return stages.empty() ? 1 : static_cast<int>(stages.size()); }
  torch::Device stage_device(int stage) const { return stages.empty() ? device : stages.at(stage); }
  // "cpu", "cuda:0" or "cuda:0,cuda:1": what --device would say.
  std::string label() const;
};

// "cpu", "cuda", "cuda:N". CUDA on a build or machine without it is a clear error.
torch::Device parse_device(const std::string& text);

// "float32" | "bfloat16" | "float16" (also fp32/bf16/fp16), or "auto": float32 if any stage is on the
// CPU (bf16 matmul is much slower than fp32 there), bfloat16 when every stage is CUDA (what the
// checkpoints are stored in).
torch::ScalarType parse_dtype(const std::string& text, const std::vector<torch::Device>& stages);

std::string dtype_label(torch::ScalarType dtype);

Placement parse_placement(const std::string& devices, const std::string& dtype);

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
