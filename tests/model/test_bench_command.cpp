// gemma-eval bench: what it prints, not how fast (timings are never asserted in tests).
#include "cli_runner.h"  // first: see model_fixtures.h

#include <cmath>

#include "model/cpu_features.h"

namespace fs = std::filesystem;
using namespace gemma::test;

namespace {

// The JSON document bench prints on stdout (run_cli also captures stderr's progress line before it).
nlohmann::json bench_json(const std::string& output) {
  const size_t start = output.find('{');
  REQUIRE(start != std::string::npos);
  return nlohmann::json::parse(output.substr(start));
}

void require_positive(const nlohmann::json& object, const char* key) {
  INFO(key << " in " << object.dump());
  REQUIRE(object.contains(key));
  REQUIRE(object[key].is_number());
  const double value = object[key].get<double>();
  CHECK(std::isfinite(value));
  CHECK(value > 0);
}

void require_text(const nlohmann::json& object, const char* key) {
  INFO(key << " in " << object.dump());
  REQUIRE(object.contains(key));
  REQUIRE(object[key].is_string());
}

}  // namespace

TEST_CASE("bench measures the machine and the model and prints every field", "[cli][bench]") {
  auto run = run_cli("bench --model " + quote(tiny_text_dir()) +
                     " -p 16 -n 4 --batch 1,2 --repetitions 1 --threads 1 --format json");
  INFO(run.output);
  REQUIRE(run.status == 0);
  const auto result = bench_json(run.output);

  for (const char* key :
       {"device", "dtype", "aten_cpu_capability", "aten_cpu_capability_env", "blas_info", "onednn", "torch_version"})
    require_text(result["kernel_path"], key);
  CHECK(result["kernel_path"]["device"] == "cpu");
  // auto: the fixture's torch_dtype (bfloat16) where this CPU multiplies bf16 natively, else float32.
  const bool native_bf16 =
      run.output.find("AVX512_BF16") != std::string::npos || run.output.find("AMX") != std::string::npos;
  CHECK(result["kernel_path"]["dtype"] == (native_bf16 ? "bfloat16" : "float32"));
  require_text(result["kernel_path"], "dtype_reason");
  CHECK(result["kernel_path"]["threads"] == 1);
  CHECK(result["kernel_path"]["blas_libraries"].is_array());
  require_text(result["machine"], "model");
  CHECK(result["machine"]["flags"].is_array());

  const auto& model = result["model"];
  CHECK(model["source"].get<std::string>().find("tiny-text") != std::string::npos);
  for (const char* key : {"parameters", "weight_bytes", "layers", "hidden_size", "vocab_size"})
    require_positive(model, key);
  CHECK(result["settings"]["prompt_tokens"] == 16);
  CHECK(result["settings"]["decode_tokens"] == 4);
  CHECK(result["settings"]["batch"] == nlohmann::json::array({1, 2}));
  CHECK(result["settings"]["repetitions"] == 1);

  const auto& gemm = result["peaks"]["gemm"];
  REQUIRE(gemm.size() == 2);  // float32 and bfloat16; the compute dtype is one of them
  for (const auto& one : gemm) {
    require_positive(one, "gflop_s");
    require_text(one, "shape");
  }
  CHECK(gemm[0]["dtype"] == "float32");
  CHECK(gemm[1]["dtype"] == "bfloat16");
  const auto& bandwidth = result["peaks"]["read_bandwidth"];
  for (const char* key : {"gb_s", "read_loop_gb_s", "sgemv_gb_s"}) require_positive(bandwidth, key);
  // The bound takes the faster of the two ways to stream the buffer.
  CHECK(bandwidth["gb_s"].get<double>() ==
        std::max(bandwidth["read_loop_gb_s"].get<double>(), bandwidth["sgemv_gb_s"].get<double>()));

  const auto& rows = result["rows"];
  REQUIRE(rows.size() == 4);
  const std::vector<std::tuple<std::string, int, int>> expected = {
      {"prefill_all_logits", 1, 16}, {"prefill_last_logit", 1, 16}, {"decode", 1, 4}, {"decode", 2, 8}};
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i << ": " << rows[i].dump());
    CHECK(rows[i]["test"] == std::get<0>(expected[i]));
    CHECK(rows[i]["batch"] == std::get<1>(expected[i]));
    CHECK(rows[i]["tokens"] == std::get<2>(expected[i]));
    for (const char* key : {"seconds", "tok_s", "bound_tok_s", "percent_of_bound"}) require_positive(rows[i], key);
    require_text(rows[i], "label");
    require_text(rows[i], "bound");
    require_text(rows[i], "projection_kernel");
    const double tok_s = rows[i]["tokens"].get<double>() / rows[i]["seconds"].get<double>();
    CHECK(rows[i]["tok_s"].get<double>() == Approx(tok_s));
    CHECK(rows[i]["percent_of_bound"].get<double>() ==
          Approx(100 * rows[i]["tok_s"].get<double>() / rows[i]["bound_tok_s"].get<double>()));
  }
  // The decode rows name the kernel project() takes for one and for two rows (model/gemma3.cpp).
  if (result["kernel_path"]["dtype"] == "float32") {
    CHECK(rows[2]["projection_kernel"] == "torch::mv");
    CHECK(rows[3]["projection_kernel"].get<std::string>().find("bf16") == std::string::npos);
  } else if (gemma::cpu_features().amx_bf16) {
    CHECK(rows[3]["projection_kernel"] == "amx_bf16_linear (AMX tiles)");
  }
  // The same weights read once per step: twice the sequences, (nearly) twice the bound.
  CHECK(rows[3]["bound_tok_s"].get<double>() > 1.9 * rows[2]["bound_tok_s"].get<double>());
  // Every position's LM head costs more FLOPs than the last one's alone: a lower bound.
  CHECK(rows[0]["bound_tok_s"].get<double>() < rows[1]["bound_tok_s"].get<double>());
}

