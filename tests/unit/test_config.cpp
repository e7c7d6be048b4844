#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "model/config.h"

using namespace gemma;
namespace fs = std::filesystem;
using Catch::Contains;
using nlohmann::json;

namespace {

const fs::path kReference = fs::path(GEMMA_TEST_SHARED_DIR) / "reference";

json fixture_json(const std::string& fixture) { return json::parse(read_file(kReference / fixture / "config.json")); }

std::vector<int> full_layer_indices(const TextConfig& text) {
  std::vector<int> indices;
  for (int i = 0; i < static_cast<int>(text.layer_types.size()); ++i)
    if (text.layer_types[i] == LayerType::Full) indices.push_back(i);
  return indices;
}

std::vector<int> every_sixth_layer(int num_layers) {
  std::vector<int> indices;
  for (int i = 5; i < num_layers; i += 6) indices.push_back(i);
  return indices;
}

void check_same_text_config(const TextConfig& a, const TextConfig& b) {
  CHECK(a.vocab_size == b.vocab_size);
  CHECK(a.hidden_size == b.hidden_size);
  CHECK(a.intermediate_size == b.intermediate_size);
  CHECK(a.num_layers == b.num_layers);
  CHECK(a.num_heads == b.num_heads);
  CHECK(a.num_kv_heads == b.num_kv_heads);
  CHECK(a.head_dim == b.head_dim);
  CHECK(a.query_pre_attn_scalar == b.query_pre_attn_scalar);
  CHECK(a.sliding_window == b.sliding_window);
  CHECK(a.rope_global_base == b.rope_global_base);
  CHECK(a.rope_global_scale == b.rope_global_scale);
  CHECK(a.rope_local_base == b.rope_local_base);
  CHECK(a.rms_norm_eps == b.rms_norm_eps);
  CHECK(a.max_position_embeddings == b.max_position_embeddings);
  CHECK(a.layer_types == b.layer_types);
  CHECK(a.hidden_activation == b.hidden_activation);
}

// The minimal Hub 27B text_config (transformers models/gemma3/configuration_gemma3.py@008f5c8c): everything else comes
// from the defaults.
json hub_27b_config() {
  return {{"architectures", {"Gemma3ForConditionalGeneration"}},
          {"model_type", "gemma3"},
          {"text_config",
           {{"head_dim", 128},
            {"hidden_size", 5376},
            {"intermediate_size", 21504},
            {"model_type", "gemma3_text"},
            {"num_attention_heads", 32},
            {"num_hidden_layers", 62},
            {"num_key_value_heads", 16},
            {"query_pre_attn_scalar", 168},
            {"rope_scaling", {{"factor", 8.0}, {"rope_type", "linear"}}},
            {"sliding_window", 1024}}},
          // As in the Hub file: the tower's sizes are written out (SiglipVisionConfig's defaults are 224 px / 16).
          {"vision_config",
           {{"hidden_size", 1152},
            {"image_size", 896},
            {"intermediate_size", 4304},
            {"model_type", "siglip_vision_model"},
            {"num_attention_heads", 16},
            {"num_hidden_layers", 27},
            {"patch_size", 14},
            {"vision_use_head", false}}},
          {"mm_tokens_per_image", 256},
          {"eos_token_id", {1, 106}}};
}

// Parameter counts computed from a config (the tensor shapes of transformers models/gemma3/modeling_gemma3.py).
struct ParameterCounts {
  int64_t per_layer, text_non_embedding, embedding, vision, projector, total;
};

ParameterCounts count_parameters(const ModelConfig& config) {
  const TextConfig& t = config.text;
  const int64_t H = t.hidden_size, I = t.intermediate_size, nh = t.num_heads, nkv = t.num_kv_heads, hd = t.head_dim;
  ParameterCounts counts{};
  counts.per_layer = H * nh * hd + 2 * H * nkv * hd + nh * hd * H + 2 * hd + 4 * H + 3 * H * I;
  counts.text_non_embedding = t.num_layers * counts.per_layer + H;
  counts.embedding = int64_t(t.vocab_size) * H;
  if (config.multimodal) {
    const json& v = config.vision_config;
    const int64_t C = v["num_channels"], P = v["patch_size"], D = v["hidden_size"], F = v["intermediate_size"];
    const int64_t L = v["num_hidden_layers"], patches = (int64_t(v["image_size"]) / P) * (int64_t(v["image_size"]) / P);
    const int64_t per_vision_layer = 4 * (D * D + D) + 4 * D + (D * F + F) + (F * D + D);
    counts.vision = (C * P * P * D + D) + patches * D + L * per_vision_layer + 2 * D;
    counts.projector = D * H + D;
  }
  counts.total = counts.text_non_embedding + counts.embedding + counts.vision + counts.projector;
  return counts;
}

// Each refused config must name its source and the offending field.
void check_refused(const json& config, const std::string& field, const std::string& detail) {
  REQUIRE_THROWS_WITH(parse_config(config, "test-config.json"),
                      Contains("test-config.json") && Contains("'" + field + "'") && Contains(detail));
}

}  // namespace

