// A fine-tune re-saved with the same layout is another model: one weight changed in the middle of a
// tensor (where the earlier fingerprint, 64 KiB every 64 MiB, never looked) must give another weights
// fingerprint, so the result cache reuses nothing, merge refuses shards of the two, and compare calls
// their runs incomparable. The checkpoint sits at the same path throughout, as a fine-tune saved over
// its base would: only the bytes differ.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "../support/temp_dir.h"
#include "common/files.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Replaces the file by a new one (another inode, as a save does), through a temp file and rename.
void save_over(const fs::path& path, const std::string& bytes) {
  const fs::path temp = path.string() + ".saving";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
  }
  fs::rename(temp, path);
}

// The file offset of one element in the middle of the largest tensor, and that file's header end.
struct MiddleOfTensor {
  std::string tensor;
  size_t offset = 0, data_start = 0;
};
MiddleOfTensor middle_of_largest_tensor(const std::string& file) {
  uint64_t header_length = 0;
  std::memcpy(&header_length, file.data(), 8);
  const json header = json::parse(file.substr(8, header_length));
  MiddleOfTensor best;
  size_t best_size = 0;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    const size_t begin = info["data_offsets"][0], end = info["data_offsets"][1];
    const size_t element = info["dtype"] == "F32" ? 4 : 2;
    if (end - begin <= best_size) continue;
    best_size = end - begin;
    best.tensor = name;
    best.data_start = 8 + header_length;
    best.offset = best.data_start + begin + (end - begin) / 2 / element * element;
  }
  return best;
}

// GEMMA_EVAL_CACHE_HOME pointed at a test folder (the weight-digest memo), put back afterwards.
struct ScopedCacheHome {
  bool was_set;
  std::string old;
  explicit ScopedCacheHome(const fs::path& dir)
      : was_set(std::getenv("GEMMA_EVAL_CACHE_HOME") != nullptr),
        old(was_set ? std::getenv("GEMMA_EVAL_CACHE_HOME") : "") {
    ::setenv("GEMMA_EVAL_CACHE_HOME", dir.c_str(), 1);
  }
  ~ScopedCacheHome() {
    was_set ? ::setenv("GEMMA_EVAL_CACHE_HOME", old.c_str(), 1) : ::unsetenv("GEMMA_EVAL_CACHE_HOME");
  }
};

json results_in(const fs::path& dir) { return read_json(dir / "results.json"); }

}  // namespace

TEST_CASE("weights identity: one weight changed mid-tensor is another model for the cache, merge and compare",
          "[run][cache][weights_fingerprint]") {
  TempDir tmp("gemma-eval-weights-identity");
  ScopedCacheHome cache_home(tmp.path / "user-cache");
  // A copy of tiny-text (link stubs resolved), two shards like any large checkpoint.
  const fs::path model = tmp.path / "model";
  fs::create_directories(model);
  for (const auto& entry : fs::directory_iterator(tiny_text_dir()))
    if (entry.is_regular_file()) fs::copy_file(follow_link_stub(entry.path()), model / entry.path().filename());
  const fs::path shard = model / "model-00001-of-00002.safetensors";
  const std::string base_bytes = bytes_of(shard);

  // The fine-tune: the lowest mantissa bit of one weight in the middle of the largest tensor.
  const MiddleOfTensor middle = middle_of_largest_tensor(base_bytes);
  INFO("changed tensor " << middle.tensor << " at byte " << middle.offset);
  // Outside the header and outside every window the old rule read (64 KiB at each multiple of 64 MiB).
  REQUIRE(middle.offset >= middle.data_start);
  REQUIRE(middle.offset % (64u << 20) >= (64u << 10));
  std::string tuned_bytes = base_bytes;
  tuned_bytes[middle.offset] ^= 0x01;

  const fs::path cache = tmp.path / "result-cache";
  const std::string args = "run --model " + quote(model) + " --task arc_easy --limit 4 --log-samples --no-progress";
  CliRun base = run_cli(args + " --cache " + quote(cache) + " --output " + quote(tmp.path / "base"));
  INFO(base.output);
  REQUIRE(base.status == 0);
  // The digests were remembered in the user cache folder, one per file.
  const json memo = read_json(tmp.path / "user-cache" / "file-digests.json");
  CHECK(memo["entries"].size() == 2);

  save_over(shard, tuned_bytes);
  CliRun tuned = run_cli(args + " --cache " + quote(cache) + " --output " + quote(tmp.path / "tuned"));
  INFO(tuned.output);
  REQUIRE(tuned.status == 0);
  const json base_results = results_in(tmp.path / "base"), tuned_results = results_in(tmp.path / "tuned");
  const json& base_model = base_results["config"]["model_details"];
  const json& tuned_model = tuned_results["config"]["model_details"];
  CHECK(base_model["weights_fingerprint"] != tuned_model["weights_fingerprint"]);
  CHECK(base_model["weights_files"][0]["xxh3_128"] != tuned_model["weights_files"][0]["xxh3_128"]);
  CHECK(base_model["weights_files"][1] == tuned_model["weights_files"][1]);
  // The result cache: nothing of the base model's is handed to the fine-tune.
  CHECK(tuned_results["config"]["cache"]["hits"] == 0);
  CHECK(tuned_results["config"]["cache"]["misses"] == base_results["config"]["cache"]["misses"]);
  CHECK_THAT(tuned.output, Catch::Contains("reused 0 of"));

  // compare: the two runs are of two models, not a regression of one.
  CliRun compared =
      run_cli("compare " + quote(tmp.path / "base") + " " + quote(tmp.path / "tuned") + " --fail-on-incomparable");
  INFO(compared.output);
  CHECK(compared.status == 1);
  CHECK_THAT(compared.output, Catch::Contains("incomparable") && Catch::Contains("weights fingerprint"));

  // merge: shard 0/2 from the fine-tune, shard 1/2 from the base model, at the same path.
  const std::string shard_args = "run --model " + quote(model) + " --task arc_easy --limit 4 --no-progress --no-cache";
  CliRun first = run_cli(shard_args + " --shard 0/2 --output " + quote(tmp.path / "shard0"));
  INFO(first.output);
  REQUIRE(first.status == 0);
  save_over(shard, base_bytes);
  CliRun second = run_cli(shard_args + " --shard 1/2 --output " + quote(tmp.path / "shard1"));
  INFO(second.output);
  REQUIRE(second.status == 0);
  CliRun merged = run_cli("merge " + quote(tmp.path / "shard0") + " " + quote(tmp.path / "shard1") + " --output " +
                          quote(tmp.path / "merged"));
  INFO(merged.output);
  CHECK(merged.status != 0);
  CHECK_THAT(merged.output,
             Catch::Contains("do not belong to one run") && Catch::Contains("weights fingerprint differs"));
  CHECK_FALSE(fs::exists(tmp.path / "merged" / "results.json"));

  // The base model's bytes again (saved anew): its fingerprint again, and its cached results all reused.
  CliRun again = run_cli(args + " --cache " + quote(cache) + " --output " + quote(tmp.path / "again"));
  INFO(again.output);
  REQUIRE(again.status == 0);
  const json again_results = results_in(tmp.path / "again");
  CHECK(again_results["config"]["model_details"]["weights_fingerprint"] == base_model["weights_fingerprint"]);
  CHECK(again_results["config"]["cache"]["misses"] == 0);
  CHECK(again_results["results"] == base_results["results"]);
}
