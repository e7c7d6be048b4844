// The gemma-eval binary as users call it: the logits subcommand on every fixture sequence, generate
// and tokenize on the built-in tiny model, and clear failures for bad flags and files.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <fstream>

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("gemma-eval-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("gemma-eval logits matches the reference on every tiny-text sequence", "[cli][parity]") {
  auto manifest = read_json(tiny_text_dir() / "expected" / "manifest.json");
  auto dir = temp_dir("logits");
  nlohmann::json input = {{"sequences", nlohmann::json::array()}};
  for (const auto& s : manifest["sequences"]) input["sequences"].push_back(s["ids"]);
  std::ofstream(dir / "input.json") << input.dump();

  // float32: the reference's bound (--dtype auto computes in bf16 on a bf16-capable CPU; test_bf16.cpp).
  auto run = run_cli("logits --dtype float32 --model " + tiny_text_dir().string() + " --input " +
                     (dir / "input.json").string() + " --output " + (dir / "out").string());
  INFO(run.output);
  REQUIRE(run.status == 0);
  auto summary = read_json(dir / "out" / "summary.json");
  REQUIRE(summary["sequences"].size() == manifest["sequences"].size());
  for (size_t i = 0; i < manifest["sequences"].size(); ++i) {
    const auto& s = manifest["sequences"][i];
    const std::string name = s["name"];
    auto logits = npy_tensor(dir / "out" / ("logits_" + std::to_string(i) + ".npy"));
    REQUIRE(logits.size(0) == s["length"].get<int64_t>());
    auto positions = s["last_logits_positions"].get<std::vector<int64_t>>();
    auto expected = npy_tensor(tiny_text_dir() / "expected" / (name + ".last_logits.npy"));
    for (size_t p = 0; p < positions.size(); ++p) CHECK(max_abs_diff(logits[positions[p]], expected[p]) < 2e-4);
    auto top5_ids = npy_tensor(tiny_text_dir() / "expected" / (name + ".top5_ids.npy"));
    auto top5 = npy_tensor(tiny_text_dir() / "expected" / (name + ".top5_logits.npy"));
    CHECK(max_abs_diff(logits.gather(1, top5_ids), top5) < 2e-4);
  }
  fs::remove_all(dir);
}

TEST_CASE("gemma-eval tokenize uses the checkpoint's tokenizer", "[cli]") {
  auto run = run_cli("tokenize --model " + tiny_text_dir().string() + " --text 'The capital of France' --bos");
  INFO(run.output);
  CHECK(run.status == 0);
  CHECK(run.output.find("[2,818,5279,529,7001]") != std::string::npos);
}

TEST_CASE("gemma-eval generate runs the built-in tiny model", "[cli]") {
  auto plain = run_cli("generate --prompt 'Natalia sold clips' --max-new-tokens 5 --ids");
  INFO(plain.output);
  CHECK(plain.status == 0);
  CHECK(plain.output.find("random-weight") != std::string::npos);  // the banner says it is noise
  auto chat = run_cli("generate --chat --prompt 'How many clips?' --max-new-tokens 5");
  INFO(chat.output);
  CHECK(chat.status == 0);
  // Deterministic: the same command gives the same ids.
  CHECK(run_cli("generate --prompt 'Natalia sold clips' --max-new-tokens 5 --ids").output == plain.output);
}

TEST_CASE("gemma-eval refuses bad flags and inputs with a clear message", "[cli][errors]") {
  auto dir = temp_dir("errors");
  CHECK(run_cli("logits --bogus").status != 0);
  CHECK(run_cli("--help").status == 0);
  CHECK(run_cli("generate --help").status == 0);

  auto missing = run_cli("logits --input " + (dir / "nope.json").string() + " --output " + (dir / "o").string());
  CHECK(missing.status != 0);
  CHECK_THAT(missing.output, Catch::Contains("nope.json"));

  std::ofstream(dir / "bad.json") << R"({"sequences": [[2, 3], [2, "x"]]})";
  auto bad = run_cli("logits --input " + (dir / "bad.json").string() + " --output " + (dir / "o").string());
  CHECK(bad.status != 0);
  CHECK_THAT(bad.output, Catch::Contains("sequences[1][1]"));

  std::ofstream(dir / "range.json") << R"({"sequences": [[2, 99999999]]})";
  auto range = run_cli("logits --input " + (dir / "range.json").string() + " --output " + (dir / "o").string());
  CHECK(range.status != 0);
  CHECK_THAT(range.output, Catch::Contains("outside the model's vocabulary"));

  auto no_model = run_cli("generate --model " + (dir / "no-such-model").string() + " --prompt hi");
  CHECK(no_model.status != 0);
  CHECK_THAT(no_model.output, Catch::Contains("no-such-model"));

  auto device = run_cli("generate --device tpu --prompt hi");
  CHECK(device.status != 0);
  CHECK_THAT(device.output, Catch::Contains("--device tpu"));
  fs::remove_all(dir);
}
