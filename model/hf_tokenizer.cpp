#include "model/hf_tokenizer.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <queue>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"

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
    if (mode_ == Mode::kMerges) return add_merge_string(value);
    if (mode_ == Mode::kVocab) fail("{}: model.vocab[\"{}\"] must be an integer id", source_.string(), key_);
    return add_value(std::move(value));
  }

  bool key(string_t& value) override {
    key_ = std::move(value);
    return true;
  }

  bool start_object(std::size_t) override {
    if (mode_ == Mode::kVocab) fail("{}: model.vocab[\"{}\"] must be an integer id", source_.string(), key_);
    if (mode_ == Mode::kMerges) fail("{}: model.merges entries must be [a, b] or \"a b\"", source_.string());
    if (opening_model_member("vocab")) {
      mode_ = Mode::kVocab;
      out_.has_vocab = true;
      return true;
    }
    return open_container(json::object());
  }

  bool end_object() override {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kDom;
      return true;
    }
    open_.pop_back();
    return true;
  }

  bool start_array(std::size_t) override {
    if (mode_ == Mode::kVocab) fail("{}: model.vocab[\"{}\"] must be an integer id", source_.string(), key_);
    if (mode_ == Mode::kMerges) {
      if (merge_depth_ != 0) fail("{}: model.merges entries must be [a, b] or \"a b\"", source_.string());
      merge_depth_ = 1;
      merge_parts_.clear();
      return true;
    }
    if (opening_model_member("merges")) {
      mode_ = Mode::kMerges;
      merge_depth_ = 0;
      out_.has_merges = true;
      return true;
    }
    return open_container(json::array());
  }

  bool end_array() override {
    if (mode_ == Mode::kMerges) return end_merges_array();
    open_.pop_back();
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& error) override {
    fail("{}: invalid JSON near byte {}: {}", source_.string(), position, error.what());
  }

 private:
  enum class Mode { kDom, kVocab, kMerges };

  // True when the container about to open is the value of `member` inside the top-level "model".
  bool opening_model_member(const char* member) const {
    return open_.size() == 2 && open_keys_[1] == "model" && open_[1]->is_object() && key_ == member;
  }

  bool add_number(long long value) {
    if (mode_ == Mode::kVocab) {
      out_.vocab.emplace_back(std::move(key_), value);
      return true;
    }
    if (mode_ == Mode::kMerges) fail("{}: model.merges entries must be [a, b] or \"a b\"", source_.string());
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
    if (mode_ == Mode::kVocab) fail("{}: model.vocab[\"{}\"] must be an integer id", source_.string(), key_);
    if (mode_ == Mode::kMerges) fail("{}: model.merges entries must be [a, b] or \"a b\"", source_.string());
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
      mode_ = Mode::kDom;
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
  Mode mode_ = Mode::kDom;
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

// ---------------------------------------------------------------------------------------------
// AddedTokenMatcher
// ---------------------------------------------------------------------------------------------
void AddedTokenMatcher::add(std::string_view content, int id) {
  int node = 0;
  for (unsigned char byte : content) {
    int next = child(node, byte);
    if (next < 0) {
      next = static_cast<int>(nodes_.size());
      nodes_[node].children.emplace_back(byte, next);
      if (node == 0) root_children_[byte] = next;
      nodes_.emplace_back();
    }
    node = next;
  }
  nodes_[node].token_id = id;
}

int AddedTokenMatcher::child(int node, unsigned char byte) const {
  if (node == 0) return root_children_[byte];
  for (const auto& [b, next] : nodes_[node].children)
    if (b == byte) return next;
  return -1;
}

std::pair<int, size_t> AddedTokenMatcher::longest_at(std::string_view text, size_t pos) const {
  std::pair<int, size_t> best{-1, 0};
  int node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    node = child(node, static_cast<unsigned char>(text[i]));
    if (node < 0) break;
    if (nodes_[node].token_id >= 0) best = {nodes_[node].token_id, i + 1 - pos};
  }
  return best;
}

