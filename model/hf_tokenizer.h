#pragma once
// A native reader of Hugging Face tokenizer.json for BPE tokenizers (Gemma 1/2/3), reproducing the
// `tokenizers` library exactly:
//   1. added tokens are cut out of the raw text first (leftmost-longest match), each becomes its id;
//   2. every other segment is normalized (Replace / Prepend), pre-tokenized (string Split) and
//      BPE-merged as one word, with byte fallback for characters missing from the vocabulary;
//   3. decoding runs the decoder chain (Replace, ByteFallback, Fuse, Strip).
// Anything else in a tokenizer.json (other models, regex patterns, lstrip/rstrip added tokens...) is
// rejected with a gemma::Error rather than silently tokenized differently.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/tokenizer.h"

namespace gemma {

namespace hf_detail {

// Finds added tokens in raw text: at the earliest position where any token matches, the longest
// token starting there wins (Aho-Corasick LeftmostLongest semantics, done with a byte trie).
class AddedTokenMatcher {
 public:
  void add(std::string_view content, int id);
  struct Match {
    size_t begin = 0, end = 0;
    int id = -1;
  };
  // The leftmost-longest match at or after `from`; id -1 when there is none.
  Match find(std::string_view text, size_t from) const;

 private:
  struct Node {
    int token_id = -1;
    std::vector<std::pair<unsigned char, int>> children;  // few per node: a linear scan is fastest
  };
  int child(int node, unsigned char byte) const;
  // The id and length of the longest token starting at text[pos], or {-1, 0}.
  std::pair<int, size_t> longest_at(std::string_view text, size_t pos) const;

  std::vector<Node> nodes_{Node{}};
  // The root is consulted at every byte of the text, so its children also get a direct table.
  std::vector<int> root_children_ = std::vector<int>(256, -1);
};

// (left id, right id) -> (rank, merged id), in a flat open-addressing table: BPE does one lookup per
// neighbouring pair, so this is the hot path of encoding.
class MergeTable {
 public:
  struct Entry {
    uint64_t key = kEmpty;
    int rank = 0;
    int merged_id = 0;
  };
  void reserve(size_t count);
  // A later merge of the same pair overwrites an earlier one, like the HashMap `tokenizers` builds.
  void insert(int left, int right, int rank, int merged_id);
  const Entry* find(int left, int right) const;
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t key_of(int left, int right) { return (uint64_t(uint32_t(left)) << 32) | uint32_t(right); }
  size_t slot_of(uint64_t key) const;
  std::vector<Entry> slots_;
  size_t size_ = 0;
};

// piece -> id over a vector of pieces owned elsewhere, open addressing with the hash stored beside
// the id: loading resolves ~1.5 million merge pieces, where std::unordered_map's node chasing cost
// a third of the load time.
class PieceIndex {
 public:
  // Indexes pieces[id] for every id where include(id); pieces must outlive the index unchanged.
  // Returns the first id whose piece was already indexed under another id, or -1.
  template <typename Include>
  int build(const std::vector<std::string>& pieces, Include include) {
    pieces_ = &pieces;
    size_t capacity = 16;
    while (capacity < pieces.size() * 2) capacity <<= 1;
    slots_.assign(capacity, Slot{});
    for (size_t id = 0; id < pieces.size(); ++id)
      if (include(id) && !insert(static_cast<int>(id))) return static_cast<int>(id);
    return -1;
  }
  int find(std::string_view piece) const;  // -1 when absent

 private:
  struct Slot {
    uint32_t hash = 0;
    int32_t id = -1;
  };
  bool insert(int id);
  static uint32_t hash_of(std::string_view text);
  const std::vector<std::string>* pieces_ = nullptr;
  std::vector<Slot> slots_;
};

struct TextRewrite {  // normalizer Replace / Prepend, decoder Replace
  enum class Kind { Replace, Prepend } kind = Kind::Replace;
  std::string pattern, content;
};

struct ParsedTokenizerJson;  // tokenizer.json as read by the streaming parser (hf_tokenizer_json.cpp)

struct DecodeStep {
  enum class Kind { Replace, ByteFallback, Fuse, Strip } kind = Kind::Replace;
  std::string pattern, content;  // Replace
  std::string strip_char;        // Strip: one UTF-8 character
  int strip_start = 0, strip_stop = 0;
};

}  // namespace hf_detail

class HfTokenizer final : public Tokenizer {
 public:
  // tokenizer_json: the file's text. config_json: tokenizer_config.json's text, or empty.
  // source: the file name used in messages and source_path().
  HfTokenizer(std::string_view tokenizer_json, std::string_view config_json, std::filesystem::path source);

  std::vector<int> encode(std::string_view text) const override;
  std::string decode(const std::vector<int>& ids, bool skip_special = true) const override;
  int vocab_size() const override { return static_cast<int>(pieces_.size()); }
  std::string piece(int id) const override;
  std::optional<int> piece_to_id(std::string_view piece) const override;
  bool is_special(int id) const override;
  std::string kind() const override { return "tokenizer.json"; }
  std::string source_path() const override { return source_.string(); }

  // Whether `id` is one of tokenizer.json's added_tokens (e.g. <image_soft_token>, "\n").
  bool is_added_token(int id) const;

 private:
  void load_vocabulary(hf_detail::ParsedTokenizerJson& parsed);
  void load_added_token(const nlohmann::json& token, size_t index);
  void load_model_options(const nlohmann::json& dom);
  void build_merges(std::vector<std::pair<std::string, std::string>>& merges);
  void load_pipeline(const nlohmann::json& dom);
  void load_special_tokens(std::string_view config_json);
  int model_vocab_id(std::string_view piece) const;  // -1 unless in model.vocab (not only an added token)

  void encode_segment(std::string_view segment, std::vector<int>& out) const;
  void bpe(std::string_view word, std::vector<int>& out) const;
  void initial_symbols(std::string_view word, std::vector<int>& ids) const;
  int char_id(std::string_view character) const;

  enum IdFlags : uint8_t { InModelVocab = 1, Added = 2, Special = 4 };  // bits of id_flags_

  std::filesystem::path source_;
  std::vector<std::string> pieces_;  // id -> piece
  std::vector<uint8_t> id_flags_;    // id -> in model.vocab | added | special; 0 = unused id
  hf_detail::PieceIndex piece_ids_;  // piece -> id, over pieces_
  int model_unk_id_ = -1;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  int byte_ids_[256];   // "<0xXX>" ids, -1 when absent
  int ascii_ids_[128];  // one-byte characters, -1 when absent (skips hashing for most text)
  hf_detail::MergeTable merges_;
  hf_detail::AddedTokenMatcher added_matcher_;
  std::vector<hf_detail::TextRewrite> normalizers_;
  std::string split_pattern_;  // pre_tokenizer Split delimiter; empty = no pre-tokenizer
  bool has_decoder_ = false;
  std::vector<hf_detail::DecodeStep> decoder_;
};

}  // namespace gemma
