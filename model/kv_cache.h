#pragma once
// Keys and values of every layer for the tokens seen so far, with each key's absolute position and
// whether it is a real token (false for padding). Masks are computed from positions, not indices,
// so left-padded batches, forked caches and incremental decoding share one rule.
//
// Storage is a per-layer buffer [B, nkv, capacity, hd] filled up to length(); appends copy into the
// buffer (amortised growth), so decoding N tokens costs O(N) copies rather than O(N^2). Each layer's
// buffer lives on that layer's device (pipeline stages); positions and validity on the first stage's.
#include <vector>

#include <torch/types.h>

namespace gemma {

class KVCache {
 public:
  KVCache() = default;
  KVCache(const std::vector<torch::Device>& layer_devices, torch::Device index_device, int64_t batch,
          int64_t num_kv_heads, int64_t head_dim, int64_t capacity, torch::ScalarType dtype);

  int64_t length() const { return length_; }
  int64_t batch() const { return batch_; }
  bool empty() const { return length_ == 0; }

  // Stores one layer's new keys/values [B, nkv, T, hd] after the current length; the length moves
  // on (by T) only in commit(), once every layer has appended.
  void append(int layer, const torch::Tensor& keys, const torch::Tensor& values);
  // Records the new tokens' positions [B, T] and validity [B, T], and advances the length by T.
  void commit(const torch::Tensor& positions, const torch::Tensor& valid);

  // Views of what is cached, including appended-but-uncommitted tokens of `layer`.
  torch::Tensor keys(int layer, int64_t pending) const;
  torch::Tensor values(int layer, int64_t pending) const;
  torch::Tensor key_positions() const { return positions_.narrow(1, 0, length_); }
  torch::Tensor key_valid() const { return valid_.narrow(1, 0, length_); }

  // Ensures room for `extra` more tokens (reallocating and copying if needed).
  void reserve(int64_t extra);

  // A cache whose batch rows are rows `index` of this one (copies); forks a shared prefix.
  KVCache select_rows(const torch::Tensor& index) const;

  int num_layers() const { return static_cast<int>(keys_.size()); }
  // Writable views [nkv, n, hd] of row `row`'s keys/values of `layer` at cache indices [from, from + n).
  torch::Tensor row_keys(int layer, int64_t row, int64_t from, int64_t n) const;
  torch::Tensor row_values(int layer, int64_t row, int64_t from, int64_t n) const;

  // Makes an empty cache hold a known prefix per row: row r's first lengths[r] indices are keys at
  // positions 0..lengths[r]-1 (the caller writes them through row_keys/row_values), its indices up to
  // max(lengths) padding. The next forward's tokens go after max(lengths) for every row.
  void start_with_prefixes(const std::vector<int64_t>& lengths);

  // Puts row `source_row` of `source` (same layers and heads) into row `row`, replacing what it held:
  // its keys go to indices [0, source.length()) (the cache lengthens with padding if it is shorter),
  // the row's remaining indices become padding. Continuous batching refills a finished row this way.
  void replace_row(int64_t row, const KVCache& source, int64_t source_row);

  // Moves every row's real keys to the front, in order, and shortens the cache to the longest row:
  // after rows were replaced, padding left behind would otherwise grow with every step.
  void compact();
  // Real (valid) keys of the row with the most of them.
  int64_t longest_row() const;

 private:
  std::vector<torch::Tensor> keys_, values_;  // per layer [B, nkv, capacity, hd]
  torch::Tensor positions_;                   // [B, capacity] int64
  torch::Tensor valid_;                       // [B, capacity] bool
  int64_t length_ = 0, batch_ = 0, capacity_ = 0;
};

}  // namespace gemma
