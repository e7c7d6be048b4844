#pragma once
// Where the model runs and in which dtype it computes, parsed from --device / --dtype.
#include <string>

#include <torch/types.h>

namespace gemma {

struct Placement {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;  // the compute dtype of activations and weights
};

// "cpu", "cuda", "cuda:N". CUDA on a build or machine without it is a clear error.
torch::Device parse_device(const std::string& text);

// "float32" | "bfloat16" | "float16" (also fp32/bf16/fp16), or "auto": float32 on CPU (bf16 matmul
// is ~20x slower than fp32 there), bfloat16 on CUDA (what the checkpoints are stored in).
torch::ScalarType parse_dtype(const std::string& text, const torch::Device& device);

std::string dtype_label(torch::ScalarType dtype);

Placement parse_placement(const std::string& device, const std::string& dtype);

}  // namespace gemma
