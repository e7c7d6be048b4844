#include "model/config.h"

#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/files.h"

namespace gemma {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kCausalLM = "Gemma3ForCausalLM";
constexpr const char* kConditionalGeneration = "Gemma3ForConditionalGeneration";
constexpr const char* kGeluTanh = "gelu_pytorch_tanh";
// Far above any real model (Gemma 3 27B has 62), and small enough that the per-layer tables stay small.
constexpr int kMaxLayers = 65536;
// Real configs nest 3 levels deep. nlohmann::json dumps (in messages) and copies (vision_config)
// recursively, so deeper values are refused before either can overflow the stack.
constexpr int kMaxNesting = 64;

// Typed access to one JSON object of a config, with messages naming the source and the full field path
// ("text_config.rope_scaling.factor"). A JSON null counts as absent: Hub files write null for "unset".
class Fields {
 public:
  Fields(const json& object, std::string source, std::string prefix)
      : object_(object), source_(std::move(source)), prefix_(std::move(prefix)) {}

  const json* find(const std::string& key) const {
    auto it = object_.find(key);
    return (it == object_.end() || it->is_null()) ? nullptr : &*it;
  }
  bool has(const std::string& key) const { return find(key) != nullptr; }

  int integer(const std::string& key, int fallback) const { return has(key) ? required_integer(key) : fallback; }
  int required_integer(const std::string& key) const {
    const json& value = required(key);
    // Integral floats ("8.0") are accepted: some writers emit every number as a float.
    double number = value.is_number() ? value.get<double>() : std::nan("");
    if (!value.is_number() || number != std::floor(number) || std::abs(number) > std::numeric_limits<int>::max())
      fail_field(key, fmt::format("expected an integer, found {}", value.dump()));
    return static_cast<int>(number);
  }
  double number(const std::string& key, double fallback) const { return has(key) ? required_number(key) : fallback; }
  double required_number(const std::string& key) const {
    const json& value = required(key);
    if (!value.is_number()) fail_field(key, fmt::format("expected a number, found {}", value.dump()));
    return value.get<double>();
  }
  std::string string(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const json& value = *find(key);
    if (!value.is_string()) fail_field(key, fmt::format("expected a string, found {}", value.dump()));
    return value.get<std::string>();
  }
  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& value = *find(key);
    if (!value.is_boolean()) fail_field(key, fmt::format("expected true or false, found {}", value.dump()));
    return value.get<bool>();
  }
  Fields object(const std::string& key) const {
    const json& value = required(key);
    if (!value.is_object()) fail_field(key, fmt::format("expected an object, found {}", value.dump()));
    return Fields(value, source_, path(key) + ".");
  }
  const json& required(const std::string& key) const {
    const json* value = find(key);
    if (!value) fail_field(key, "missing (it has no default)");
    return *value;
  }

  std::string path(const std::string& key) const { return prefix_ + key; }
  const std::string& source() const { return source_; }
  [[noreturn]] void fail_field(const std::string& key, const std::string& detail) const {
    fail("config {}: field '{}': {}", source_, path(key), detail);
  }

 private:
  const json& object_;
  std::string source_;
  std::string prefix_;
};

void require_positive(const Fields& fields, const std::string& key, double value) {
  if (!(value > 0)) fields.fail_field(key, fmt::format("must be positive, found {}", value));
}

// Iterative (an explicit stack), so that checking a deeply nested value cannot itself overflow.
void check_nesting(const Fields& fields, const std::string& key, const json& value) {
  std::vector<std::pair<const json*, int>> pending{{&value, 1}};
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) continue;
    if (depth > kMaxNesting) fields.fail_field(key, fmt::format("nests deeper than {} levels", kMaxNesting));
    for (const json& child : *node) pending.emplace_back(&child, depth + 1);
  }
}

// ---- rope ----

struct Rope {
  double global_base = 1e6, global_scale = 1.0, local_base = 1e4;
};

