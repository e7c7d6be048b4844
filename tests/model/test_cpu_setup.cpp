// ATen's elementwise kernel level (ATEN_CPU_CAPABILITY) and LibTorch's thread count, as gemma-eval's
// main() chooses them and results.json / `gemma-eval bench` record them.
#include "cli_runner.h"  // first: see model_fixtures.h

#include <cstdlib>
#include <optional>

#include "model/cpu_features.h"
#include "model/device.h"
#include "model/kernels/parallel_rows.h"

using namespace gemma;
using namespace gemma::test;

namespace {

// Sets (or, with nullopt, unsets) an environment variable for one scope, restoring it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

CpuFeatures avx512_cpu() {
  CpuFeatures cpu;
  cpu.avx2 = cpu.fma = cpu.avx512f = cpu.avx512bw = cpu.avx512vl = cpu.avx512dq = true;
  return cpu;
}

CpuFeatures avx2_cpu() {
  CpuFeatures cpu;
  cpu.avx2 = cpu.fma = true;
  return cpu;
}

nlohmann::json bench_kernel_path(const std::string& environment) {
  // run_cli has no environment parameter: prefix the command through env(1) instead.
  const std::string command = "env " + environment + " " + std::string(GEMMA_TEST_BINARY_DIR) +
                              "/gemma-eval bench --model " + quote(tiny_text_dir()) +
                              " -p 8 -n 2 --batch 1 --repetitions 1 --dtype float32 --format json";
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  INFO(command << "\n" << output);
  REQUIRE(pclose(pipe) == 0);
  return nlohmann::json::parse(output)["kernel_path"];
}

}  // namespace

TEST_CASE("ATEN_CPU_CAPABILITY: avx512 where the CPU has AVX512F/BW/VL/DQ, a user's value kept", "[cpu_setup]") {
  {
    ScopedEnv unset("ATEN_CPU_CAPABILITY", std::nullopt);
    const std::string reason = choose_aten_cpu_capability(avx512_cpu());
    REQUIRE(std::getenv("ATEN_CPU_CAPABILITY") != nullptr);
    CHECK(std::string(std::getenv("ATEN_CPU_CAPABILITY")) == "avx512");
    CHECK(reason.find("set by gemma-eval") != std::string::npos);
    CHECK(aten_cpu_capability_reason() == reason);
  }
  {
    ScopedEnv unset("ATEN_CPU_CAPABILITY", std::nullopt);
    const std::string reason = choose_aten_cpu_capability(avx2_cpu());
    CHECK(std::getenv("ATEN_CPU_CAPABILITY") == nullptr);
    CHECK(reason.find("lacks AVX512") != std::string::npos);
  }
  {
    ScopedEnv user("ATEN_CPU_CAPABILITY", "default");
    const std::string reason = choose_aten_cpu_capability(avx512_cpu());
    CHECK(std::string(std::getenv("ATEN_CPU_CAPABILITY")) == "default");
    CHECK(reason == "ATEN_CPU_CAPABILITY=default set by the user");
  }
}

TEST_CASE("threads: --threads, else OMP_NUM_THREADS, else every usable core", "[cpu_setup]") {
  CHECK(choose_threads(3, "2", 8).threads == 3);
  CHECK(choose_threads(3, "2", 8).reason == "--threads 3");
  CHECK(choose_threads(0, "2", 8).threads == 0);  // LibTorch read it already
  CHECK(choose_threads(0, "2", 8).reason == "OMP_NUM_THREADS=2");
  CHECK(choose_threads(0, nullptr, 8).threads == 8);
  CHECK(choose_threads(0, "", 8).threads == 8);
  CHECK(choose_threads(0, nullptr, 1).reason == "the 1 core this process may run on");
  CHECK(choose_threads(0, nullptr, 0).threads == 1);
  CHECK(usable_cores() >= 1);
}

TEST_CASE("bench records the ATen capability in effect, the threads, and respects a user's variables",
          "[cpu_setup][cli][bench]") {
  const CpuFeatures& cpu = detect_cpu_features();
  {
    const auto kernel = bench_kernel_path("-u ATEN_CPU_CAPABILITY -u OMP_NUM_THREADS -u GEMMA_EVAL_CPU_FEATURES");
    CHECK(kernel["aten_cpu_capability"] == (cpu.avx512_core() ? "AVX512" : cpu.avx2 ? "AVX2" : "DEFAULT"));
    CHECK(kernel["aten_cpu_capability_env"] == (cpu.avx512_core() ? "avx512" : ""));
    CHECK(kernel["threads"] == usable_cores());
    CHECK(kernel["threads_reason"].get<std::string>().find("this process may run on") != std::string::npos);
  }
  {
    const auto kernel = bench_kernel_path("ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1");
    CHECK(kernel["aten_cpu_capability"] == "DEFAULT");
    CHECK(kernel["aten_cpu_capability_reason"] == "ATEN_CPU_CAPABILITY=default set by the user");
    CHECK(kernel["threads"] == 1);
    CHECK(kernel["threads_reason"] == "OMP_NUM_THREADS=1");
  }
  if (cpu.avx2) {  // a simulated AVX2-only CPU stays on ATen's AVX2 kernels
    const auto kernel = bench_kernel_path("-u ATEN_CPU_CAPABILITY GEMMA_EVAL_CPU_FEATURES=avx2,fma");
    CHECK(kernel["aten_cpu_capability"] == "AVX2");
    CHECK(kernel["aten_cpu_capability_env"] == "");
  }
}

TEST_CASE("the CPU kernels' rows are split over LibTorch's intra-op threads", "[cpu_setup]") {
  // at::parallel_for splits nothing in a file compiled without OpenMP (model/kernels/parallel_rows.h):
  // bf16_matvec and small_batch_linear then ran on one thread of two.
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  CHECK(gemma::parallel_rows_threads_used(1 << 16, 256) == 2);
  CHECK(gemma::parallel_rows_threads_used(100, 256) == 1);  // under one grain: the calling thread alone
  at::set_num_threads(threads);
}
