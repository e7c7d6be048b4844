#include "model/hf_tokenizer.h"

// Reading tokenizer.json and tokenizer_config.json into an HfTokenizer: the streaming parser, the
// checks that refuse what the `tokenizers` library would tokenize differently, and the tables
// (hf_tokenizer_tables.cpp) filled from them. Encoding and decoding are in hf_tokenizer.cpp.
#include <algorithm>
#include <memory>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/utf8.h"

namespace gemma {
namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Reading tokenizer.json. The file is 33 MB, read at every CLI start: a DOM parse alone takes ~0.7 s,
// so a SAX reader streams the two big arrays (model.vocab, model.merges) straight into vectors and
// builds a DOM only for the small sections (added_tokens, normalizer, decoder, ...).
// ---------------------------------------------------------------------------------------------
namespace hf_detail {

struct ParsedTokenizerJson {
  json dom;  // the whole document except model.vocab and model.merges
  std::vector<std::pair<std::string, long long>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  bool has_vocab = false, has_merges = false;
};

namespace {

// tokenizer.json nests 5 levels deep. nlohmann::json copies and dumps values recursively, so a file of
// deeply nested brackets would overflow the stack later: it is refused while parsing.
constexpr size_t kMaxNesting = 64;

class TokenizerJsonSax final : public nlohmann::json_sax<json> {
 public:
  TokenizerJsonSax(ParsedTokenizerJson& out, const fs::path& source) : out_(out), source_(source) {}

  bool null() override { return add_value(nullptr); }
  bool boolean(bool value) override { return add_value(value); }
  bool number_integer(number_integer_t value) override { return add_number(value); }
  bool number_unsigned(number_unsigned_t value) override {
    // Clamped into range; ids that large are then rejected by the vocabulary checks.
    return add_number(static_cast<long long>(std::min<number_unsigned_t>(value, 1ull << 62)));
  }
  bool number_float(number_float_t value, const string_t&) override { return add_value(value); }
  bool binary(binary_t&) override { return add_value(nullptr); }  // never produced by JSON text

  bool string(string_t& value) override {
    if (mode_ == Mode::Merges) return add_merge_string(value);
    if (mode_ == Mode::Vocab) fail("{}: model.vocab[\"{}\"] must be an integer id", source_.string(), key_);
    return add_value(std::move(value));
  }

  bool key(string_t& value) override {
    key_ = std::move(value);
    return true;
  }

  bool start_object(std::size_t) override {
    if (mode_ == Mode::Vocab) fail("{}: model.vocab[\"{}\"] must be an integer id", source_.string(), key_);
    if (mode_ == Mode::Merges) fail("{}: model.merges entries must be [a, b] or \"a b\"", source_.string());
    if (opening_model_member("vocab")) {
      mode_ = Mode::Vocab;
      out_.has_vocab = true;
      return true;
    }
    return open_container(json::object());
  }

  bool end_object() override {
    if (mode_ == Mode::Vocab) {
      mode_ = Mode::Dom;
      return true;
    }
    open_.pop_back();
    return true;
  }

  bool start_array(std::size_t) override {
    if (mode_ == Mode::Vocab) fail("{}: model.vocab[\"{}\"] must be an integer id", source_.string(), key_);
    if (mode_ == Mode::Merges) {
      if (merge_depth_ != 0) fail("{}: model.merges entries must be [a, b] or \"a b\"", source_.string());
      merge_depth_ = 1;
      merge_parts_.clear();
      return true;
    }
    if (opening_model_member("merges")) {
      mode_ = Mode::Merges;
      merge_depth_ = 0;
      out_.has_merges = true;
      return true;
    }
    return open_container(json::array());
  }

  bool end_array() override {
    if (mode_ == Mode::Merges) return end_merges_array();
    open_.pop_back();
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& error) override {
    fail("{}: invalid JSON near byte {}: {}", source_.string(), position, error.what());
  }

 private:
  enum class Mode { Dom, Vocab, Merges };

  // True when the container about to open is the value of `member` inside the top-level "model".
  bool opening_model_member(const char* member) const {
    return open_.size() == 2 && open_keys_[1] == "model" && open_[1]->is_object() && key_ == member;
  }

  bool add_number(long long value) {
    if (mode_ == Mode::Vocab) {
      out_.vocab.emplace_back(std::move(key_), value);
      return true;
    }
    if (mode_ == Mode::Merges) fail("{}: model.merges entries must be [a, b] or \"a b\"", source_.string());
    return add_value(value);
  }

