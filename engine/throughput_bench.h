#pragma once
// What `gemma-eval bench` measures (cli/bench_command.cpp prints it): this machine's GEMM rate
// and memory read bandwidth, then the decoder's prefill and decode throughput, each next to the bound
// those two rates imply, in one run so the ratios are comparable. Medians over repetitions.
//
// The header is torch-free (the result is JSON); the measuring code links LibTorch.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gemma {

struct ThroughputOptions {
  std::string model;  // checkpoint folder (Hugging Face layout); empty: random weights shaped as `preset`
  std::string preset = "1b";
  std::string device = "cpu";
  std::string dtype = "auto";
  int threads = 0;                         // 0 = OMP_NUM_THREADS if set, else every usable core
  int prompt_tokens = 512;                 // -p: prefill length
  int decode_tokens = 16;                  // -n: decode steps per sequence
  std::vector<int> batch_widths = {1, 8};  // sequences stepping together in decode
  int repetitions = 3;
};

// Runs every measurement and returns {"machine", "kernel_path", "model", "settings", "peaks", "rows"};
// each row: {"test", "label", "batch", "tokens", "seconds", "tok_s", "bound_tok_s", "percent_of_bound",
// "bound"} (see docs/performance.md for what each bound counts).
nlohmann::ordered_json measure_throughput(const ThroughputOptions& options);

}  // namespace gemma