TEST_CASE("tiny-text config.json parses to the fixture's numbers", "[config]") {
  ModelConfig config = load_config(kReference / "tiny-text/config.json");
  CHECK(config.architecture == "Gemma3ForCausalLM");
  CHECK(config.model_type == "gemma3_text");
  CHECK_FALSE(config.multimodal);
  CHECK(config.vision_config.is_null());
  const TextConfig& t = config.text;
  CHECK(t.vocab_size == 262144);
  CHECK(t.hidden_size == 64);
  CHECK(t.intermediate_size == 128);
  CHECK(t.num_layers == 7);
  CHECK(t.num_heads == 4);
  CHECK(t.num_kv_heads == 2);
  CHECK(t.head_dim == 32);
  CHECK(t.query_pre_attn_scalar == 32);
  CHECK(t.sliding_window == 6);
  CHECK(t.rope_global_base == 1e6);
  CHECK(t.rope_global_scale == 8.0);
  CHECK(t.rope_local_base == 1e4);
  CHECK(t.rms_norm_eps == 1e-6);
  CHECK(t.max_position_embeddings == 32768);
  CHECK(t.hidden_activation == "gelu_pytorch_tanh");
  REQUIRE(t.layer_types.size() == 7);
  CHECK(full_layer_indices(t) == std::vector<int>{5});
  CHECK(config.bos_token_id == 2);
  CHECK(config.pad_token_id == 0);
  CHECK(config.eos_token_ids == std::vector<int>{1, 106});
  CHECK(config.torch_dtype == "bfloat16");
  CHECK(config.image_token_index == -1);
  CHECK(config.mm_tokens_per_image == 0);
}

TEST_CASE("tiny-vision config.json parses with text_config nested", "[config]") {
  ModelConfig config = load_config(kReference / "tiny-vision/config.json");
  CHECK(config.architecture == "Gemma3ForConditionalGeneration");
  CHECK(config.model_type == "gemma3");
  CHECK(config.multimodal);
  CHECK(config.text.vocab_size == 262208);
  CHECK(config.text.hidden_size == 64);
  CHECK(config.text.num_layers == 7);
  CHECK(config.text.sliding_window == 6);
  CHECK(config.text.rope_global_scale == 8.0);
  CHECK(full_layer_indices(config.text) == std::vector<int>{5});
  CHECK(config.image_token_index == 262144);
  CHECK(config.boi_token_index == 255999);
  CHECK(config.eoi_token_index == 256000);
  CHECK(config.mm_tokens_per_image == 4);
  CHECK(config.vision_config["image_size"] == 56);
  CHECK(config.vision_config["patch_size"] == 14);
  CHECK(config.eos_token_ids == std::vector<int>{1, 106});
  CHECK(config.torch_dtype == "bfloat16");
}

