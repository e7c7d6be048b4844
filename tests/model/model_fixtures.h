#pragma once
// Shared helpers for the model tests: the reference fixtures of ../shared/reference, loaded once.
// Include this header FIRST in every model test: LibTorch defines a glog-style CHECK macro that
// aborts instead of reporting, so torch must come before Catch and its CHECK must be dropped.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>
#undef CHECK
#include <catch2/catch.hpp>

#include "model/checkpoint.h"
#include "model/config.h"
#include "model/gemma3.h"
#include "model/npy.h"
#include "tests/support/test_paths.h"  // GEMMA_TEST_SOURCE_DIR / GEMMA_TEST_BINARY_DIR

namespace gemma::test {

inline std::filesystem::path reference_dir() { return std::filesystem::path(GEMMA_TEST_SHARED_DIR) / "reference"; }
inline std::filesystem::path tiny_text_dir() { return reference_dir() / "tiny-text"; }

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// The reference arrays as float32 tensors of their stored shape.
inline torch::Tensor npy_tensor(const std::filesystem::path& path) {
  NpyArray array = read_npy(path);
  if (array.descr == "<i4" || array.descr == "<i8") {
    auto values = array.to_int32();
    return torch::tensor(std::vector<int64_t>(values.begin(), values.end())).view(array.shape);
  }
  auto values = array.to_float32();
  return torch::tensor(values).view(array.shape);
}

// tiny-text in float32 on the CPU, loaded once per test process.
inline const Gemma3TextModel& tiny_text_model() {
  static std::unique_ptr<Gemma3TextModel> model = [] {
    auto config = load_config(tiny_text_dir() / "config.json");
    return Gemma3TextModel::load(config, Checkpoint::open(tiny_text_dir()), Placement{});
  }();
  return *model;
}

inline torch::Tensor full_logits(const Gemma3TextModel& model, const std::vector<int>& ids,
                                 std::vector<torch::Tensor>* layers = nullptr) {
  auto batch = make_batch({ids}, Padding::Right, 0, torch::kCPU);
  KVCache cache = model.new_cache(1, static_cast<int64_t>(ids.size()));
  auto hidden = model.forward(batch, cache, layers);
  return model.logits(hidden)[0];
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

}  // namespace gemma::test
