#include "model/hf_tokenizer.h"

// HfTokenizer's encode (added tokens, normalizers, the Split pre-tokenizer, BPE with byte fallback)
// and decode (the decoder chain). Reading tokenizer.json is in hf_tokenizer_json.cpp.
#include <algorithm>
#include <functional>
#include <queue>
#include <utility>

#include "common/error.h"
#include "common/python_text.h"
#include "common/utf8.h"

namespace gemma {

using hf_detail::DecodeStep;
using hf_detail::TextRewrite;

namespace {

// The byte length of the UTF-8 character starting at text[pos]; an invalid byte counts as one
// character of its own (it then byte-falls-back to <0xXX>, so arbitrary bytes round-trip).
size_t utf8_char_length(std::string_view text, size_t pos) { return decode_utf8_at(text, pos).length; }

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

}  // namespace

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
    if (rewrite.kind == TextRewrite::Kind::Replace)
      normalized = replace_all(normalized, rewrite.pattern, rewrite.content);
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
  bool operator<(const QueuedMerge& other) const { return rank != other.rank ? rank > other.rank : pos > other.pos; }
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
    if (skip_special && (id_flags_[id] & Special)) continue;
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
      case DecodeStep::Kind::Replace:
        for (std::string& token : tokens) token = replace_all(token, step.pattern, step.content);
        break;
      case DecodeStep::Kind::ByteFallback:
        decode_byte_fallback(tokens);
        break;
      case DecodeStep::Kind::Fuse: {
        std::string fused;
        for (const std::string& token : tokens) fused += token;
        tokens.assign(1, std::move(fused));
        break;
      }
      case DecodeStep::Kind::Strip:
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

bool HfTokenizer::is_special(int id) const { return id >= 0 && id < vocab_size() && (id_flags_[id] & Special); }

bool HfTokenizer::is_added_token(int id) const { return id >= 0 && id < vocab_size() && (id_flags_[id] & Added); }

}  // namespace gemma
