// The vision path end to end through the binary on ../shared/reference/tiny-vision: PNG -> PIL-exact
// preprocessing -> SigLIP -> projector -> decoder, compared with the reference; image tasks through
// `gemma-eval run` (bundled ChartQA sample), bad images, text-only models.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <fstream>
#include <sstream>

#include "../support/temp_dir.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path tiny_vision_dir() { return reference_dir() / "tiny-vision"; }

json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return json::parse(in);
}

const std::string kPrompt =
    "<start_of_turn>user\nYou are a helpful assistant.\n\n<start_of_image>What is shown in this image?<end_of_turn>\n"
    "<start_of_turn>model\n";

}  // namespace

TEST_CASE("generate --image on tiny-vision gives the reference's greedy tokens", "[vision][cli]") {
  auto manifest = read_json_file(tiny_vision_dir() / "expected" / "manifest.json");
  const auto expected = manifest["sequences"][0]["greedy"]["new_tokens"];
  auto cli =
      run_cli("generate --model " + quote(tiny_vision_dir()) + " --image " + quote(tiny_vision_dir() / "image0.png") +
              " --prompt " + quote(kPrompt) + " --ids --max-new-tokens 12 --ignore-eos");
  INFO(cli.output);
  REQUIRE(cli.status == 0);
  const auto last_line = cli.output.substr(cli.output.rfind('[', cli.output.size() - 2));
  CHECK(json::parse(last_line) == expected);
}

TEST_CASE("logits accepts images beside the expanded ids and matches the reference", "[vision][cli]") {
  TempDir dir("gemma-eval-vision-logits");
  fs::copy_file(tiny_vision_dir() / "image0.png", dir.path / "image0.png");
  auto manifest = read_json_file(tiny_vision_dir() / "expected" / "manifest.json");
  const auto& sequence = manifest["sequences"][0];
  json input = {{"sequences", {{{"ids", sequence["ids"]}, {"images", {"image0.png"}}}}}};
  std::ofstream(dir.path / "input.json") << input.dump();
  // float32: the reference's bound (--dtype auto computes in bf16 on a bf16-capable CPU).
  auto cli = run_cli("logits --dtype float32 --model " + quote(tiny_vision_dir()) + " --input " +
                     quote(dir.path / "input.json") + " --output " + quote(dir.path / "out"));
  INFO(cli.output);
  REQUIRE(cli.status == 0);
  auto logits = npy_tensor(dir.path / "out" / "logits_0.npy");
  auto last = npy_tensor(tiny_vision_dir() / "expected" / "prompt.last_logits.npy");
  auto positions = sequence["last_logits_positions"].get<std::vector<int64_t>>();
  for (size_t i = 0; i < positions.size(); ++i) CHECK(max_abs_diff(logits[positions[i]], last[i]) < 2e-4);

  SECTION("one image too many for the soft tokens") {
    json two = {{"sequences", {{{"ids", sequence["ids"]}, {"images", {"image0.png", "image0.png"}}}}}};
    std::ofstream(dir.path / "two.json") << two.dump();
    auto refused = run_cli("logits --model " + quote(tiny_vision_dir()) + " --input " + quote(dir.path / "two.json") +
                           " --output " + quote(dir.path / "out2"));
    CHECK(refused.status != 0);
    CHECK_THAT(refused.output, Catch::Contains("4 image soft tokens") && Catch::Contains("8 embeddings"));
  }
  SECTION("preprocessed pixel values from a .npy give the same logits as the PNG") {
    fs::copy_file(tiny_vision_dir() / "expected" / "pixel_values.npy", dir.path / "pixels.npy");
    json npy = {{"sequences", {{{"ids", sequence["ids"]}, {"images", {"pixels.npy"}}}}}};
    std::ofstream(dir.path / "npy.json") << npy.dump();
    auto from_npy = run_cli("logits --dtype float32 --model " + quote(tiny_vision_dir()) + " --input " +
                            quote(dir.path / "npy.json") + " --output " + quote(dir.path / "out_npy"));
    INFO(from_npy.output);
    REQUIRE(from_npy.status == 0);
    CHECK(max_abs_diff(npy_tensor(dir.path / "out_npy" / "logits_0.npy"), logits) == 0.0);
  }
  SECTION("pixel values of the wrong size are refused, naming the file and the sizes") {
    write_npy_float32(dir.path / "small.npy", std::vector<float>(3 * 8 * 8, 0.f).data(), {3, 8, 8});
    json npy = {{"sequences", {{{"ids", sequence["ids"]}, {"images", {"small.npy"}}}}}};
    std::ofstream(dir.path / "small.json") << npy.dump();
    auto refused = run_cli("logits --model " + quote(tiny_vision_dir()) + " --input " + quote(dir.path / "small.json") +
                           " --output " + quote(dir.path / "out_small"));
    CHECK(refused.status != 0);
    CHECK_THAT(refused.output,
               Catch::Contains("small.npy") && Catch::Contains("[3, 56, 56]") && Catch::Contains("3x8x8"));
  }
}