// A rope_scaling / rope_parameters entry -> its linear factor (1.0 for "default"); other types are refused.
double rope_scale_factor(const Fields& rope) {
  const std::string key = rope.has("rope_type") ? "rope_type" : "type";  // some third-party files write "type"
  std::string type = rope.string(key, "default");
  if (type == "default") return 1.0;
  if (type != "linear")
    rope.fail_field(key, fmt::format("'{}' is not supported (Gemma 3 uses only linear scaling)", type));
  double factor = rope.required_number("factor");
  require_positive(rope, "factor", factor);
  return factor;
}

Rope read_legacy_rope(const Fields& text) {
  Rope rope;
  rope.global_base = text.number("rope_theta", 1e6);
  rope.local_base = text.number("rope_local_base_freq", 1e4);
  if (text.has("rope_scaling")) rope.global_scale = rope_scale_factor(text.object("rope_scaling"));
  require_positive(text, "rope_theta", rope.global_base);
  require_positive(text, "rope_local_base_freq", rope.local_base);
  return rope;
}

// transformers v5: {"full_attention": {...}, "sliding_attention": {...}}, each with rope_type and rope_theta.
Rope read_rope_parameters(const Fields& text) {
  Fields params = text.object("rope_parameters");
  if (!params.has("full_attention") && !params.has("sliding_attention"))
    text.fail_field("rope_parameters", "expected per-layer-type entries full_attention and sliding_attention");
  Rope rope;
  rope.global_base = text.number("rope_theta", 1e6);
  rope.local_base = text.number("rope_local_base_freq", 1e4);
  if (params.has("full_attention")) {
    Fields full = params.object("full_attention");
    rope.global_scale = rope_scale_factor(full);
    rope.global_base = full.number("rope_theta", rope.global_base);
    require_positive(full, "rope_theta", rope.global_base);
  }
  if (params.has("sliding_attention")) {
    Fields sliding = params.object("sliding_attention");
    // Sliding layers are never scaled in Gemma 3; a scaled entry means a model this port does not know.
    if (rope_scale_factor(sliding) != 1.0)
      sliding.fail_field("factor", "sliding-window layers must not be rope-scaled in Gemma 3");
    rope.local_base = sliding.number("rope_theta", rope.local_base);
    require_positive(sliding, "rope_theta", rope.local_base);
  }
  return rope;
}

// ---- layer types ----

std::vector<LayerType> read_explicit_layer_types(const Fields& text, int num_layers) {
  const json& list = text.required("layer_types");
  if (!list.is_array() || list.size() != static_cast<size_t>(num_layers))
    text.fail_field("layer_types",
                    fmt::format("expected a list of {} entries (num_hidden_layers), found {}", num_layers,
                                list.is_array() ? std::to_string(list.size()) : list.dump()));
  std::vector<LayerType> types;
  for (const auto& entry : list) {
    if (entry == "sliding_attention")
      types.push_back(LayerType::Sliding);
    else if (entry == "full_attention")
      types.push_back(LayerType::Full);
    else
      text.fail_field("layer_types",
                      fmt::format("entry {} is neither \"sliding_attention\" nor \"full_attention\"", entry.dump()));
  }
  return types;
}

// Without layer_types: layer i is global iff (i+1) % pattern == 0; the last layers need not be global.
std::vector<LayerType> layer_types_from_pattern(const Fields& text, int num_layers) {
  std::string key = text.has("sliding_window_pattern") || !text.has("_sliding_window_pattern")
                        ? "sliding_window_pattern"
                        : "_sliding_window_pattern";  // the 270M config's spelling
  int pattern = text.integer(key, 6);
  if (pattern <= 0) text.fail_field(key, fmt::format("must be positive, found {}", pattern));
  std::vector<LayerType> types;
  for (int i = 0; i < num_layers; ++i) types.push_back((i + 1) % pattern == 0 ? LayerType::Full : LayerType::Sliding);
  return types;
}

// ---- checks ----

