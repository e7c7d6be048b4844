#include "model/prefix_cache.h"

#include <torch/torch.h>

#include "common/error.h"

namespace gemma {

struct PrefixCache::Node {
  Node* parent = nullptr;
  std::vector<int> block;  // this node's tokens: its key among its parent's children
  std::map<std::vector<int>, std::unique_ptr<Node>> children;
  std::vector<torch::Tensor> keys, values;  // per layer [nkv, block_tokens, hd]
  int64_t bytes = 0;
  uint64_t last_use = 0;
};

PrefixCache::PrefixCache(int64_t capacity_bytes, int block_tokens)
    : capacity_bytes_(capacity_bytes), block_tokens_(block_tokens), root_(std::make_unique<Node>()) {
  if (block_tokens_ <= 0) fail("internal: prefix cache blocks of {} tokens", block_tokens_);
}

PrefixCache::~PrefixCache() = default;

PrefixCache::Node* PrefixCache::child(Node* node, const std::vector<int>& tokens, int64_t block) const {
  const auto first = tokens.begin() + block * block_tokens_;
  auto found = node->children.find(std::vector<int>(first, first + block_tokens_));
  return found == node->children.end() ? nullptr : found->second.get();
}

int64_t PrefixCache::match(const std::vector<int>& tokens, int64_t limit) {
  ++clock_;
  limit = std::min<int64_t>(limit, static_cast<int64_t>(tokens.size()));
  Node* node = root_.get();
  int64_t matched = 0;
  for (int64_t block = 0; (block + 1) * block_tokens_ <= limit; ++block) {
    node = child(node, tokens, block);
    if (!node) break;
    node->last_use = clock_;
    matched += block_tokens_;
  }
  return matched;
}

void PrefixCache::load(const std::vector<int>& tokens, int64_t length, KVCache& cache, int64_t row) {
  if (length == 0) return;
  std::vector<Node*> path;
  Node* node = root_.get();
  for (int64_t block = 0; block * block_tokens_ < length; ++block) {
    node = child(node, tokens, block);
    if (!node) fail("internal: prefix cache lost a block between match and load");
    path.push_back(node);
  }
  for (int layer = 0; layer < cache.num_layers(); ++layer) {
    std::vector<torch::Tensor> keys, values;
    for (Node* n : path) keys.push_back(n->keys[layer]), values.push_back(n->values[layer]);
    cache.row_keys(layer, row, 0, length).copy_(torch::cat(keys, 1));
    cache.row_values(layer, row, 0, length).copy_(torch::cat(values, 1));
  }
  stats_.reused_tokens += length;
}

void PrefixCache::store(const std::vector<int>& tokens, int64_t upto, const KVCache& cache, int64_t row,
                        int64_t first_token, int64_t first_index) {
  if (capacity_bytes_ <= 0) return;
  if (first_token % block_tokens_ != 0)
    fail("internal: prefix cache store from token {}, not a block start", first_token);
  ++clock_;
  upto = std::min<int64_t>(upto, static_cast<int64_t>(tokens.size()));
  Node* node = root_.get();
  for (int64_t block = 0; (block + 1) * block_tokens_ <= upto; ++block) {
    if (Node* existing = child(node, tokens, block)) {
      node = existing;
      node->last_use = clock_;
      continue;
    }
    const int64_t start = block * block_tokens_;
    if (start < first_token) return;  // an earlier block was evicted: this prefix cannot grow now
    auto created = std::make_unique<Node>();
    created->parent = node;
    created->block.assign(tokens.begin() + start, tokens.begin() + start + block_tokens_);
    for (int layer = 0; layer < cache.num_layers(); ++layer) {
      const int64_t index = first_index + (start - first_token);
      created->keys.push_back(cache.row_keys(layer, row, index, block_tokens_).clone());
      created->values.push_back(cache.row_values(layer, row, index, block_tokens_).clone());
      created->bytes += 2 * created->keys.back().numel() * created->keys.back().element_size();
    }
    if (!make_room(created->bytes)) return;
    created->last_use = clock_;
    stats_.bytes += created->bytes, ++stats_.blocks, ++stats_.stored_blocks;
    Node* raw = created.get();
    node->children.emplace(created->block, std::move(created));
    node = raw;
  }
}

bool PrefixCache::make_room(int64_t bytes) {
  while (stats_.bytes + bytes > capacity_bytes_) {
    // The least recently used leaf not on the current call's path. A linear scan: the cache holds
    // thousands of blocks at most, and it runs only when memory is full.
    Node* oldest = nullptr;
    std::vector<Node*> pending = {root_.get()};
    while (!pending.empty()) {
      Node* n = pending.back();
      pending.pop_back();
      for (auto& [_, c] : n->children) pending.push_back(c.get());
      if (n != root_.get() && n->children.empty() && n->last_use < clock_ &&
          (!oldest || n->last_use < oldest->last_use))
        oldest = n;
    }
    if (!oldest) return false;
    remove_leaf(oldest);
  }
  return true;
}

void PrefixCache::remove_leaf(Node* leaf) {
  stats_.bytes -= leaf->bytes, --stats_.blocks, ++stats_.evicted_blocks;
  const std::vector<int> key = leaf->block;  // erase destroys the node that holds it
  leaf->parent->children.erase(key);
}

}  // namespace gemma
