#pragma once
// Keys and values of token prefixes, kept across requests so that a request runs only the tokens
// after its longest cached prefix (vLLM's automatic prefix caching, SGLang's RadixAttention).
//
// A trie over fixed-size blocks of token ids: a node is one block, its path from the root the whole
// prefix it ends, and it holds that block's keys and values for every layer, on the layer's device.
// A block's keys depend only on the tokens up to its end (attention is causal), so a block computed
// for one request serves any request that starts with the same tokens. Memory is bounded: when a new
// block does not fit, the least recently used leaf blocks go first.
//
// Requests with images never come here: the soft tokens of one image attend to each other both ways.
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "model/kv_cache.h"

namespace gemma {

struct PrefixCacheStats {
  int64_t bytes = 0;          // held now
  int64_t blocks = 0;         // held now
  int64_t stored_blocks = 0;  // ever stored
  int64_t evicted_blocks = 0;
  int64_t reused_tokens = 0;  // tokens handed out by load(): not run through the model again
};

class PrefixCache {
 public:
  // `capacity_bytes` <= 0 stores nothing (every match is empty).
  PrefixCache(int64_t capacity_bytes, int block_tokens = 16);
  ~PrefixCache();
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  int block_tokens() const { return block_tokens_; }
  int64_t capacity_bytes() const { return capacity_bytes_; }
  const PrefixCacheStats& stats() const { return stats_; }

  // Tokens of the longest cached prefix of `tokens`, in whole blocks and at most `limit`.
  int64_t match(const std::vector<int>& tokens, int64_t limit);

  // Writes the keys and values of tokens[0, length) (a length match() returned, with nothing stored
  // or evicted since) into row `row` of `cache`, at indices [0, length).
  void load(const std::vector<int>& tokens, int64_t length, KVCache& cache, int64_t row);

  // Stores the whole blocks of tokens[0, upto) that are not cached yet. Token t >= `first_token` has
  // its keys at index first_index + (t - first_token) of row `row` of `cache`; tokens before
  // `first_token` (block-aligned) must be cached already. Stops quietly when memory is full of
  // blocks that this prefix itself needs.
  void store(const std::vector<int>& tokens, int64_t upto, const KVCache& cache, int64_t row, int64_t first_token,
             int64_t first_index);

 private:
  struct Node;
  Node* child(Node* node, const std::vector<int>& tokens, int64_t block) const;
  bool make_room(int64_t bytes);
  void remove_leaf(Node* leaf);

  int64_t capacity_bytes_;
  int block_tokens_;
  std::unique_ptr<Node> root_;
  uint64_t clock_ = 0;  // ticks once per call; a node's last_use says when it was last on a path
  PrefixCacheStats stats_;
};

}  // namespace gemma