void refuse_unsupported_features(const Fields& text) {
  for (const char* softcap : {"final_logit_softcapping", "attn_logit_softcapping"})
    if (text.has(softcap))
      text.fail_field(softcap, fmt::format("is {}; Gemma 3 has no softcapping and this port does not implement it",
                                           text.required(softcap).dump()));
  if (text.boolean("use_bidirectional_attention", false))
    text.fail_field("use_bidirectional_attention",
                    "is true (an EmbeddingGemma-style encoder); only causal Gemma 3 decoders are supported");
  // The weights would carry attention biases that this port has no place for.
  if (text.boolean("attention_bias", false))
    text.fail_field("attention_bias", "is true; Gemma 3 attention has no biases");
  if (text.has("model_type") && text.string("model_type", "") != "gemma3_text")
    text.fail_field("model_type", fmt::format("is '{}', expected 'gemma3_text'", text.string("model_type", "")));
}

// The keys are the config's own spellings, so the message names the field the user has to fix.
void check_text_values(const Fields& text, const TextConfig& t) {
  require_positive(text, "vocab_size", t.vocab_size);
  require_positive(text, "hidden_size", t.hidden_size);
  require_positive(text, "intermediate_size", t.intermediate_size);
  require_positive(text, "num_hidden_layers", t.num_layers);
  require_positive(text, "num_attention_heads", t.num_heads);
  require_positive(text, "num_key_value_heads", t.num_kv_heads);
  require_positive(text, "head_dim", t.head_dim);
  require_positive(text, "query_pre_attn_scalar", t.query_pre_attn_scalar);
  require_positive(text, "sliding_window", t.sliding_window);
  require_positive(text, "rms_norm_eps", t.rms_norm_eps);
  require_positive(text, "max_position_embeddings", t.max_position_embeddings);
  if (t.num_layers > kMaxLayers)
    text.fail_field(
        "num_hidden_layers",
        fmt::format("is {}, above the limit of {} (no real model has that many layers)", t.num_layers, kMaxLayers));
  if (t.num_heads % t.num_kv_heads != 0)
    text.fail_field("num_key_value_heads",
                    fmt::format("{} does not divide num_attention_heads {}", t.num_kv_heads, t.num_heads));
  if (t.head_dim % 2 != 0)
    text.fail_field("head_dim", fmt::format("is {}; rotary embeddings need an even head_dim", t.head_dim));
  if (t.hidden_activation != kGeluTanh)
    text.fail_field("hidden_activation",
                    fmt::format("is '{}'; Gemma 3 uses '{}' and no other activation is implemented",
                                t.hidden_activation, kGeluTanh));
}

TextConfig parse_text_config(const Fields& text) {
  refuse_unsupported_features(text);
  TextConfig t;
  t.vocab_size = text.integer("vocab_size", 262208);
  t.hidden_size = text.required_integer("hidden_size");
  t.intermediate_size = text.required_integer("intermediate_size");
  t.num_layers = text.required_integer("num_hidden_layers");
  t.num_heads = text.integer("num_attention_heads", 8);
  t.num_kv_heads = text.integer("num_key_value_heads", 4);
  t.head_dim = text.integer("head_dim", 256);
  t.query_pre_attn_scalar = text.number("query_pre_attn_scalar", 256);
  // transformers' default (4096) is right for no released size, and every released config sets it.
  if (!text.has("sliding_window"))
    text.fail_field("sliding_window",
                    "missing; released Gemma 3 configs always set it (512 or 1024) and the "
                    "transformers default 4096 fits no released model");
  t.sliding_window = text.required_integer("sliding_window");
  Rope rope = text.has("rope_parameters") ? read_rope_parameters(text) : read_legacy_rope(text);
  t.rope_global_base = rope.global_base;
  t.rope_global_scale = rope.global_scale;
  t.rope_local_base = rope.local_base;
  t.rms_norm_eps = text.number("rms_norm_eps", 1e-6);
  t.max_position_embeddings = text.integer("max_position_embeddings", 131072);
  t.hidden_activation = text.string("hidden_activation", kGeluTanh);
  check_text_values(text, t);  // before layer types: they need a valid num_layers
  t.layer_types = text.has("layer_types") ? read_explicit_layer_types(text, t.num_layers)
                                          : layer_types_from_pattern(text, t.num_layers);
  return t;
}

