// Loading real-layout checkpoints: the multimodal naming scheme, bf16 compute, and refusing a
// checkpoint whose shapes disagree with its config before any tensor is used.
#include "model_fixtures.h"  // first: see the note there

#include <fstream>

#include "common/error.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;

TEST_CASE("tiny-vision's language model loads from model.language_model.* names", "[loading]") {
  auto dir = reference_dir() / "tiny-vision";
  auto config = load_config(dir / "config.json");
  REQUIRE(config.multimodal);
  auto model = Gemma3TextModel::load(config, Checkpoint::open(dir), Placement{});
  auto logits = full_logits(*model, {2, 818, 5279, 529, 7001});
  // all embedding rows, as HF normalises over them (transformers models/gemma3/modeling_gemma3.py@0018aa64, which keeps
  // all embedding rows)
  CHECK(logits.size(1) == 262208);
  CHECK(torch::isfinite(logits).all().item<bool>());
}

TEST_CASE("bfloat16 compute stays within bf16 distance of the float32 reference", "[loading][numerics]") {
  auto config = load_config(tiny_text_dir() / "config.json");
  Placement bf16{torch::kCPU, torch::kBFloat16};
  auto model = Gemma3TextModel::load(config, Checkpoint::open(tiny_text_dir()), bf16);
  auto manifest = read_json(tiny_text_dir() / "expected" / "manifest.json");
  const auto& sequence = manifest["sequences"][1];
  auto logits = full_logits(*model, sequence["ids"].get<std::vector<int>>());
  REQUIRE(logits.scalar_type() == torch::kFloat32);
  auto lse = torch::logsumexp(logits.to(torch::kFloat64), 1);
  auto expected = npy_tensor(tiny_text_dir() / "expected" / "sentence.logsumexp.npy");
  CHECK(max_abs_diff(lse, expected) < 0.3);  // the reference README's bf16 vs f32 spread is 0.03-0.07
}

TEST_CASE("a checkpoint whose shapes disagree with config.json is refused, naming the tensor", "[loading][errors]") {
  auto dir = fs::temp_directory_path() / ("gemma-eval-shape-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(tiny_text_dir()))
    if (entry.path().extension() == ".safetensors" || entry.path().filename() == "model.safetensors.index.json")
      fs::create_symlink(entry.path(), dir / entry.path().filename());
  auto config_json = read_json(tiny_text_dir() / "config.json");
  config_json["intermediate_size"] = 96;
  std::ofstream(dir / "config.json") << config_json.dump();
  auto config = load_config(dir / "config.json");
  REQUIRE_THROWS_WITH(Gemma3TextModel::load(config, Checkpoint::open(dir), Placement{}),
                      Catch::Contains("mlp.gate_proj") && Catch::Contains("96"));
  fs::remove_all(dir);
}