TEST_CASE("the minimal Hub 27B config gets the Gemma3TextConfig defaults", "[config]") {
  ModelConfig config = parse_config(hub_27b_config(), "27b config.json");
  const TextConfig& t = config.text;
  CHECK(t.vocab_size == 262208);
  CHECK(t.head_dim == 128);
  CHECK(t.query_pre_attn_scalar == 168);
  CHECK(t.rope_global_base == 1e6);
  CHECK(t.rope_global_scale == 8.0);
  CHECK(t.rope_local_base == 1e4);
  CHECK(t.rms_norm_eps == 1e-6);
  CHECK(t.max_position_embeddings == 131072);
  CHECK(t.hidden_activation == "gelu_pytorch_tanh");
  CHECK(t.sliding_window == 1024);
  CHECK(full_layer_indices(t) == every_sixth_layer(62));  // 5, 11, ..., 59
  CHECK(full_layer_indices(t).back() == 59);
  CHECK(t.layer_types[60] == LayerType::Sliding);
  CHECK(t.layer_types[61] == LayerType::Sliding);
  CHECK(config.image_token_index == 262144);
  CHECK(config.boi_token_index == 255999);
  CHECK(config.eoi_token_index == 256000);
  CHECK(config.bos_token_id == 2);
  CHECK(config.torch_dtype.empty());
}

TEST_CASE("defaults for the multimodal fields and token ids", "[config]") {
  json config = hub_27b_config();
  config.erase("mm_tokens_per_image");
  config.erase("eos_token_id");
  ModelConfig parsed = parse_config(config, "x");
  CHECK(parsed.mm_tokens_per_image == 256);
  CHECK(parsed.eos_token_ids == std::vector<int>{1});

  config["text_config"]["eos_token_id"] = 106;  // only in text_config, as an int
  config["text_config"]["bos_token_id"] = 7;
  config["dtype"] = "float32";  // transformers >= 4.56 spelling
  parsed = parse_config(config, "x");
  CHECK(parsed.eos_token_ids == std::vector<int>{106});
  CHECK(parsed.bos_token_id == 7);
  CHECK(parsed.torch_dtype == "float32");
}

TEST_CASE("the rope_parameters / layer_types schema equals the legacy one", "[config]") {
  json legacy = fixture_json("tiny-text");
  json current = legacy;
  for (const char* key : {"rope_theta", "rope_local_base_freq", "rope_scaling", "sliding_window_pattern"})
    current.erase(key);
  current["rope_parameters"] = {
      {"full_attention", {{"rope_type", "linear"}, {"factor", 8.0}, {"rope_theta", 1000000.0}}},
      {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 10000.0}}}};
  current["layer_types"] = json::array();
  for (int i = 0; i < 7; ++i) current["layer_types"].push_back(i == 5 ? "full_attention" : "sliding_attention");
  check_same_text_config(parse_config(current, "v5").text, parse_config(legacy, "legacy").text);

  SECTION("explicit layer_types are preferred over the pattern") {
    current["sliding_window_pattern"] = 2;
    CHECK(full_layer_indices(parse_config(current, "v5").text) == std::vector<int>{5});
  }
  SECTION("legacy spellings: \"type\" and _sliding_window_pattern") {
    legacy["rope_scaling"] = {{"type", "linear"}, {"factor", 8}};
    legacy.erase("sliding_window_pattern");
    legacy["_sliding_window_pattern"] = 3;
    TextConfig t = parse_config(legacy, "legacy").text;
    CHECK(t.rope_global_scale == 8.0);
    CHECK(full_layer_indices(t) == std::vector<int>{2, 5});
  }
  SECTION("no rope scaling: null, default type, or absent") {
    for (json scaling : {json(nullptr), json{{"rope_type", "default"}}}) {
      legacy["rope_scaling"] = scaling;
      CHECK(parse_config(legacy, "legacy").text.rope_global_scale == 1.0);
    }
    legacy.erase("rope_scaling");
    CHECK(parse_config(legacy, "legacy").text.rope_global_scale == 1.0);
  }
}

