// A run and its output folder as one unit, end to end through the binary: samples carry the run's
// identity (run id, weights fingerprint) so `rescore`, `merge` and `compare` never read one run's
// results.json with another run's samples; the folder is replaced as a whole, so a write failing part
// way leaves the previous run's files byte for byte; a run that fails on its inputs leaves no output
// folder and no cache file.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "../support/temp_dir.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kArc =
    "--task arc_challenge --limit 3 --shots 2 --no-progress --no-cache --batch-size 1 --no-prefix-sharing";

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::map<std::string, std::string> files_in(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir))
    files[entry.path().filename().string()] = entry.is_regular_file() ? read_bytes(entry.path()) : "(folder)";
  return files;
}

CliRun run_in(const std::string& args, const fs::path& out) {
  return run_cli("run " + args + " --output " + quote(out));
}

// The binary under a per-file size limit of `kib` KiB (SIGXFSZ ignored: writes fail with EFBIG, as on
// a full disk).
CliRun run_with_file_size_limit(const std::string& args, int kib) {
  const std::string shell = "bash -c " + quote("trap '' XFSZ; ulimit -f " + std::to_string(kib) + "; exec " +
                                               std::string(GEMMA_TEST_BINARY_DIR) + "/gemma-eval " + args + " 2>&1");
  FILE* pipe = popen(shell.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// A copy of the built-in tiny model with other weights and the same tokenizer and config: every
// embedding value negated (the sign bit of each little-endian bf16; finite values stay finite). The
// first 64 KiB of the file change too, so today's sampled fingerprint differs as a full one does.
fs::path other_weights_model(const fs::path& where) {
  fs::copy(fs::path(GEMMA_TEST_BINARY_DIR) / "tiny-gemma3", where, fs::copy_options::recursive);
  const fs::path weights = where / "model.safetensors";
  std::string bytes = read_bytes(weights);
  uint64_t header_length = 0;
  std::memcpy(&header_length, bytes.data(), 8);
  const json header = json::parse(bytes.substr(8, header_length));
  const auto& embedding = header.at("model.embed_tokens.weight");
  REQUIRE(embedding.at("dtype") == "BF16");
  const size_t begin = 8 + header_length + embedding.at("data_offsets")[0].get<size_t>();
  const size_t end = 8 + header_length + embedding.at("data_offsets")[1].get<size_t>();
  for (size_t i = begin + 1; i < end; i += 2) bytes[i] = static_cast<char>(bytes[i] ^ 0x80);
  std::ofstream(weights, std::ios::binary | std::ios::trunc) << bytes;
  return where;
}

}  // namespace

TEST_CASE("a run without --log-samples over one with them: rescore never scores the old run's samples",
          "[identity][rescore]") {
  TempDir dir("gemma-eval-identity");
  const fs::path out = dir.path / "out";
  auto a = run_in(kArc + " --log-samples", out);
  INFO(a.output);
  REQUIRE(a.status == 0);
  const json results_a = read_json(out / "results.json");
  REQUIRE(fs::exists(out / "samples_arc_challenge.jsonl"));

  // Run B: other weights, no samples, the same folder.
  auto b = run_in(kArc + " --model " + quote(other_weights_model(dir.path / "other-model")), out);
  INFO(b.output);
  REQUIRE(b.status == 0);
  const std::string results_b = read_bytes(out / "results.json");
  REQUIRE(json::parse(results_b)["results"] != results_a["results"]);
  CHECK_FALSE(fs::exists(out / "samples_arc_challenge.jsonl"));  // A's samples went with A's results

  auto rescored = run_cli("rescore " + quote(out));
  INFO(rescored.output);
  CHECK(rescored.status != 0);
  CHECK_THAT(rescored.output, Catch::Contains("samples_arc_challenge.jsonl") && Catch::Contains("--log-samples"));
  CHECK(read_bytes(out / "results.json") == results_b);  // B's numbers, not A's
}

TEST_CASE("a samples file of another run is refused by rescore, merge and compare, naming it",
          "[identity][rescore][merge][compare]") {
  TempDir dir("gemma-eval-identity");
  const fs::path run = dir.path / "run", twin = dir.path / "twin", other = dir.path / "other";
  // The same command twice: identical samples but for the run id, which alone tells them apart.
  for (const auto& out : {run, twin}) {
    auto ran = run_cli_once("run " + kArc + " --log-samples", out);
    INFO(ran.output);
    REQUIRE(ran.status == 0);
  }
  const json twin_results = read_json(twin / "results.json");
  REQUIRE(read_json(run / "results.json")["config"]["run_id"] != twin_results["config"]["run_id"]);
  const std::string run_id = read_json(run / "results.json")["config"]["run_id"].get<std::string>();
  REQUIRE(run_id.size() == 32);
  const std::string samples = read_bytes(run / "samples_arc_challenge.jsonl");
  const json first_line = json::parse(samples.substr(0, samples.find('\n')));
  CHECK(first_line["run_id"] == run_id);
  CHECK(first_line["weights_fingerprint"] ==
        read_json(run / "results.json")["config"]["model_details"]["weights_fingerprint"]);

  SECTION("rescore") {
    fs::copy_file(twin / "samples_arc_challenge.jsonl", run / "samples_arc_challenge.jsonl",
                  fs::copy_options::overwrite_existing);
    const std::string before = read_bytes(run / "results.json");
    auto rescored = run_cli("rescore " + quote(run));
    INFO(rescored.output);
    CHECK(rescored.status != 0);
    CHECK_THAT(rescored.output, Catch::Contains((run / "samples_arc_challenge.jsonl").string() + ":1") &&
                                    Catch::Contains("another run"));
    CHECK(read_bytes(run / "results.json") == before);
  }
  SECTION("merge") {
    const fs::path s0 = dir.path / "s0", s1 = dir.path / "s1", s1_twin = dir.path / "s1-twin";
    for (const auto& [out, shard] :
         std::vector<std::pair<fs::path, std::string>>{{s0, "0/2"}, {s1, "1/2"}, {s1_twin, "1/2"}}) {
      auto ran = run_in(kArc + " --shard " + shard, out);
      INFO(ran.output);
      REQUIRE(ran.status == 0);
    }
    auto merged = run_cli("merge " + quote(s0) + " " + quote(s1) + " --output " + quote(dir.path / "merged"));
    INFO(merged.output);
    REQUIRE(merged.status == 0);
    fs::copy_file(s1_twin / "samples_arc_challenge.jsonl", s1 / "samples_arc_challenge.jsonl",
                  fs::copy_options::overwrite_existing);
    auto refused = run_cli("merge " + quote(s0) + " " + quote(s1) + " --output " + quote(dir.path / "refused"));
    INFO(refused.output);
    CHECK(refused.status != 0);
    CHECK_THAT(refused.output,
               Catch::Contains((s1 / "samples_arc_challenge.jsonl").string() + ":1") && Catch::Contains("another run"));
    CHECK_FALSE(fs::exists(dir.path / "refused"));

    // Shards of other weights do not merge either, and the message says why.
    const fs::path s1_other = dir.path / "s1-other";
    auto ran = run_in(kArc + " --shard 1/2 --model " + quote(other_weights_model(dir.path / "other-model")), s1_other);
    REQUIRE(ran.status == 0);
    auto mixed = run_cli("merge " + quote(s0) + " " + quote(s1_other) + " --output " + quote(dir.path / "mixed"));
    INFO(mixed.output);
    CHECK(mixed.status != 0);
    CHECK_THAT(mixed.output, Catch::Contains("weights fingerprint differs"));
  }
  SECTION("compare") {
    fs::copy_file(twin / "samples_arc_challenge.jsonl", run / "samples_arc_challenge.jsonl",
                  fs::copy_options::overwrite_existing);
    auto compared = run_cli("compare " + quote(twin) + " " + quote(run));
    INFO(compared.output);
    CHECK(compared.status != 0);
    CHECK_THAT(compared.output, Catch::Contains((run / "samples_arc_challenge.jsonl").string() + ":1"));

    // Other weights (same tokenizer, config and prompts) are incomparable, never ok or regressed.
    auto ran = run_in(kArc + " --log-samples --model " + quote(other_weights_model(dir.path / "other-model")), other);
    REQUIRE(ran.status == 0);
    auto models = run_cli("compare " + quote(twin) + " " + quote(other));
    INFO(models.output);
    CHECK_THAT(models.output, Catch::Contains("| incomparable: weights fingerprint |"));
    CHECK_THAT(models.output, Catch::Contains("0 ok, 0 improved, 0 regressed, 2 incomparable"));
  }
}

TEST_CASE("a write failing part way leaves the previous run's files byte for byte", "[identity][output][disk]") {
  TempDir dir("gemma-eval-output-unit");
  const fs::path out = dir.path / "out";
  const std::string tasks = "--task arc_easy,gsm8k --no-progress --no-cache --log-samples";
  auto previous = run_in(tasks + " --limit 4", out);
  INFO(previous.output);
  REQUIRE(previous.status == 0);
  const auto before = files_in(out);
  // arc_easy's samples (written first) fit in 16 KiB, gsm8k's (8-shot prompts) do not: the second
  // samples file fails, after the first was written.
  REQUIRE(before.at("samples_arc_easy.jsonl").size() < 16 * 1024);
  REQUIRE(before.at("samples_gsm8k.jsonl").size() > 16 * 1024);

  // Another run (3 docs, so every file differs) into the same folder, under a 16 KiB file-size limit.
  auto failed = run_with_file_size_limit("run " + tasks + " --limit 3 --output " + quote(out), 16);
  INFO(failed.output);
  CHECK(failed.status != 0);
  CHECK_THAT(failed.output, Catch::Contains((out / "samples_gsm8k.jsonl").string()));
  CHECK(files_in(out) == before);  // no new arc_easy samples beside the old results, no staging folder

  // rescore writing into the run folder is held to the same rule.
  auto rescored = run_with_file_size_limit("rescore " + quote(out), 8);
  INFO(rescored.output);
  CHECK(rescored.status != 0);
  CHECK(files_in(out) == before);
}

TEST_CASE("a run that fails on its inputs leaves no output folder and no cache file", "[identity][output][errors]") {
  TempDir dir("gemma-eval-bad-input-leaves-nothing");
  const fs::path out = dir.path / "runs" / "out", cache = dir.path / "cache";
  // A data folder whose ARC-Easy test file ends in a cut row: found once the model is loaded and the
  // output and cache folders exist.
  const fs::path data = dir.path / "data";
  fs::create_directories(data);
  fs::copy(fs::path(GEMMA_TEST_SOURCE_DIR) / "datasets" / "samples" / "arc", data / "arc", fs::copy_options::recursive);
  std::ofstream(data / "arc" / "ARC-Easy-Test.jsonl", std::ios::app) << "{\"id\": \"cut\n";
  const std::string damaged = "--task arc_easy --shots 0 --no-progress --data-dir " + quote(data);

  SECTION("a damaged data file, with the default cache inside the output folder") {
    auto run = run_in(damaged, out);
    INFO(run.output);
    CHECK(run.status != 0);
    CHECK_THAT(run.output, Catch::Contains("ARC-Easy-Test.jsonl"));
    CHECK_FALSE(fs::exists(dir.path / "runs"));
  }
  SECTION("a damaged data file, with --cache elsewhere") {
    auto run = run_in(damaged + " --cache " + quote(cache), out);
    INFO(run.output);
    CHECK(run.status != 0);
    CHECK_FALSE(fs::exists(dir.path / "runs"));
    CHECK_FALSE(fs::exists(cache));
  }
  SECTION("a missing model file") {
    fs::copy(fs::path(GEMMA_TEST_BINARY_DIR) / "tiny-gemma3", dir.path / "model", fs::copy_options::recursive);
    fs::remove(dir.path / "model" / "model.safetensors");
    auto run = run_in(
        "--task arc_easy --limit 2 --no-progress --model " + quote(dir.path / "model") + " --cache " + quote(cache),
        out);
    INFO(run.output);
    CHECK(run.status != 0);
    CHECK_FALSE(fs::exists(dir.path / "runs"));
    CHECK_FALSE(fs::exists(cache));
  }
  SECTION("an unknown task") {
    auto run = run_in("--task no_such_task --no-progress --cache " + quote(cache), out);
    CHECK(run.status != 0);
    CHECK_FALSE(fs::exists(dir.path / "runs"));
    CHECK_FALSE(fs::exists(cache));
  }
  SECTION("a cache that already held results is kept, and the previous output folder too") {
    auto ok = run_in("--task arc_easy --limit 2 --shots 0 --no-progress --cache " + quote(cache), out);
    REQUIRE(ok.status == 0);
    const auto before = files_in(out);
    auto bad = run_in(damaged + " --cache " + quote(cache), out);
    CHECK(bad.status != 0);
    CHECK(fs::exists(cache / "gemma-eval-cache.sqlite"));
    CHECK(files_in(out) == before);
  }
}