  // Places a value in the innermost open container and returns where it now lives.
  json* place(json&& value) {
    if (open_.empty()) {
      out_.dom = std::move(value);
      return &out_.dom;
    }
    json& parent = *open_.back();
    if (parent.is_object()) return &(parent[key_] = std::move(value));
    parent.push_back(std::move(value));
    return &parent.back();
  }

  bool add_value(json&& value) {
    if (mode_ == Mode::Vocab) fail("{}: model.vocab[\"{}\"] must be an integer id", source_.string(), key_);
    if (mode_ == Mode::Merges) fail("{}: model.merges entries must be [a, b] or \"a b\"", source_.string());
    place(std::move(value));
    return true;
  }

  bool open_container(json&& empty) {
    if (open_.size() >= kMaxNesting)
      fail("{}: JSON nested deeper than {} levels (under \"{}\")", source_.string(), kMaxNesting, key_);
    std::string opened_under = (!open_.empty() && open_.back()->is_object()) ? key_ : std::string();
    // Pointers into the DOM stay valid: nothing is added to a parent while its child is open.
    open_.push_back(place(std::move(empty)));
    open_keys_.resize(open_.size());
    open_keys_.back() = std::move(opened_under);
    return true;
  }

  bool add_merge_string(std::string& value) {
    if (merge_depth_ == 1) {
      merge_parts_.push_back(std::move(value));
      return true;
    }
    // The older format: "a b" with exactly one space (as `tokenizers` requires).
    size_t space = value.find(' ');
    if (space == std::string::npos || value.find(' ', space + 1) != std::string::npos)
      fail("{}: model.merges[{}] = \"{}\" is not two pieces separated by one space", source_.string(),
           out_.merges.size(), value);
    out_.merges.emplace_back(value.substr(0, space), value.substr(space + 1));
    return true;
  }

  bool end_merges_array() {
    if (merge_depth_ == 0) {
      mode_ = Mode::Dom;
      return true;
    }
    if (merge_parts_.size() != 2)
      fail("{}: model.merges[{}] has {} elements, expected 2", source_.string(), out_.merges.size(),
           merge_parts_.size());
    out_.merges.emplace_back(std::move(merge_parts_[0]), std::move(merge_parts_[1]));
    merge_depth_ = 0;
    return true;
  }

  ParsedTokenizerJson& out_;
  const fs::path& source_;
  Mode mode_ = Mode::Dom;
  std::string key_;
  std::vector<json*> open_;
  std::vector<std::string> open_keys_;  // the key each open container was opened under
  int merge_depth_ = 0;
  std::vector<std::string> merge_parts_;
};

}  // namespace

ParsedTokenizerJson parse_tokenizer_json(std::string_view text, const fs::path& source) {
  ParsedTokenizerJson parsed;
  TokenizerJsonSax sax(parsed, source);
  nlohmann::json::sax_parse(text.begin(), text.end(), &sax);
  if (!parsed.dom.is_object()) fail("{}: not a tokenizer.json (the top level is not an object)", source.string());
  return parsed;
}

}  // namespace hf_detail

using hf_detail::DecodeStep;
using hf_detail::ParsedTokenizerJson;
using hf_detail::TextRewrite;

namespace {

constexpr long long kMaxIds = 1 << 30;  // far above any real vocabulary; guards the id -> piece table

// ---- small JSON accessors whose errors name the file and the field ----

const json& member(const json& object, const char* key, const fs::path& source, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) fail("{}: {} has no \"{}\"", source.string(), where, key);
  return *it;
}

std::string string_member(const json& object, const char* key, const fs::path& source, const std::string& where) {
  const json& value = member(object, key, source, where);
  if (!value.is_string()) fail("{}: {}.{} must be a string", source.string(), where, key);
  return value.get<std::string>();
}

bool bool_member(const json& object, const char* key, bool fallback, const fs::path& source, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) fail("{}: {}.{} must be true or false", source.string(), where, key);
  return it->get<bool>();
}

// A pattern {"String": "..."}; regex patterns would need a regex engine identical to Rust's.
std::string string_pattern(const json& step, const fs::path& source, const std::string& where) {
  const json& pattern = member(step, "pattern", source, where);
  if (!pattern.is_object() || !pattern.contains("String") || !pattern["String"].is_string())
    fail("{}: {}: only {{\"String\": ...}} patterns are supported, got {}", source.string(), where, pattern.dump());
  std::string text = pattern["String"].get<std::string>();
  if (text.empty()) fail("{}: {}: empty pattern", source.string(), where);
  return text;
}