TEST_CASE("configs this port cannot run faithfully are refused, naming file and field", "[config]") {
  json text = fixture_json("tiny-text");
  SECTION("final_logit_softcapping") {
    text["final_logit_softcapping"] = 30.0;
    check_refused(text, "final_logit_softcapping", "softcapping");
  }
  SECTION("attn_logit_softcapping") {
    text["attn_logit_softcapping"] = 50.0;
    check_refused(text, "attn_logit_softcapping", "softcapping");
  }
  SECTION("use_bidirectional_attention") {
    text["use_bidirectional_attention"] = true;
    check_refused(text, "use_bidirectional_attention", "causal");
  }
  SECTION("hidden_activation") {
    text["hidden_activation"] = "gelu";
    check_refused(text, "hidden_activation", "'gelu'");
  }
  SECTION("attention_bias") {
    text["attention_bias"] = true;
    check_refused(text, "attention_bias", "biases");
  }
  SECTION("model_type of another family") {
    text["model_type"] = "gemma2";
    check_refused(text, "model_type", "'gemma2' is not Gemma 3");
  }
  SECTION("architecture of another family") {
    text["architectures"] = {"Gemma2ForCausalLM"};
    check_refused(text, "architectures", "Gemma2ForCausalLM");
  }
  SECTION("non-positive size") {
    text["hidden_size"] = 0;
    check_refused(text, "hidden_size", "positive");
  }
  SECTION("non-integer size") {
    text["num_hidden_layers"] = 6.5;
    check_refused(text, "num_hidden_layers", "integer");
  }
  SECTION("heads not divisible by kv heads") {
    text["num_key_value_heads"] = 3;
    check_refused(text, "num_key_value_heads", "does not divide");
  }
  SECTION("odd head_dim") {
    text["head_dim"] = 33;
    check_refused(text, "head_dim", "even");
  }
  SECTION("missing sliding_window") {
    text.erase("sliding_window");
    check_refused(text, "sliding_window", "missing");
  }
  SECTION("missing hidden_size / intermediate_size / num_hidden_layers") {
    for (const char* key : {"hidden_size", "intermediate_size", "num_hidden_layers"}) {
      json copy = text;
      copy.erase(key);
      check_refused(copy, key, "missing");
    }
  }
  SECTION("rope type other than linear") {
    text["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 8.0}};
    check_refused(text, "rope_scaling.rope_type", "'yarn'");
  }
  SECTION("linear rope scaling without a factor") {
    text["rope_scaling"] = {{"rope_type", "linear"}};
    check_refused(text, "rope_scaling.factor", "missing");
  }
  SECTION("scaled sliding layers in rope_parameters") {
    text["rope_parameters"] = {{"sliding_attention", {{"rope_type", "linear"}, {"factor", 2.0}}}};
    check_refused(text, "rope_parameters.sliding_attention.factor", "must not be rope-scaled");
  }
  SECTION("layer_types of the wrong length") {
    text["layer_types"] = {"sliding_attention", "full_attention"};
    check_refused(text, "layer_types", "7 entries");
  }
  SECTION("layer_types with an unknown entry") {
    text["layer_types"] = json::array();
    for (int i = 0; i < 7; ++i) text["layer_types"].push_back(i == 3 ? "chunked_attention" : "sliding_attention");
    check_refused(text, "layer_types", "chunked_attention");
  }
  SECTION("eos_token_id that is not an id") {
    text["eos_token_id"] = "1";
    check_refused(text, "eos_token_id", "token id");
  }
  SECTION("multimodal config without text_config") {
    json vision = fixture_json("tiny-vision");
    vision.erase("text_config");
    check_refused(vision, "text_config", "missing");
  }
  SECTION("a field inside text_config is named with its path") {
    json vision = fixture_json("tiny-vision");
    vision["text_config"]["final_logit_softcapping"] = 30.0;
    check_refused(vision, "text_config.final_logit_softcapping", "softcapping");
  }
  SECTION("a multimodal model_type with a text-only architecture") {
    json vision = fixture_json("tiny-vision");
    vision["architectures"] = {"Gemma3ForCausalLM"};
    check_refused(vision, "architectures", "Gemma3ForConditionalGeneration");
  }
}

TEST_CASE("load_config names the file when it is not JSON", "[config]") {
  fs::path path = fs::temp_directory_path() / "gemma-config-test-not-json.json";
  write_file_atomic(path, "{\"model_type\": ");
  REQUIRE_THROWS_WITH(load_config(path), Contains(path.string()) && Contains("not valid JSON"));
  fs::remove(path);
  REQUIRE_THROWS_WITH(load_config(path), Contains(path.string()));
}

TEST_CASE("presets match the released configs", "[config]") {
  struct Row {
    std::string size;
    int vocab, hidden, intermediate, layers, heads, kv, head_dim;
    double qpas;
    int window;
    double scale;
    int max_positions;
    bool multimodal;
  };
  const std::vector<Row> table = {
      {"270m", 262144, 640, 2048, 18, 4, 1, 256, 256, 512, 1.0, 32768, false},
      {"1b", 262144, 1152, 6912, 26, 4, 1, 256, 256, 512, 1.0, 32768, false},
      {"4b", 262208, 2560, 10240, 34, 8, 4, 256, 256, 1024, 8.0, 131072, true},
      {"12b", 262208, 3840, 15360, 48, 16, 8, 256, 256, 1024, 8.0, 131072, true},
      {"27b", 262208, 5376, 21504, 62, 32, 16, 128, 168, 1024, 8.0, 131072, true},
  };
  for (const Row& row : table) {
    INFO("size " << row.size);
    ModelConfig config = config_preset(row.size);
    const TextConfig& t = config.text;
    CHECK(t.vocab_size == row.vocab);
    CHECK(t.hidden_size == row.hidden);
    CHECK(t.intermediate_size == row.intermediate);
    CHECK(t.num_layers == row.layers);
    CHECK(t.num_heads == row.heads);
    CHECK(t.num_kv_heads == row.kv);
    CHECK(t.head_dim == row.head_dim);
    CHECK(t.query_pre_attn_scalar == row.qpas);
    CHECK(t.sliding_window == row.window);
    CHECK(t.rope_global_scale == row.scale);
    CHECK(t.rope_global_base == 1e6);
    CHECK(t.rope_local_base == 1e4);
    CHECK(t.rms_norm_eps == 1e-6);
    CHECK(t.max_position_embeddings == row.max_positions);
    CHECK(full_layer_indices(t) == every_sixth_layer(row.layers));
    CHECK(config.multimodal == row.multimodal);
    CHECK(config.architecture == (row.multimodal ? "Gemma3ForConditionalGeneration" : "Gemma3ForCausalLM"));
    CHECK(config.mm_tokens_per_image == (row.multimodal ? 256 : 0));
    CHECK(config.eos_token_ids == std::vector<int>{1, 106});
  }
  CHECK(std::pow(config_preset("27b").text.query_pre_attn_scalar, -0.5) == Approx(0.07715167498).epsilon(1e-9));
  REQUIRE_THROWS_WITH(config_preset("2b"), Contains("'2b'") && Contains("270m, 1b, 4b, 12b, 27b"));
}

TEST_CASE("presets reproduce the parameter counts of the released sizes", "[config]") {
  struct Row {
    std::string size;
    int64_t per_layer, text_non_embedding, embedding, vision, projector, total, bf16_bytes;
  };
  const std::vector<Row> table = {
      {"270m", 5573632, 100326016, 167772160, 0, 0, 268098176, 536196352},
      {"1b", 26842112, 697896064, 301989888, 0, 0, 999885952, 1999771904},
      {"4b", 94382592, 3209010688, 671252480, 416866032, 2950272, 4300079472, 8600158944},
      {"12b", 224148992, 10759155456, 1006878720, 416866032, 4424832, 12187325040, 24374650080},
      {"27b", 412898560, 25599716096, 1409630208, 416866032, 6194304, 27432406640, 54864813280},
  };
  for (const Row& row : table) {
    INFO("size " << row.size);
    ParameterCounts counts = count_parameters(config_preset(row.size));
    CHECK(counts.per_layer == row.per_layer);
    CHECK(counts.text_non_embedding == row.text_non_embedding);
    CHECK(counts.embedding == row.embedding);
    CHECK(counts.vision == row.vision);
    CHECK(counts.projector == row.projector);
    CHECK(counts.total == row.total);
    CHECK(counts.total * 2 == row.bf16_bytes);
  }
}
