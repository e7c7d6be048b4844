// Hash throughput of the weights fingerprint (evals/weights_fingerprint.h) on one core: XXH3-128 of
// a file through xxh3_128_file_hex (the file in the page cache, so this is the hash and read(2), not
// the disk), against the project's own SHA-256 over the same bytes in memory. Bytes/s are reported
// per benchmark; the bar for the fingerprint is 2 GB/s.
//
//   build/bench_weights_fingerprint [--benchmark_filter=...]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>

#include "common/sha256.h"
#include "evals/weights_fingerprint.h"

namespace {

constexpr size_t kBytes = size_t{256} << 20;

std::string pattern(size_t n) {
  std::string bytes(n, '\0');
  uint32_t x = 12345;
  for (auto& c : bytes) x ^= x << 13, x ^= x >> 17, x ^= x << 5, c = static_cast<char>(x);
  return bytes;
}

// A 256 MiB file in the temp folder, written once and removed at exit.
const std::filesystem::path& weights_file() {
  static const struct File {
    std::filesystem::path path = std::filesystem::temp_directory_path() / "gemma-eval-bench-weights.bin";
    File() {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      const std::string bytes = pattern(kBytes);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    ~File() { std::filesystem::remove(path); }
  } file;
  return file.path;
}

void BM_Xxh3_128_File(benchmark::State& state) {
  const auto& path = weights_file();
  gemma::evals::xxh3_128_file_hex(path);  // into the page cache
  for (auto _ : state) benchmark::DoNotOptimize(gemma::evals::xxh3_128_file_hex(path));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}
BENCHMARK(BM_Xxh3_128_File)->Unit(benchmark::kMillisecond);

void BM_ProjectSha256_Memory(benchmark::State& state) {
  const std::string bytes = pattern(kBytes / 4);
  for (auto _ : state) benchmark::DoNotOptimize(gemma::sha256_hex(bytes));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_ProjectSha256_Memory)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
