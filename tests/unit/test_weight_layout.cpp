#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "model/weight_layout.h"

using namespace gemma;
using gemma::test::TempDir;
namespace fs = std::filesystem;
using Catch::Contains;
using nlohmann::json;

namespace {

const fs::path kReference = fs::path(GEMMA_TEST_SHARED_DIR) / "reference";

ModelConfig tiny_text_config_with(const std::string& key, const json& value) {
  json config = json::parse(read_file(kReference / "tiny-text/config.json"));
  config[key] = value;
  return parse_config(config, "modified tiny-text config");
}

// A very small text-only model: vocab 8, hidden 4, 2 layers; tensors as expected unless changed.
ModelConfig micro_config() {
  json config = {{"model_type", "gemma3_text"}, {"vocab_size", 8},        {"hidden_size", 4},
                 {"intermediate_size", 6},      {"num_hidden_layers", 2}, {"num_attention_heads", 2},
                 {"num_key_value_heads", 1},    {"head_dim", 2},          {"sliding_window", 4}};
  return parse_config(config, "micro");
}

TensorToWrite zero_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape) {
  return {name, dtype, shape, std::string(shape_numel(shape) * dtype_size(dtype), '\0')};
}

std::vector<TensorToWrite> micro_tensors(const ModelConfig& config, NamingScheme scheme) {
  std::vector<TensorToWrite> tensors;
  for (const auto& tensor : expected_text_tensors(config.text, scheme))
    tensors.push_back(zero_tensor(tensor.name, DType::Bf16, tensor.shape));
  return tensors;
}

Checkpoint write_checkpoint(const fs::path& dir, const std::vector<TensorToWrite>& tensors) {
  write_safetensors(dir / "model.safetensors", tensors);
  return Checkpoint::open(dir);
}

TensorToWrite& find_tensor(std::vector<TensorToWrite>& tensors, const std::string& name) {
  auto it = std::find_if(tensors.begin(), tensors.end(), [&](const TensorToWrite& t) { return t.name == name; });
  REQUIRE(it != tensors.end());
  return *it;
}

}  // namespace

TEST_CASE("expected tensor lists have 1 + 13 L + 1 entries with the HF checkpoint shapes", "[weight_layout]") {
  for (const auto& [size, layers] :
       std::vector<std::pair<std::string, int>>{{"270m", 18}, {"1b", 26}, {"4b", 34}, {"12b", 48}, {"27b", 62}}) {
    INFO("size " << size);
    CHECK(expected_text_tensors(config_preset(size).text, NamingScheme::TextOnly).size() ==
          size_t(1 + 13 * layers + 1));
  }
  std::vector<ExpectedTensor> tensors = expected_text_tensors(config_preset("27b").text, NamingScheme::MultimodalNew);
  auto shape_of = [&](const std::string& role) {
    for (const auto& tensor : tensors)
      if (tensor.role == role) return tensor.shape;
    FAIL("no role " << role);
    return std::vector<int64_t>{};
  };
  CHECK(tensors.front().role == "embed_tokens.weight");
  CHECK(tensors.front().name == "model.language_model.embed_tokens.weight");
  CHECK(tensors.back().name == "model.language_model.norm.weight");
  CHECK(shape_of("embed_tokens.weight") == std::vector<int64_t>{262208, 5376});
  CHECK(shape_of("layers.61.self_attn.q_proj.weight") == std::vector<int64_t>{4096, 5376});
  CHECK(shape_of("layers.0.self_attn.k_proj.weight") == std::vector<int64_t>{2048, 5376});
  CHECK(shape_of("layers.0.self_attn.v_proj.weight") == std::vector<int64_t>{2048, 5376});
  CHECK(shape_of("layers.0.self_attn.o_proj.weight") == std::vector<int64_t>{5376, 4096});
  CHECK(shape_of("layers.0.mlp.gate_proj.weight") == std::vector<int64_t>{21504, 5376});
  CHECK(shape_of("layers.0.mlp.up_proj.weight") == std::vector<int64_t>{21504, 5376});
  CHECK(shape_of("layers.0.mlp.down_proj.weight") == std::vector<int64_t>{5376, 21504});
  CHECK(shape_of("layers.0.self_attn.q_norm.weight") == std::vector<int64_t>{128});
  CHECK(shape_of("layers.0.post_feedforward_layernorm.weight") == std::vector<int64_t>{5376});
}

TEST_CASE("roles are the same in every naming scheme; names carry the prefix", "[weight_layout]") {
  const TextConfig text = config_preset("1b").text;
  auto text_only = expected_text_tensors(text, NamingScheme::TextOnly);
  auto legacy = expected_text_tensors(text, NamingScheme::MultimodalLegacy);
  auto current = expected_text_tensors(text, NamingScheme::MultimodalNew);
  REQUIRE(text_only.size() == legacy.size());
  for (size_t i = 0; i < text_only.size(); ++i) {
    CHECK(text_only[i].role == legacy[i].role);
    CHECK(text_only[i].role == current[i].role);
    CHECK(text_only[i].name == "model." + text_only[i].role);
    CHECK(legacy[i].name == "language_model.model." + legacy[i].role);
    CHECK(current[i].name == "model.language_model." + current[i].role);
  }
  CHECK(lm_head_name(NamingScheme::TextOnly) == "lm_head.weight");
  CHECK(lm_head_name(NamingScheme::MultimodalLegacy) == "language_model.lm_head.weight");
  CHECK(lm_head_name(NamingScheme::MultimodalNew) == "lm_head.weight");
}