AddedTokenMatcher::Match AddedTokenMatcher::find(std::string_view text, size_t from) const {
  for (size_t pos = from; pos < text.size(); ++pos) {
    if (root_children_[static_cast<unsigned char>(text[pos])] < 0) continue;
    auto [id, length] = longest_at(text, pos);
    if (id >= 0) return Match{pos, pos + length, id};
  }
  return Match{text.size(), text.size(), -1};
}

// ---------------------------------------------------------------------------------------------
// PieceIndex
// ---------------------------------------------------------------------------------------------
uint32_t PieceIndex::hash_of(std::string_view text) {
  // 8 bytes at a time, multiply-xorshift mixing: pieces are short, so speed beats hash quality here.
  uint64_t h = 0x9e3779b97f4a7c15ull ^ text.size();
  size_t pos = 0;
  for (; pos + 8 <= text.size(); pos += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + pos, 8);
    h = (h ^ word) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  if (pos < text.size()) std::memcpy(&tail, text.data() + pos, text.size() - pos);
  h = (h ^ tail) * 0x94d049bb133111ebull;
  h ^= h >> 32;
  return static_cast<uint32_t>(h);
}

bool PieceIndex::insert(int id) {
  std::string_view piece = (*pieces_)[id];
  uint32_t hash = hash_of(piece);
  for (size_t slot = hash & (slots_.size() - 1);; slot = (slot + 1) & (slots_.size() - 1)) {
    Slot& s = slots_[slot];
    if (s.id < 0) {
      s = Slot{hash, id};
      return true;
    }
    if (s.hash == hash && (*pieces_)[s.id] == piece) return false;
  }
}

int PieceIndex::find(std::string_view piece) const {
  if (slots_.empty()) return -1;
  uint32_t hash = hash_of(piece);
  for (size_t slot = hash & (slots_.size() - 1);; slot = (slot + 1) & (slots_.size() - 1)) {
    const Slot& s = slots_[slot];
    if (s.id < 0) return -1;
    if (s.hash == hash && (*pieces_)[s.id] == piece) return s.id;
  }
}

// ---------------------------------------------------------------------------------------------
// MergeTable
// ---------------------------------------------------------------------------------------------
void MergeTable::reserve(size_t count) {
  size_t capacity = 16;
  while (capacity * 7 < count * 10) capacity <<= 1;  // load factor <= 0.7: short probes, 16 MB for Gemma
  slots_.assign(capacity, Entry{});
  size_ = 0;
}

size_t MergeTable::slot_of(uint64_t key) const {
  // splitmix64 finalizer: ids are small and dense, so they need mixing before masking.
  uint64_t h = key + 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<size_t>(h) & (slots_.size() - 1);
}

void MergeTable::insert(int left, int right, int rank, int merged_id) {
  if (slots_.empty() || (size_ + 1) * 10 > slots_.size() * 7) {
    std::vector<Entry> old = std::move(slots_);
    reserve(std::max<size_t>(size_ + 1, old.size()));
    for (const Entry& e : old)
      if (e.key != kEmpty) insert(int(e.key >> 32), int(uint32_t(e.key)), e.rank, e.merged_id);
  }
  uint64_t key = key_of(left, right);
  for (size_t slot = slot_of(key);; slot = (slot + 1) & (slots_.size() - 1)) {
    Entry& e = slots_[slot];
    if (e.key == kEmpty) ++size_;
    if (e.key == kEmpty || e.key == key) {
      e = Entry{key, rank, merged_id};
      return;
    }
  }
}

const MergeTable::Entry* MergeTable::find(int left, int right) const {
  if (slots_.empty()) return nullptr;
  uint64_t key = key_of(left, right);
  for (size_t slot = slot_of(key);; slot = (slot + 1) & (slots_.size() - 1)) {
    const Entry& e = slots_[slot];
    if (e.key == key) return &e;
    if (e.key == kEmpty) return nullptr;
  }
}

}  // namespace hf_detail