// Strip's start / stop: a count (usize in `tokenizers`), 0 when absent.
int strip_count(const json& step, const char* key, const fs::path& source) {
  auto it = step.find(key);
  if (it == step.end() || it->is_null()) return 0;
  if (!it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > INT32_MAX)
    fail("{}: decoder Strip.{} must be a non-negative integer, got {}", source.string(), key, it->dump());
  return static_cast<int>(it->get<long long>());
}

// The steps of a (possibly Sequence-wrapped) normalizer/decoder.
std::vector<json> flatten_sequence(const json& node, const char* list_key) {
  if (node.is_null()) return {};
  if (node.value("type", "") == "Sequence" && node.contains(list_key) && node[list_key].is_array()) {
    std::vector<json> steps;
    for (const json& step : node[list_key]) {
      std::vector<json> inner = flatten_sequence(step, list_key);
      steps.insert(steps.end(), inner.begin(), inner.end());
    }
    return steps;
  }
  return {node};
}

std::string token_name_from_config(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------
HfTokenizer::HfTokenizer(std::string_view tokenizer_json, std::string_view config_json, fs::path source)
    : source_(std::move(source)) {
  try {
    ParsedTokenizerJson parsed = hf_detail::parse_tokenizer_json(tokenizer_json, source_);
    load_vocabulary(parsed);
    load_model_options(parsed.dom);
    build_merges(parsed.merges);
    load_pipeline(parsed.dom);
    load_special_tokens(config_json);
  } catch (const json::exception& e) {
    // A field of an unexpected JSON type somewhere in the small sections.
    fail("{}: unexpected tokenizer.json structure: {}", source_.string(), e.what());
  }
}

void HfTokenizer::load_vocabulary(ParsedTokenizerJson& parsed) {
  const json& model = member(parsed.dom, "model", source_, "tokenizer.json");
  if (model.value("type", "") != "BPE")
    fail("{}: model.type is \"{}\"; only BPE tokenizers are supported", source_.string(), model.value("type", ""));
  if (!parsed.has_vocab) fail("{}: model.vocab is missing", source_.string());
  if (!parsed.has_merges) fail("{}: model.merges is missing", source_.string());

  const json& added = member(parsed.dom, "added_tokens", source_, "tokenizer.json");
  if (!added.is_array()) fail("{}: added_tokens must be an array", source_.string());

  // The id -> piece table has max_id + 1 entries: ids far above the number of tokens would make a
  // small file allocate gigabytes. Real vocabularies are contiguous; a few unused ids are tolerated.
  const long long token_count = static_cast<long long>(parsed.vocab.size() + added.size());
  const long long id_limit = std::min(kMaxIds, 2 * token_count + 1024);
  auto id_limit_note = [&](long long id) {
    return id >= id_limit ? fmt::format(
                                " (ids must be below {}: with {} entries in model.vocab and added_tokens, "
                                "a larger id would leave most ids unused)",
                                id_limit, token_count)
                          : std::string();
  };
  long long max_id = -1;
  for (const auto& [piece, id] : parsed.vocab) {
    if (id < 0 || id >= id_limit)
      fail("{}: model.vocab[\"{}\"] = {} is not a valid id{}", source_.string(), piece, id, id_limit_note(id));
    max_id = std::max(max_id, id);
  }
  for (size_t i = 0; i < added.size(); ++i) {
    const json& id = added[i].is_object() ? added[i].value("id", json()) : json();
    if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() >= id_limit)
      fail("{}: added_tokens[{}] has no valid \"id\"{}", source_.string(), i,
           id.is_number_integer() ? id_limit_note(id.get<long long>()) : std::string());
    max_id = std::max(max_id, id.get<long long>());
  }

  pieces_.assign(static_cast<size_t>(max_id + 1), std::string());
  id_flags_.assign(pieces_.size(), 0);
  for (auto& [piece, id] : parsed.vocab) {
    if (id_flags_[id] & InModelVocab)
      fail("{}: model.vocab gives id {} to both \"{}\" and \"{}\"", source_.string(), id, pieces_[id], piece);
    pieces_[id] = std::move(piece);
    id_flags_[id] |= InModelVocab;
  }
  parsed.vocab.clear();
  for (size_t i = 0; i < added.size(); ++i) load_added_token(added[i], i);

  int duplicate = piece_ids_.build(pieces_, [&](size_t id) { return id_flags_[id] != 0; });
  if (duplicate >= 0)
    fail("{}: piece \"{}\" has two ids, {} and {}", source_.string(), pieces_[duplicate],
         piece_ids_.find(pieces_[duplicate]), duplicate);
  for (size_t id = 0; id < pieces_.size(); ++id)
    if (id_flags_[id] & Added) added_matcher_.add(pieces_[id], static_cast<int>(id));
}

