#include "model/hf_tokenizer.h"

// The lookup tables behind HfTokenizer's encode (declared in hf_tokenizer.h): the added-token trie,
// the piece -> id index and the BPE merge table.
#include <algorithm>
#include <cstring>
#include <utility>

namespace gemma::hf_detail {

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

}  // namespace gemma::hf_detail