// ---- top level ----

std::string read_architecture(const Fields& top, const std::string& expected) {
  if (!top.has("architectures")) return expected;
  const json& list = top.required("architectures");
  if (!list.is_array() || list.empty() || !list[0].is_string())
    top.fail_field("architectures", fmt::format("expected a list of class names, found {}", list.dump()));
  std::string architecture = list[0].get<std::string>();
  if (architecture != expected)
    top.fail_field("architectures", fmt::format("'{}' is not a Gemma 3 model of model_type '{}' (expected '{}')",
                                                architecture, top.string("model_type", ""), expected));
  return architecture;
}

std::vector<int> read_token_ids(const Fields& fields, const std::string& key) {
  const json& value = fields.required(key);
  if (value.is_number_integer()) return {value.get<int>()};
  std::vector<int> ids;
  if (value.is_array())
    for (const auto& id : value) {
      if (!id.is_number_integer()) break;
      ids.push_back(id.get<int>());
    }
  if (!value.is_array() || ids.size() != value.size() || ids.empty())
    fields.fail_field(key, fmt::format("expected a token id or a list of them, found {}", value.dump()));
  return ids;
}

// Special token ids live at the top level, in text_config, or nowhere (defaults).
void read_special_tokens(const Fields& top, const Fields& text, ModelConfig& config) {
  const Fields& bos_source = top.has("bos_token_id") ? top : text;
  config.bos_token_id = bos_source.integer("bos_token_id", 2);
  const Fields& pad_source = top.has("pad_token_id") ? top : text;
  config.pad_token_id = pad_source.integer("pad_token_id", 0);
  const Fields& eos_source = top.has("eos_token_id") ? top : text;
  config.eos_token_ids =
      eos_source.has("eos_token_id") ? read_token_ids(eos_source, "eos_token_id") : std::vector<int>{1};
}

// Newer transformers write "dtype" instead of "torch_dtype".
std::string read_torch_dtype(const Fields& top, const Fields& text) {
  for (const Fields* fields : {&top, &text})
    for (const char* key : {"torch_dtype", "dtype"})
      if (fields->has(key)) return fields->string(key, "");
  return "";
}

VisionConfig parse_vision_config(const Fields& vision) {
  if (vision.has("model_type") && vision.string("model_type", "") != "siglip_vision_model")
    vision.fail_field("model_type",
                      fmt::format("is '{}', expected 'siglip_vision_model'", vision.string("model_type", "")));
  if (vision.boolean("vision_use_head", false))
    vision.fail_field("vision_use_head", "is true; Gemma 3 uses the patch tokens, not an attention-pool head");
  if (vision.string("hidden_act", kGeluTanh) != kGeluTanh)
    vision.fail_field("hidden_act",
                      fmt::format("is '{}'; SigLIP in Gemma 3 uses '{}'", vision.string("hidden_act", ""), kGeluTanh));
  VisionConfig v;
  v.image_size = vision.integer("image_size", v.image_size);
  v.patch_size = vision.integer("patch_size", v.patch_size);
  v.num_channels = vision.integer("num_channels", v.num_channels);
  v.hidden_size = vision.integer("hidden_size", v.hidden_size);
  v.intermediate_size = vision.integer("intermediate_size", v.intermediate_size);
  v.num_layers = vision.integer("num_hidden_layers", v.num_layers);
  v.num_heads = vision.integer("num_attention_heads", v.num_heads);
  v.layer_norm_eps = vision.number("layer_norm_eps", v.layer_norm_eps);
  for (auto [key, value] : {std::pair<const char*, double>{"image_size", v.image_size},
                            {"patch_size", v.patch_size},
                            {"hidden_size", v.hidden_size},
                            {"intermediate_size", v.intermediate_size},
                            {"num_hidden_layers", v.num_layers},
                            {"num_attention_heads", v.num_heads},
                            {"layer_norm_eps", v.layer_norm_eps}})
    require_positive(vision, key, value);
  if (v.num_channels != 3) vision.fail_field("num_channels", fmt::format("is {}; images are RGB", v.num_channels));
  if (v.num_layers > kMaxLayers) vision.fail_field("num_hidden_layers", fmt::format("is above {}", kMaxLayers));
  if (v.image_size % v.patch_size != 0)
    vision.fail_field("image_size", fmt::format("{} is not a multiple of patch_size {}", v.image_size, v.patch_size));
  if (v.hidden_size % v.num_heads != 0)
    vision.fail_field("num_attention_heads",
                      fmt::format("{} does not divide hidden_size {}", v.num_heads, v.hidden_size));
  return v;
}

