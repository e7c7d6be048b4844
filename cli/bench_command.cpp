// gemma-eval bench: throughput of this machine and of the decoder, as llama-bench reports it, each
// rate beside the bound this machine's measured GEMM rate and read bandwidth put on it. The
// measuring is engine/throughput_bench.cpp; this file parses flags and prints.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/integer_flags.h"
#include "common/error.h"
#include "engine/throughput_bench.h"
#include "model/config.h"

namespace gemma::cli {
namespace {

using Json = nlohmann::ordered_json;

// Decode widths larger than this only exhaust memory (a KV cache row per sequence): most likely a typo.
constexpr int64_t kMaxBatchWidth = 4096;
constexpr int64_t kMaxTokens = 1 << 20;

// --batch 1,8,16: each a width in [1, kMaxBatchWidth].
std::vector<int> parse_batch_widths(const std::string& text, std::string* error) {
  std::vector<int> widths;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto width = parse_integer_in(item, 1, kMaxBatchWidth);
    if (!width) {
      *error = fmt::format("expected comma-separated batch widths, each an integer in [1, {}]; got '{}' in '{}'",
                           kMaxBatchWidth, item, text);
      return {};
    }
    widths.push_back(static_cast<int>(*width));
    if (comma == std::string::npos) return widths;
    start = comma + 1;
  }
}

std::string number(double value) {
  if (value >= 100) return fmt::format("{:.0f}", value);
  if (value >= 10) return fmt::format("{:.1f}", value);
  return fmt::format("{:.2f}", value);
}

std::string joined(const Json& list, const char* separator) {
  std::string text;
  for (const auto& item : list) text += (text.empty() ? "" : separator) + item.get<std::string>();
  return text;
}

std::string markdown(const Json& result) {
  const Json& kernel = result["kernel_path"];
  const Json& machine = result["machine"];
  const Json& model = result["model"];
  std::string text = "# gemma-eval bench\n\n";
  text += fmt::format("- model: {}, {:.0f} parameters ({:.2f} GB as stored in memory)\n",
                      model["source"].get<std::string>(), model["parameters"].get<double>(),
                      model["weight_bytes"].get<double>() / 1e9);
  text += fmt::format(
      "- kernel path: {} on {}, {} thread(s) ({}); ATen CPU capability {} ({}); "
      "BLAS {} [{}]; oneDNN {}; LibTorch {}\n",
      kernel["dtype"].get<std::string>(), kernel["device"].get<std::string>(), kernel["threads"].get<int>(),
      kernel["threads_reason"].get<std::string>(), kernel["aten_cpu_capability"].get<std::string>(),
      kernel["aten_cpu_capability_reason"].get<std::string>(), kernel["blas_info"].get<std::string>(),
      joined(kernel["blas_libraries"], ", "), kernel["onednn"].get<std::string>(),
      kernel["torch_version"].get<std::string>());
  text += fmt::format("- CPU: {} (flags: {})\n", machine["model"].get<std::string>(), joined(machine["flags"], " "));
  const int repetitions = result["settings"]["repetitions"].get<int>();
  text += fmt::format(
      "- model rows: medians of {} repetition(s); GEMM and read rates (the bounds): the best of {} after a "
      "warm-up\n\n",
      repetitions, std::max(repetitions, 5));
  text += "| test | rate | bound | % of bound | bound from | projections on |\n|---|---|---|---|---|---|\n";
  for (const auto& gemm : result["peaks"]["gemm"])
    text += fmt::format("| GEMM {} {} (torch::linear) | {} GFLOP/s | | | | |\n", gemm["dtype"].get<std::string>(),
                        gemm["shape"].get<std::string>(), number(gemm["gflop_s"].get<double>()));
  const Json& bandwidth = result["peaks"]["read_bandwidth"];
  text += fmt::format("| memory read, {} | {} GB/s | | | | |\n", bandwidth["what"].get<std::string>(),
                      number(bandwidth["gb_s"].get<double>()));
  for (const auto& row : result["rows"])
    text += fmt::format(
        "| {} | {} tok/s | {} tok/s | {:.0f}% | {} | {} |\n", row["label"].get<std::string>(),
        number(row["tok_s"].get<double>()), number(row["bound_tok_s"].get<double>()),
        row["percent_of_bound"].get<double>(), row["bound"].get<std::string>(),
        row["projection_kernel"].get<std::string>() +
            (row.contains("outside_projections_percent")
                 ? fmt::format(" ({:.0f}% of a step outside them)", row["outside_projections_percent"].get<double>())
                 : std::string()));
  return text;
}

}  // namespace

CLI::App* add_bench_command(CLI::App& app, BenchArgs& args) {
  auto* command = app.add_subcommand(
      "bench",
      "Measure this machine's GEMM rate and memory bandwidth, then prefill and decode tok/s of a model, "
      "each as a percentage of the bound those rates give (like llama-bench)");
  add_model_flags(*command, args.model);
  command->get_option("--model")->description(
      "Checkpoint directory (Hugging Face layout) to measure instead of random weights");
  command
      ->add_option("--preset", args.preset,
                   "Random weights with the exact shapes of a released size: 270m, 1b, 4b, 12b, 27b (default 1b)")
      ->check(CLI::Validator(
          [](std::string& size) -> std::string {
            try {
              (void)config_preset(size);
            } catch (const Error& e) {
              return e.what();
            }
            return {};
          },
          "SIZE"))
      ->excludes(command->get_option("--model"));
  command->add_option("-p,--prompt-tokens", args.prompt_tokens, "Tokens in the prefill prompt")
      ->capture_default_str()
      ->transform(integer_in(1, kMaxTokens));
  command->add_option("-n,--decode-tokens", args.decode_tokens, "Decode steps per sequence")
      ->capture_default_str()
      ->transform(integer_in(1, kMaxTokens));
  command->add_option("--batch", args.batch, "Decode batch widths, comma-separated (sequences stepping together)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            std::string error;
            parse_batch_widths(text, &error);
            return error;
          },
          "B[,B...]"));
  command->add_option("--repetitions", args.repetitions, "Repetitions of each measurement (the median is printed)")
      ->capture_default_str()
      ->transform(integer_in(1, 1000));
  command->add_option("--format", args.format, "md (a Markdown table) or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"md", "json"}));
  return command;
}

int run_bench(const BenchArgs& args) {
  ThroughputOptions options;
  options.model = args.model.model;
  if (!args.preset.empty()) options.preset = args.preset;
  options.device = args.model.device;
  options.dtype = args.model.dtype;
  options.threads = args.model.threads;
  options.prompt_tokens = args.prompt_tokens;
  options.decode_tokens = args.decode_tokens;
  std::string error;
  options.batch_widths = parse_batch_widths(args.batch, &error);
  if (!error.empty()) fail("--batch: {}", error);
  options.repetitions = args.repetitions;
  std::fprintf(stderr, "gemma-eval bench: measuring %s (GEMM, bandwidth, prefill, decode)...\n",
               options.model.empty() ? ("preset " + options.preset).c_str() : options.model.c_str());
  const Json result = measure_throughput(options);
  const std::string text = args.format == "json" ? result.dump(2) + "\n" : markdown(result);
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace gemma::cli