void HfTokenizer::load_added_token(const json& token, size_t index) {
  std::string where = fmt::format("added_tokens[{}]", index);
  if (!token.is_object()) fail("{}: {} must be an object", source_.string(), where);
  std::string content = string_member(token, "content", source_, where);
  const size_t id = token["id"].get<size_t>();  // validated by load_vocabulary
  if (content.empty()) fail("{}: {} has empty content", source_.string(), where);
  // These options change matching (whitespace absorption, word boundaries, matching normalized text);
  // Gemma never sets them, so they are refused rather than approximated.
  for (const char* option : {"lstrip", "rstrip", "single_word", "normalized"})
    if (bool_member(token, option, false, source_, where))
      fail("{}: {} (\"{}\") sets {}=true, which this tokenizer does not implement", source_.string(), where, content,
           option);
  if ((id_flags_[id] & InModelVocab) && pieces_[id] != content)
    fail("{}: {} \"{}\" has id {}, which model.vocab gives to \"{}\"", source_.string(), where, content, id,
         pieces_[id]);
  pieces_[id] = std::move(content);
  id_flags_[id] |= Added;
  if (bool_member(token, "special", false, source_, where)) id_flags_[id] |= Special;
}

void HfTokenizer::load_model_options(const json& dom) {
  const std::string where = "model";
  const json& model = member(dom, "model", source_, "tokenizer.json");
  auto null_or_empty = [&](const char* key) {
    auto it = model.find(key);
    return it == model.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty());
  };
  if (!null_or_empty("continuing_subword_prefix") || !null_or_empty("end_of_word_suffix"))
    fail("{}: model.continuing_subword_prefix / end_of_word_suffix are not supported", source_.string());
  if (model.contains("dropout") && model["dropout"].is_number() && model["dropout"].get<double>() > 0.0)
    fail("{}: model.dropout is set; BPE dropout (random tokenization) is not supported", source_.string());
  byte_fallback_ = bool_member(model, "byte_fallback", false, source_, where);
  fuse_unk_ = bool_member(model, "fuse_unk", false, source_, where);
  ignore_merges_ = bool_member(model, "ignore_merges", false, source_, where);
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    std::string unk = model["unk_token"].get<std::string>();
    model_unk_id_ = model_vocab_id(unk);
    if (model_unk_id_ < 0) fail("{}: model.unk_token \"{}\" is not in model.vocab", source_.string(), unk);
  }

  std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
  for (int byte = 0; byte < 256; ++byte) byte_ids_[byte] = model_vocab_id(fmt::format("<0x{:02X}>", byte));
  std::fill(std::begin(ascii_ids_), std::end(ascii_ids_), -1);
  for (int c = 0; c < 128; ++c) ascii_ids_[c] = model_vocab_id(std::string(1, static_cast<char>(c)));
}

void HfTokenizer::build_merges(std::vector<std::pair<std::string, std::string>>& merges) {
  merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    joined.assign(left).append(right);
    int left_id = model_vocab_id(left), right_id = model_vocab_id(right), merged_id = model_vocab_id(joined);
    if (left_id < 0 || right_id < 0 || merged_id < 0) {
      const std::string& missing = left_id < 0 ? left : right_id < 0 ? right : joined;
      fail("{}: model.merges[{}] (\"{}\", \"{}\"): \"{}\" is not in model.vocab", source_.string(), rank, left, right,
           missing);
    }
    merges_.insert(left_id, right_id, static_cast<int>(rank), merged_id);
  }
  merges.clear();
  merges.shrink_to_fit();
}