using hf_detail::DecodeStep;
using hf_detail::ParsedTokenizerJson;
using hf_detail::TextRewrite;

namespace {

enum IdFlags : uint8_t { kInModelVocab = 1, kAdded = 2, kSpecial = 4 };
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

void replace_all(std::string& text, std::string_view pattern, std::string_view content) {
  if (text.find(pattern) == std::string::npos) return;
  std::string result;
  result.reserve(text.size() + text.size() / 2);
  size_t pos = 0;
  for (size_t hit; (hit = text.find(pattern, pos)) != std::string::npos; pos = hit + pattern.size()) {
    result.append(text, pos, hit - pos);
    result.append(content);
  }
  result.append(text, pos, std::string::npos);
  text = std::move(result);
}

// The byte length of the UTF-8 character starting at text[pos]; an invalid byte counts as one
// character of its own (it then byte-falls-back to <0xXX>, so arbitrary bytes round-trip).
size_t utf8_char_length(std::string_view text, size_t pos) {
  unsigned char lead = static_cast<unsigned char>(text[pos]);
  size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || pos + length > text.size()) return 1;
  for (size_t i = 1; i < length; ++i)
    if ((static_cast<unsigned char>(text[pos + i]) & 0xC0) != 0x80) return 1;
  return length;
}

bool is_valid_utf8(std::string_view bytes) {
  for (size_t pos = 0; pos < bytes.size();) {
    unsigned char lead = static_cast<unsigned char>(bytes[pos]);
    size_t length = utf8_char_length(bytes, pos);
    if (length == 1 && lead >= 0x80) return false;
    if (length > 1) {
      // Reject overlong forms, surrogates and code points above U+10FFFF, as Rust's from_utf8 does.
      unsigned char second = static_cast<unsigned char>(bytes[pos + 1]);
      if (lead == 0xC0 || lead == 0xC1 || lead > 0xF4) return false;
      if (lead == 0xE0 && second < 0xA0) return false;
      if (lead == 0xED && second > 0x9F) return false;
      if (lead == 0xF0 && second < 0x90) return false;
      if (lead == 0xF4 && second > 0x8F) return false;
    }
    pos += length;
  }
  return true;
}