TEST_CASE("bench prints a Markdown table by default", "[cli][bench]") {
  auto run = run_cli("bench --model " + quote(tiny_text_dir()) + " -p 8 -n 2 --batch 2 --repetitions 1");
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.output, Catch::Contains("| test | rate | bound | % of bound | bound from | projections on |"));
  CHECK_THAT(run.output, Catch::Contains("| GEMM float32 "));
  CHECK_THAT(run.output, Catch::Contains("| memory read, "));
  CHECK_THAT(run.output, Catch::Contains("| prefill 1x8, logits at every position | "));
  CHECK_THAT(run.output, Catch::Contains("| prefill 1x8, last logit only | "));
  CHECK_THAT(run.output, Catch::Contains("| decode 2 sequences, 2 steps | "));
  CHECK_THAT(run.output, Catch::Contains("ATen CPU capability"));
}

TEST_CASE("bench refuses bad flags naming the flag", "[cli][bench][errors]") {
  const std::string model = " --model " + quote(tiny_text_dir());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bench --batch 0" + model, "--batch"},
      {"bench --batch 1,,8" + model, "--batch"},
      {"bench --batch 1,x" + model, "'x'"},
      {"bench -p abc" + model, "abc"},
      {"bench -p 0" + model, "--prompt-tokens"},
      {"bench -n -1" + model, "--decode-tokens"},
      {"bench --repetitions 0" + model, "--repetitions"},
      {"bench --format xml" + model, "--format"},
      {"bench --preset 3b", "unknown Gemma 3 size '3b'"},
      {"bench --preset 1b" + model, "--preset"},
      {"bench --device tpu" + model, "--device tpu"},
  };
  for (const auto& [args, expected] : cases) {
    auto run = run_cli(args);
    INFO(args << "\n" << run.output);
    CHECK(run.status != 0);
    CHECK_THAT(run.output, Catch::Contains(expected));
    CHECK(run.output.find("| test |") == std::string::npos);  // nothing measured
  }
}