void HfTokenizer::load_pipeline(const json& dom) {
  for (const json& step : flatten_sequence(dom.value("normalizer", json()), "normalizers")) {
    std::string type = step.value("type", "");
    if (type == "Replace") {
      normalizers_.push_back({TextRewrite::Kind::Replace, string_pattern(step, source_, "normalizer Replace"),
                              string_member(step, "content", source_, "normalizer Replace")});
    } else if (type == "Prepend") {
      normalizers_.push_back(
          {TextRewrite::Kind::Prepend, "", string_member(step, "prepend", source_, "normalizer Prepend")});
    } else {
      fail("{}: normalizer \"{}\" is not supported (only Replace and Prepend)", source_.string(), type);
    }
  }

  const json pre_tokenizer = dom.value("pre_tokenizer", json());
  if (!pre_tokenizer.is_null()) {
    std::string type = pre_tokenizer.value("type", "");
    if (type != "Split" || pre_tokenizer.value("behavior", "") != "MergedWithPrevious" ||
        pre_tokenizer.value("invert", false))
      fail("{}: pre_tokenizer {} is not supported (only Split with MergedWithPrevious)", source_.string(),
           pre_tokenizer.dump());
    split_pattern_ = string_pattern(pre_tokenizer, source_, "pre_tokenizer Split");
  }

  const json decoder = dom.value("decoder", json());
  has_decoder_ = !decoder.is_null();
  for (const json& step : flatten_sequence(decoder, "decoders")) {
    std::string type = step.value("type", "");
    DecodeStep decode_step;
    if (type == "Replace") {
      decode_step.kind = DecodeStep::Kind::Replace;
      decode_step.pattern = string_pattern(step, source_, "decoder Replace");
      decode_step.content = string_member(step, "content", source_, "decoder Replace");
    } else if (type == "ByteFallback") {
      decode_step.kind = DecodeStep::Kind::ByteFallback;
    } else if (type == "Fuse") {
      decode_step.kind = DecodeStep::Kind::Fuse;
    } else if (type == "Strip") {
      decode_step.kind = DecodeStep::Kind::Strip;
      decode_step.strip_char = string_member(step, "content", source_, "decoder Strip");
      // An empty content would make decode_strip loop start/stop times without advancing.
      if (decode_step.strip_char.empty() ||
          decode_utf8_at(decode_step.strip_char, 0).length != decode_step.strip_char.size())
        fail("{}: decoder Strip.content must be one character, got \"{}\"", source_.string(), decode_step.strip_char);
      decode_step.strip_start = strip_count(step, "start", source_);
      decode_step.strip_stop = strip_count(step, "stop", source_);
    } else {
      fail("{}: decoder \"{}\" is not supported (only Replace, ByteFallback, Fuse, Strip)", source_.string(), type);
    }
    decoder_.push_back(std::move(decode_step));
  }
}

// Names come from tokenizer_config.json when given, else Gemma's conventional names.
void HfTokenizer::load_special_tokens(std::string_view config_json) {
  json config = json::object();
  if (!config_json.empty()) {
    try {
      config = json::parse(config_json);
    } catch (const json::exception& e) {
      fail("{}: tokenizer_config.json beside it is not valid JSON: {}", source_.string(), e.what());
    }
    if (!config.is_object()) fail("{}: tokenizer_config.json beside it is not a JSON object", source_.string());
  }
  auto id_of = [&](const std::string& name) { return piece_to_id(name).value_or(-1); };
  auto configured_id = [&](const char* config_key, const char* default_name) {
    std::string name = token_name_from_config(config, config_key);
    return id_of(name.empty() ? default_name : name);
  };
  special_.bos = configured_id("bos_token", "<bos>");
  // Instruction-tuned configs name <end_of_turn> as eos_token (the chat stop token). The model's own
  // end-of-sequence stays <eos>, which tokenizer.model also calls EOS; <end_of_turn> is kept in
  // end_of_turn, so callers stop on both.
  special_.eos = id_of("<eos>") >= 0 ? id_of("<eos>") : configured_id("eos_token", "<eos>");
  special_.pad = configured_id("pad_token", "<pad>");
  special_.unk = model_unk_id_ >= 0 ? model_unk_id_ : configured_id("unk_token", "<unk>");
  special_.start_of_turn = id_of("<start_of_turn>");
  special_.end_of_turn = id_of("<end_of_turn>");
  special_.start_of_image = configured_id("boi_token", "<start_of_image>");
  special_.end_of_image = configured_id("eoi_token", "<end_of_image>");
  special_.image_soft_token = configured_id("image_token", "<image_soft_token>");
}

int HfTokenizer::model_vocab_id(std::string_view piece) const {
  int id = piece_ids_.find(piece);
  return id >= 0 && (id_flags_[id] & InModelVocab) ? id : -1;
}

std::unique_ptr<Tokenizer> load_hf_tokenizer(const fs::path& tokenizer_json) {
  fs::path path = follow_link_stub(tokenizer_json);
  std::string text = read_file(path);
  // tokenizer_config.json beside the path as given (a stub there is followed too), else beside the
  // file a stub led to.
  std::string config;
  for (const fs::path& folder : {tokenizer_json.parent_path(), path.parent_path()}) {
    fs::path config_path = follow_link_stub(folder / "tokenizer_config.json");
    std::error_code ec;
    if (fs::is_regular_file(config_path, ec)) {
      config = read_file(config_path);
      break;
    }
  }
  return std::make_unique<HfTokenizer>(text, config, path);
}

}  // namespace gemma