void read_multimodal_fields(const Fields& top, ModelConfig& config) {
  config.vision_config = top.required("vision_config");
  if (!config.vision_config.is_object())
    top.fail_field("vision_config", fmt::format("expected an object, found {}", config.vision_config.dump()));
  config.vision = parse_vision_config(top.object("vision_config"));
  config.image_token_index = top.integer("image_token_index", 262144);
  config.boi_token_index = top.integer("boi_token_index", 255999);
  config.eoi_token_index = top.integer("eoi_token_index", 256000);
  config.mm_tokens_per_image = top.integer("mm_tokens_per_image", 256);
  require_positive(top, "mm_tokens_per_image", config.mm_tokens_per_image);
  // The projector average-pools the patch grid down to a square grid of mm_tokens_per_image tokens.
  const int side = config.mm_tokens_per_side(), patches = config.vision.patches_per_side();
  if (side * side != config.mm_tokens_per_image || patches % side != 0)
    top.fail_field("mm_tokens_per_image",
                   fmt::format("{} is not a square grid that divides the {}x{} patch grid of vision_config",
                               config.mm_tokens_per_image, patches, patches));
  if (config.image_token_index < 0 || config.image_token_index >= config.text.vocab_size)
    top.fail_field("image_token_index", fmt::format("{} is outside the vocabulary of {} ids (the soft-token rows "
                                                    "must exist in the embedding)",
                                                    config.image_token_index, config.text.vocab_size));
}

}  // namespace

int ModelConfig::mm_tokens_per_side() const {
  int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(mm_tokens_per_image))));
  return side;
}

const char* layer_type_name(LayerType type) { return type == LayerType::Full ? "full_attention" : "sliding_attention"; }

ModelConfig parse_config(const json& config_json, const std::string& source_name) {
  if (!config_json.is_object())
    fail("config {}: expected a JSON object, found a {}", source_name, config_json.type_name());
  Fields top(config_json, source_name, "");
  for (const auto& [key, value] : config_json.items()) check_nesting(top, key, value);
  ModelConfig config;
  if (!top.has("model_type")) top.fail_field("model_type", "missing; expected 'gemma3_text' or 'gemma3'");
  config.model_type = top.string("model_type", "");
  if (config.model_type == "gemma3")
    config.multimodal = true;
  else if (config.model_type != "gemma3_text")
    top.fail_field("model_type",
                   fmt::format("'{}' is not Gemma 3 (expected 'gemma3_text' or 'gemma3')", config.model_type));
  config.architecture = read_architecture(top, config.multimodal ? kConditionalGeneration : kCausalLM);

  std::optional<Fields> nested;
  if (config.multimodal) nested.emplace(top.object("text_config"));
  const Fields& text = nested ? *nested : top;
  config.text = parse_text_config(text);
  if (config.multimodal) read_multimodal_fields(top, config);
  read_special_tokens(top, text, config);
  config.torch_dtype = read_torch_dtype(top, text);
  return config;
}

ModelConfig load_config(const fs::path& config_json) {
  fs::path path = follow_link_stub(config_json);
  std::string text = read_file(path);
  json parsed;
  try {
    parsed = json::parse(text);
  } catch (const json::exception& e) {
    fail("config {} is not valid JSON: {}", config_json.string(), e.what());
  }
  return parse_config(parsed, config_json.string());
}

}  // namespace gemma