// "<0xAB>" -> 0xAB, as the ByteFallback decoder recognises byte tokens; -1 for other tokens.
int byte_token_value(std::string_view token) {
  if (token.size() != 6 || token.substr(0, 3) != "<0x" || token[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int high = hex(token[3]), low = hex(token[4]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

// ---- decoder steps, each over the whole token list like `tokenizers`' decode_chain ----

void decode_byte_fallback(std::vector<std::string>& tokens) {
  std::vector<std::string> result;
  result.reserve(tokens.size());
  std::string bytes;
  auto flush_bytes = [&] {
    if (bytes.empty()) return;
    if (is_valid_utf8(bytes)) {
      result.push_back(bytes);
    } else {
      // An invalid group becomes one U+FFFD per byte (tokenizers' ByteFallback).
      for (size_t i = 0; i < bytes.size(); ++i) result.emplace_back("\xEF\xBF\xBD");
    }
    bytes.clear();
  };
  for (std::string& token : tokens) {
    int byte = byte_token_value(token);
    if (byte >= 0) {
      bytes.push_back(static_cast<char>(byte));
      continue;
    }
    flush_bytes();
    result.push_back(std::move(token));
  }
  flush_bytes();
  tokens = std::move(result);
}

// Removes up to `start` leading and `stop` trailing copies of one character from every token.
void decode_strip(std::vector<std::string>& tokens, const std::string& character, int start, int stop) {
  for (std::string& token : tokens) {
    size_t begin = 0, end = token.size();
    for (int i = 0; i < start && token.compare(begin, character.size(), character) == 0 && begin < end; ++i)
      begin += character.size();
    for (int i = 0; i < stop && end >= begin + character.size() &&
                    token.compare(end - character.size(), character.size(), character) == 0;
         ++i)
      end -= character.size();
    token = token.substr(begin, end - begin);
  }
}

// The Split pre-tokenizer with behavior MergedWithPrevious: each delimiter is appended to the piece
// before it, unless that piece is itself a delimiter (or there is none), as in `tokenizers`.
std::vector<std::pair<size_t, size_t>> split_merged_with_previous(std::string_view text, std::string_view delimiter) {
  std::vector<std::pair<size_t, size_t>> pieces;
  bool previous_was_delimiter = false;
  auto add_span = [&](size_t begin, size_t end, bool is_delimiter) {
    if (is_delimiter && !previous_was_delimiter && !pieces.empty())
      pieces.back().second = end;
    else
      pieces.emplace_back(begin, end);
    previous_was_delimiter = is_delimiter;
  };
  size_t pos = 0;
  for (size_t hit; (hit = text.find(delimiter, pos)) != std::string_view::npos; pos = hit + delimiter.size()) {
    if (hit > pos) add_span(pos, hit, false);
    add_span(hit, hit + delimiter.size(), true);
  }
  if (pos < text.size()) add_span(pos, text.size(), false);
  return pieces;
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
    return id >= id_limit ? fmt::format(" (ids must be below {}: with {} entries in model.vocab and added_tokens, "
                                        "a larger id would leave most ids unused)", id_limit, token_count)
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
    if (id_flags_[id] & kInModelVocab)
      fail("{}: model.vocab gives id {} to both \"{}\" and \"{}\"", source_.string(), id, pieces_[id], piece);
    pieces_[id] = std::move(piece);
    id_flags_[id] |= kInModelVocab;
  }
  parsed.vocab.clear();
  for (size_t i = 0; i < added.size(); ++i) load_added_token(added[i], i);

  int duplicate = piece_ids_.build(pieces_, [&](size_t id) { return id_flags_[id] != 0; });
  if (duplicate >= 0)
    fail("{}: piece \"{}\" has two ids, {} and {}", source_.string(), pieces_[duplicate],
         piece_ids_.find(pieces_[duplicate]), duplicate);
  for (size_t id = 0; id < pieces_.size(); ++id)
    if (id_flags_[id] & kAdded) added_matcher_.add(pieces_[id], static_cast<int>(id));
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
      fail("{}: {} (\"{}\") sets {}=true, which this tokenizer does not implement", source_.string(), where,
           content, option);
  if ((id_flags_[id] & kInModelVocab) && pieces_[id] != content)
    fail("{}: {} \"{}\" has id {}, which model.vocab gives to \"{}\"", source_.string(), where, content, id,
         pieces_[id]);
  pieces_[id] = std::move(content);
  id_flags_[id] |= kAdded;
  if (bool_member(token, "special", false, source_, where)) id_flags_[id] |= kSpecial;
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
      fail("{}: model.merges[{}] (\"{}\", \"{}\"): \"{}\" is not in model.vocab", source_.string(), rank, left,
           right, missing);
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
      normalizers_.push_back({TextRewrite::Kind::kReplace, string_pattern(step, source_, "normalizer Replace"),
                              string_member(step, "content", source_, "normalizer Replace")});
    } else if (type == "Prepend") {
      normalizers_.push_back({TextRewrite::Kind::kPrepend, "", string_member(step, "prepend", source_, "normalizer Prepend")});
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
      decode_step.kind = DecodeStep::Kind::kReplace;
      decode_step.pattern = string_pattern(step, source_, "decoder Replace");
      decode_step.content = string_member(step, "content", source_, "decoder Replace");
    } else if (type == "ByteFallback") {
      decode_step.kind = DecodeStep::Kind::kByteFallback;
    } else if (type == "Fuse") {
      decode_step.kind = DecodeStep::Kind::kFuse;
    } else if (type == "Strip") {
      decode_step.kind = DecodeStep::Kind::kStrip;
      decode_step.strip_char = string_member(step, "content", source_, "decoder Strip");
      // An empty content would make decode_strip loop start/stop times without advancing.
      if (decode_step.strip_char.empty() || utf8_char_length(decode_step.strip_char, 0) != decode_step.strip_char.size())
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
  return id >= 0 && (id_flags_[id] & kInModelVocab) ? id : -1;
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------
std::vector<int> HfTokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  ids.reserve(text.size() / 3 + 4);
  for (size_t pos = 0; pos <= text.size();) {
    auto match = added_matcher_.find(text, pos);
    if (match.begin > pos) encode_segment(text.substr(pos, match.begin - pos), ids);
    if (match.id < 0) break;
    ids.push_back(match.id);
    pos = match.end;
  }
  return ids;
}

void HfTokenizer::encode_segment(std::string_view segment, std::vector<int>& out) const {
  std::string normalized(segment);
  for (const TextRewrite& rewrite : normalizers_) {
    if (rewrite.kind == TextRewrite::Kind::kReplace)
      replace_all(normalized, rewrite.pattern, rewrite.content);
    else if (!normalized.empty())
      normalized.insert(0, rewrite.content);
  }
  if (split_pattern_.empty()) {
    bpe(normalized, out);
    return;
  }
  for (const auto& [begin, end] : split_merged_with_previous(normalized, split_pattern_))
    bpe(std::string_view(normalized).substr(begin, end - begin), out);
}

int HfTokenizer::char_id(std::string_view character) const {
  if (character.size() == 1 && static_cast<unsigned char>(character[0]) < 128)
    return ascii_ids_[static_cast<unsigned char>(character[0])];
  return model_vocab_id(character);
}

// The initial BPE symbols of a word, as tokenizers' BPE::merge_word builds them: one per character,
// a missing character as its <0xXX> byte tokens, else <unk> (consecutive unknowns fused if fuse_unk).
void HfTokenizer::initial_symbols(std::string_view word, std::vector<int>& ids) const {
  int pending_unk_length = 0;  // > 0: an <unk> waiting to be emitted
  auto flush_unk = [&] {
    if (pending_unk_length > 0) ids.push_back(model_unk_id_);
    pending_unk_length = 0;
  };
  for (size_t pos = 0; pos < word.size();) {
    size_t length = utf8_char_length(word, pos);
    std::string_view character = word.substr(pos, length);
    pos += length;
    int id = char_id(character);
    if (id >= 0) {
      flush_unk();
      ids.push_back(id);
      continue;
    }
    if (byte_fallback_ && std::all_of(character.begin(), character.end(),
                                      [&](char b) { return byte_ids_[static_cast<unsigned char>(b)] >= 0; })) {
      // tokenizers adds the byte tokens without flushing a pending <unk> first; kept identical.
      for (char b : character) ids.push_back(byte_ids_[static_cast<unsigned char>(b)]);
      continue;
    }
    if (model_unk_id_ < 0) continue;  // no <unk>: the character is dropped, as in tokenizers
    if (pending_unk_length > 0 && !fuse_unk_) flush_unk();
    pending_unk_length += static_cast<int>(length);
  }
  flush_unk();
}

namespace {
struct Symbol {
  int id;
  int prev, next;  // neighbours in the linked list, -1 at the ends
  bool removed;
};
struct QueuedMerge {
  int rank, pos, merged_id;
  // std::priority_queue pops the largest: "larger" here means lower rank, then leftmost position.
  bool operator<(const QueuedMerge& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};
}  // namespace

// tokenizers' Word::merge_all: repeatedly merge the pair with the lowest rank (leftmost on ties),
// with a priority queue over a linked list of symbols; queue entries made stale by earlier merges
// are skipped when popped. O(n log n) in the word length, which matters: with no whitespace
// pre-tokenization, a whole paragraph is one word.
void HfTokenizer::bpe(std::string_view word, std::vector<int>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    int whole = model_vocab_id(word);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  std::vector<int> initial;
  initial.reserve(word.size());
  initial_symbols(word, initial);
  if (initial.size() <= 1) {
    out.insert(out.end(), initial.begin(), initial.end());
    return;
  }

  const int count = static_cast<int>(initial.size());
  std::vector<Symbol> symbols(count);
  std::vector<QueuedMerge> heap_storage;
  heap_storage.reserve(count);
  std::priority_queue<QueuedMerge> queue(std::less<QueuedMerge>(), std::move(heap_storage));
  for (int i = 0; i < count; ++i) symbols[i] = Symbol{initial[i], i - 1, i + 1 < count ? i + 1 : -1, false};
  auto queue_pair = [&](int pos) {
    int next = symbols[pos].next;
    if (next < 0) return;
    if (const auto* merge = merges_.find(symbols[pos].id, symbols[next].id))
      queue.push(QueuedMerge{merge->rank, pos, merge->merged_id});
  };
  for (int i = 0; i + 1 < count; ++i) queue_pair(i);

  while (!queue.empty()) {
    QueuedMerge top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.removed || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    // Stale when the pair at this position changed since it was queued (tokenizers compares the
    // merged id only, and so does this).
    const auto* current = merges_.find(left.id, right.id);
    if (current == nullptr || current->merged_id != top.merged_id) continue;

    left.id = top.merged_id;
    right.removed = true;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    if (left.prev >= 0) queue_pair(left.prev);
    queue_pair(top.pos);
  }
  for (int i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);  // symbol 0 is never removed
}

// ---------------------------------------------------------------------------------------------
// Decoding and lookups
// ---------------------------------------------------------------------------------------------
std::string HfTokenizer::decode(const std::vector<int>& ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int id : ids) {
    if (id < 0 || id >= vocab_size() || id_flags_[id] == 0) continue;  // unknown ids are dropped, as in tokenizers
    if (skip_special && (id_flags_[id] & kSpecial)) continue;
    tokens.push_back(pieces_[id]);
  }
  if (!has_decoder_) {
    // tokenizers joins with spaces when tokenizer.json has no decoder.
    std::string text;
    for (size_t i = 0; i < tokens.size(); ++i) text.append(i ? " " : "").append(tokens[i]);
    return text;
  }
  for (const DecodeStep& step : decoder_) {
    switch (step.kind) {
      case DecodeStep::Kind::kReplace:
        for (std::string& token : tokens) replace_all(token, step.pattern, step.content);
        break;
      case DecodeStep::Kind::kByteFallback:
        decode_byte_fallback(tokens);
        break;
      case DecodeStep::Kind::kFuse: {
        std::string fused;
        for (const std::string& token : tokens) fused += token;
        tokens.assign(1, std::move(fused));
        break;
      }
      case DecodeStep::Kind::kStrip:
        decode_strip(tokens, step.strip_char, step.strip_start, step.strip_stop);
        break;
    }
  }
  std::string text;
  for (const std::string& token : tokens) text += token;
  return text;
}

std::string HfTokenizer::piece(int id) const {
  if (id < 0 || id >= vocab_size() || id_flags_[id] == 0)
    fail("token id {} is not in the vocabulary of {} ({} ids)", id, source_.string(), vocab_size());
  return pieces_[id];
}

std::optional<int> HfTokenizer::piece_to_id(std::string_view piece) const {
  int id = piece_ids_.find(piece);
  if (id < 0) return std::nullopt;
  return id;
}

bool HfTokenizer::is_special(int id) const {
  return id >= 0 && id < vocab_size() && (id_flags_[id] & kSpecial);
}

bool HfTokenizer::is_added_token(int id) const {
  return id >= 0 && id < vocab_size() && (id_flags_[id] & kAdded);
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