TEST_CASE("images on a text-only model, or unreadable, are clear errors", "[vision][cli][errors]") {
  TempDir dir("gemma-eval-vision-errors");
  auto text_only = run_cli("generate --image " + quote(tiny_vision_dir() / "image0.png") + " --prompt hi");
  CHECK(text_only.status != 0);
  CHECK_THAT(text_only.output, Catch::Contains("text-only"));
  std::ofstream(dir.path / "broken.png") << "not a png";
  auto broken = run_cli("generate --model " + quote(tiny_vision_dir()) + " --image " + quote(dir.path / "broken.png") +
                        " --prompt hi");
  CHECK(broken.status != 0);
  CHECK_THAT(broken.output, Catch::Contains((dir.path / "broken.png").string()));
}

TEST_CASE("gemma-eval run: an image task on tiny-vision, and a missing image", "[vision][run]") {
  TempDir dir("gemma-eval-vision-run");
  const fs::path data = dir.path / "data";
  fs::create_directories(data);
  fs::copy(fs::path(GEMMA_TEST_SOURCE_DIR) / "datasets" / "samples" / "chartqa", data / "chartqa",
           fs::copy_options::recursive);
  const std::string args = "run --model " + quote(tiny_vision_dir()) +
                           " --task chartqa --no-progress --no-cache --log-samples --data-dir " + quote(data);
  auto ok = run_cli(args + " --output " + quote(dir.path / "ok"));
  INFO(ok.output);
  REQUIRE(ok.status == 0);
  auto results = read_json_file(dir.path / "ok" / "results.json");
  CHECK(results["results"]["chartqa"].contains("relaxed_overall,none"));
  CHECK(results["results"]["chartqa"].contains("relaxed_human_split,none"));
  CHECK(results["results"]["chartqa"].contains("relaxed_augmented_split,none"));
  CHECK(results["provenance"]["chartqa"]["metric_variants"]["relaxed_overall"] == "lmms");

  // One chart image gone: a clear error naming the file and the doc; --skip-bad-samples goes on without it.
  fs::path png = data / "chartqa" / "test" / "png";
  const fs::path removed = fs::directory_iterator(png)->path();
  fs::remove(removed);
  auto stopped = run_cli(args + " --output " + quote(dir.path / "stopped"));
  CHECK(stopped.status != 0);
  CHECK_THAT(stopped.output, Catch::Contains(removed.filename().string()) && Catch::Contains("doc "));
  CHECK_FALSE(fs::exists(dir.path / "stopped" / "results.json"));
  auto skipped = run_cli(args + " --skip-bad-samples --output " + quote(dir.path / "skipped"));
  INFO(skipped.output);
  REQUIRE(skipped.status == 0);
  auto partial = read_json_file(dir.path / "skipped" / "results.json");
  CHECK(partial["provenance"]["chartqa"]["skipped_docs"].size() >= 1);
  CHECK(partial["provenance"]["chartqa"]["doc_ids"].size() + partial["provenance"]["chartqa"]["skipped_docs"].size() ==
        results["provenance"]["chartqa"]["doc_ids"].size());
}