TEST_CASE("the naming scheme is detected from the embedding name", "[weight_layout]") {
  CHECK(detect_naming_scheme({"model.norm.weight", "model.embed_tokens.weight"}, "x") == NamingScheme::TextOnly);
  CHECK(detect_naming_scheme({"language_model.model.embed_tokens.weight", "vision_tower.vision_model.x"}, "x") ==
        NamingScheme::MultimodalLegacy);
  CHECK(detect_naming_scheme({"model.language_model.embed_tokens.weight"}, "x") == NamingScheme::MultimodalNew);
  REQUIRE_THROWS_WITH(detect_naming_scheme({"token_embd.weight"}, "checkpoint /somewhere"),
                      Contains("/somewhere") && Contains("model.embed_tokens.weight") &&
                          Contains("language_model.model.embed_tokens.weight") &&
                          Contains("model.language_model.embed_tokens.weight"));
  REQUIRE_THROWS_WITH(
      detect_naming_scheme({"model.embed_tokens.weight", "model.language_model.embed_tokens.weight"}, "x"),
      Contains("ambiguous"));
}

TEST_CASE("both reference checkpoints match their configs", "[weight_layout]") {
  for (const char* fixture : {"tiny-text", "tiny-vision"}) {
    INFO(fixture);
    ModelConfig config = load_config(kReference / fixture / "config.json");
    Checkpoint checkpoint = Checkpoint::open(kReference / fixture);
    CHECK_NOTHROW(check_text_tensors(config, checkpoint));
  }
  CHECK(detect_naming_scheme(Checkpoint::open(kReference / "tiny-vision").tensor_names(), "x") ==
        NamingScheme::MultimodalNew);
}

TEST_CASE("a config that disagrees with the checkpoint is refused with names and shapes", "[weight_layout]") {
  Checkpoint checkpoint = Checkpoint::open(kReference / "tiny-text");
  const std::string shard = (kReference / "tiny-text/model-00001-of-00002.safetensors").string();
  SECTION("intermediate_size changed") {
    REQUIRE_THROWS_WITH(check_text_tensors(tiny_text_config_with("intermediate_size", 256), checkpoint),
                        Contains("model.layers.0.mlp.gate_proj.weight") && Contains(shard) && Contains("[128, 64]") &&
                            Contains("[256, 64]"));
  }
  SECTION("fewer layers than the checkpoint holds") {
    REQUIRE_THROWS_WITH(check_text_tensors(tiny_text_config_with("num_hidden_layers", 6), checkpoint),
                        Contains("model.layers.6.") && Contains("not part of the configured model"));
  }
  SECTION("more layers than the checkpoint holds") {
    REQUIRE_THROWS_WITH(check_text_tensors(tiny_text_config_with("num_hidden_layers", 8), checkpoint),
                        Contains("model.layers.7.input_layernorm.weight") && Contains("missing"));
  }
}

TEST_CASE("dtype and lm_head checks on a synthetic checkpoint", "[weight_layout]") {
  TempDir tmp;
  const ModelConfig config = micro_config();
  std::vector<TensorToWrite> tensors = micro_tensors(config, NamingScheme::MultimodalLegacy);
  const std::string file = (tmp.path / "model.safetensors").string();

  SECTION("as expected, with a tied head absent") {
    CHECK_NOTHROW(check_text_tensors(config, write_checkpoint(tmp.path, tensors)));
  }
  SECTION("an untied head of the embedding's shape, in F32") {
    tensors.push_back(zero_tensor("language_model.lm_head.weight", DType::F32, {8, 4}));
    CHECK_NOTHROW(check_text_tensors(config, write_checkpoint(tmp.path, tensors)));
  }
  SECTION("a head of the wrong shape") {
    tensors.push_back(zero_tensor("language_model.lm_head.weight", DType::Bf16, {9, 4}));
    REQUIRE_THROWS_WITH(
        check_text_tensors(config, write_checkpoint(tmp.path, tensors)),
        Contains("language_model.lm_head.weight") && Contains(file) && Contains("[9, 4]") && Contains("[8, 4]"));
  }
  SECTION("an integer tensor") {
    find_tensor(tensors, "language_model.model.layers.1.self_attn.k_norm.weight") =
        zero_tensor("language_model.model.layers.1.self_attn.k_norm.weight", DType::I32, {2});
    REQUIRE_THROWS_WITH(check_text_tensors(config, write_checkpoint(tmp.path, tensors)),
                        Contains("layers.1.self_attn.k_norm.weight") && Contains(file) && Contains("I32"));
  }
  SECTION("a missing tensor, with its expected shape") {
    tensors.erase(tensors.begin() + 3);
    REQUIRE_THROWS_WITH(check_text_tensors(config, write_checkpoint(tmp.path, tensors)),
                        Contains("is missing") && Contains("1 problem(s)"));
  }
  SECTION("many problems are summarised") {
    for (auto& tensor : tensors) tensor = zero_tensor(tensor.name, DType::F64, tensor.shape);
    REQUIRE_THROWS_WITH(check_text_tensors(config, write_checkpoint(tmp.path, tensors)),
                        Contains("28 problem(s)") && Contains("and 18 more"));
  }
}
