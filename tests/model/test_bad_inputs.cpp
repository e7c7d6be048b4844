// Every malformed-input class, end to end through `gemma-eval run`: a clear error naming what and
// where, a non-zero exit, no output files (the output folder is not even created when the input can
// be checked up front) and never a damaged cache. Data rows, unknown tasks and flags are covered in
// test_run.cpp; atomic writes under a file-size limit in test_files.cpp.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <fstream>
#include <sstream>

#include "../support/temp_dir.h"
#include "../support/text_files.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kTask = "--task arc_easy --limit 2 --shots 0 --no-progress";

// A copy of the built-in tiny model to damage.
fs::path copy_tiny_model(const fs::path& where) {
  fs::copy(fs::path(GEMMA_TEST_BINARY_DIR) / "tiny-gemma3", where, fs::copy_options::recursive);
  return where;
}

// Runs and requires a failure whose message contains every one of `expected`, leaving no output.
void require_refused(const std::string& args, const fs::path& out, const std::vector<std::string>& expected) {
  CliRun cli = run_cli("run " + args + " --output " + quote(out));
  INFO(args << "\n" << cli.output);
  CHECK(cli.status != 0);
  CHECK_THAT(cli.output, Catch::Contains("error"));
  for (const auto& text : expected) CHECK_THAT(cli.output, Catch::Contains(text));
  CHECK_FALSE(fs::exists(out));
}

}  // namespace

TEST_CASE("bad weights are refused before anything is written", "[errors][weights]") {
  TempDir dir("gemma-eval-bad-weights");
  const fs::path model = copy_tiny_model(dir.path / "model");
  const fs::path weights = model / "model.safetensors";
  const std::string original = read_text(weights);
  const std::string args = kTask + " --model " + quote(model);

  SECTION("truncated") {
    write_text(weights, original.substr(0, original.size() * 2 / 3));
    require_refused(args, dir.path / "out", {weights.string()});
  }
  SECTION("cut inside the header") {
    write_text(weights, original.substr(0, 100));
    require_refused(args, dir.path / "out", {weights.string()});
  }
  SECTION("a header that is not JSON") {
    std::string damaged = original;
    damaged.replace(8, 16, std::string(16, '!'));
    write_text(weights, damaged);
    require_refused(args, dir.path / "out", {weights.string()});
  }
  SECTION("a header length past the end of the file") {
    std::string damaged = original;
    damaged.replace(0, 8, std::string("\xff\xff\xff\xff\x00\x00\x00\x00", 8));
    write_text(weights, damaged);
    require_refused(args, dir.path / "out", {weights.string()});
  }
  SECTION("an empty file") {
    write_text(weights, "");
    require_refused(args, dir.path / "out", {weights.string()});
  }
  SECTION("no weights at all") {
    fs::remove(weights);
    require_refused(args, dir.path / "out", {model.string()});
  }
  SECTION("shapes that disagree with config.json") {
    json config = json::parse(read_text(model / "config.json"));
    config["intermediate_size"] = 384;
    write_text(model / "config.json", config.dump(2));
    require_refused(args, dir.path / "out", {"mlp.gate_proj.weight", "384"});
  }
}

TEST_CASE("a bad config.json or tokenizer is refused naming the file and field", "[errors][config]") {
  TempDir dir("gemma-eval-bad-config");
  const fs::path model = copy_tiny_model(dir.path / "model");
  const fs::path config_path = model / "config.json";
  const json config = json::parse(read_text(config_path));
  const std::string args = kTask + " --model " + quote(model);
  auto with = [&](const std::string& field, const json& value) {
    json changed = config;
    if (value.is_discarded())
      changed.erase(field);
    else
      changed[field] = value;
    write_text(config_path, changed.dump(2));
  };

  SECTION("not JSON") {
    write_text(config_path, "{\"hidden_size\": 64,");
    require_refused(args, dir.path / "out", {config_path.string()});
  }
  SECTION("a field of the wrong type") {
    with("num_hidden_layers", "seven");
    require_refused(args, dir.path / "out", {config_path.string(), "num_hidden_layers"});
  }
  SECTION("a missing required field") {
    with("hidden_size", json(json::value_t::discarded));
    require_refused(args, dir.path / "out", {config_path.string(), "hidden_size"});
  }
  SECTION("an impossible value") {
    with("num_attention_heads", 3);  // not a multiple of the 2 kv heads
    require_refused(args, dir.path / "out", {config_path.string(), "num_attention_heads"});
  }
  SECTION("a damaged tokenizer.model") {
    write_text(model / "tokenizer.model", "not a sentencepiece model");
    require_refused(args, dir.path / "out", {(model / "tokenizer.model").string()});
  }
  SECTION("no tokenizer") {
    fs::remove(model / "tokenizer.model");
    require_refused(args, dir.path / "out", {"tokenizer"});
  }
}

TEST_CASE("an output folder that cannot be made is named, nothing else is written", "[errors][output]") {
  TempDir dir("gemma-eval-bad-output");
  // /proc refuses new folders even to root (chmod would not stop root).
  const fs::path out = "/proc/gemma-eval-no-such-output";
  CliRun cli = run_cli("run " + kTask + " --cache " + quote(dir.path / "cache") + " --output " + quote(out));
  INFO(cli.output);
  CHECK(cli.status != 0);
  CHECK_THAT(cli.output, Catch::Contains(out.string()));
  CHECK_FALSE(fs::exists(dir.path / "cache"));
}

TEST_CASE("a full disk mid-run fails naming the file, leaves no partial output and a usable cache", "[errors][disk]") {
  TempDir dir("gemma-eval-disk-full");
  const fs::path out = dir.path / "out", cache = dir.path / "cache";
  const std::string args = "--task arc_challenge --limit 40 --shots 0 --no-progress --log-samples";
  // A 64 KiB file-size limit stands in for a small tmpfs (SIGXFSZ ignored: writes fail with EFBIG as
  // on a full disk): the cache's write-ahead log outgrows it part way through the run.
  std::string shell =
      "bash -c " + quote("trap '' XFSZ; ulimit -f 64; exec " + std::string(GEMMA_TEST_BINARY_DIR) + "/gemma-eval run " +
                         args + " --cache " + cache.string() + " --output " + out.string() + " 2>&1");
  FILE* pipe = popen(shell.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  INFO(output);
  CHECK(status != 0);
  CHECK_THAT(output, Catch::Contains((cache / "gemma-eval-cache.sqlite").string()));
  CHECK_FALSE(fs::exists(out));  // no results, no samples, no temporary files: the folder made for them is gone

  // With room again, the same command goes on from what the cache committed and gives the numbers of
  // a run without any cache.
  CliRun resumed = run_cli("run " + args + " --cache " + quote(cache) + " --output " + quote(out));
  CliRun fresh = run_cli("run " + args + " --no-cache --output " + quote(dir.path / "fresh"));
  INFO(resumed.output << fresh.output);
  REQUIRE(resumed.status == 0);
  REQUIRE(fresh.status == 0);
  json a = json::parse(read_text(out / "results.json")),
       b = json::parse(read_text(dir.path / "fresh" / "results.json"));
  CHECK(a["results"] == b["results"]);
  CHECK(a["config"]["cache"]["hits"].get<int>() > 0);
  CHECK(a["config"]["cache"]["damaged_entries_ignored"] == 0);
}
