#include "model/kv_cache.h"

#include <algorithm>

#include <torch/torch.h>

#include "common/error.h"

namespace gemma {

KVCache::KVCache(const std::vector<torch::Device>& layer_devices, torch::Device index_device, int64_t batch,
                 int64_t num_kv_heads, int64_t head_dim, int64_t capacity, torch::ScalarType dtype)
    : batch_(batch), capacity_(std::max<int64_t>(capacity, 1)) {
  for (const auto& device : layer_devices) {
    auto options = torch::TensorOptions().dtype(dtype).device(device);
    // Zeros, not empty(): padding keys a forward never writes (rows with shorter cached prefixes)
    // meet a zero probability in attention, and 0 * NaN from uninitialised memory would be NaN.
    keys_.push_back(torch::zeros({batch, num_kv_heads, capacity_, head_dim}, options));
    values_.push_back(torch::zeros({batch, num_kv_heads, capacity_, head_dim}, options));
  }
  auto index_options = torch::TensorOptions().device(index_device);
  positions_ = torch::zeros({batch, capacity_}, index_options.dtype(torch::kInt64));
  valid_ = torch::zeros({batch, capacity_}, index_options.dtype(torch::kBool));
}

void KVCache::reserve(int64_t extra) {
  int64_t needed = length_ + extra;
  if (needed <= capacity_) return;
  int64_t grown = std::max(needed, capacity_ * 2);
  auto grow = [&](torch::Tensor& buffer, int64_t dim) {
    auto sizes = buffer.sizes().vec();
    sizes[dim] = grown;
    auto bigger = torch::zeros(sizes, buffer.options());
    bigger.narrow(dim, 0, length_).copy_(buffer.narrow(dim, 0, length_));
    buffer = bigger;
  };
  for (auto& k : keys_) grow(k, 2);
  for (auto& v : values_) grow(v, 2);
  grow(positions_, 1);
  grow(valid_, 1);
  capacity_ = grown;
}

void KVCache::append(int layer, const torch::Tensor& keys, const torch::Tensor& values) {
  int64_t t = keys.size(2);
  if (length_ + t > capacity_) fail("internal: KV cache append past its reserved capacity");
  keys_[layer].narrow(2, length_, t).copy_(keys);
  values_[layer].narrow(2, length_, t).copy_(values);
}

void KVCache::commit(const torch::Tensor& positions, const torch::Tensor& valid) {
  int64_t t = positions.size(1);
  positions_.narrow(1, length_, t).copy_(positions);
  valid_.narrow(1, length_, t).copy_(valid);
  length_ += t;
}

torch::Tensor KVCache::keys(int layer, int64_t pending) const { return keys_[layer].narrow(2, 0, length_ + pending); }

torch::Tensor KVCache::values(int layer, int64_t pending) const {
  return values_[layer].narrow(2, 0, length_ + pending);
}

KVCache KVCache::select_rows(const torch::Tensor& index) const {
  KVCache forked;
  auto rows = index.to(positions_.device(), torch::kInt64);
  for (const auto& k : keys_) forked.keys_.push_back(k.index_select(0, rows.to(k.device())));
  for (const auto& v : values_) forked.values_.push_back(v.index_select(0, rows.to(v.device())));
  forked.positions_ = positions_.index_select(0, rows);
  forked.valid_ = valid_.index_select(0, rows);
  forked.length_ = length_;
  forked.batch_ = rows.size(0);
  forked.capacity_ = capacity_;
  return forked;
}

torch::Tensor KVCache::row_keys(int layer, int64_t row, int64_t from, int64_t n) const {
  return keys_[layer].select(0, row).narrow(1, from, n);
}

torch::Tensor KVCache::row_values(int layer, int64_t row, int64_t from, int64_t n) const {
  return values_[layer].select(0, row).narrow(1, from, n);
}

void KVCache::start_with_prefixes(const std::vector<int64_t>& lengths) {
  if (length_ != 0) fail("internal: start_with_prefixes on a cache that already holds tokens");
  if (static_cast<int64_t>(lengths.size()) != batch_)
    fail("internal: {} prefix lengths for a cache of {} rows", lengths.size(), batch_);
  const int64_t longest = lengths.empty() ? 0 : *std::max_element(lengths.begin(), lengths.end());
  reserve(longest);
  auto index = torch::arange(longest, torch::kInt64);
  auto row_lengths = torch::tensor(lengths, torch::kInt64).unsqueeze(1);
  positions_.narrow(1, 0, longest).copy_(index.unsqueeze(0).expand({batch_, longest}));
  valid_.narrow(1, 0, longest).copy_(index.unsqueeze(0).lt(row_lengths));
  length_ = longest;
}

void KVCache::replace_row(int64_t row, const KVCache& source, int64_t source_row) {
  if (source.num_layers() != num_layers()) fail("internal: replace_row between caches of different models");
  const int64_t n = source.length_;
  if (n > length_) {  // lengthen every row with padding
    reserve(n - length_);
    valid_.narrow(1, length_, n - length_).fill_(false);
    positions_.narrow(1, length_, n - length_).fill_(0);
    length_ = n;
  }
  for (int layer = 0; layer < num_layers(); ++layer) {
    row_keys(layer, row, 0, n).copy_(source.row_keys(layer, source_row, 0, n));
    row_values(layer, row, 0, n).copy_(source.row_values(layer, source_row, 0, n));
  }
  positions_[row].narrow(0, 0, n).copy_(source.positions_[source_row].narrow(0, 0, n));
  valid_[row].narrow(0, 0, n).copy_(source.valid_[source_row].narrow(0, 0, n));
  valid_[row].narrow(0, n, length_ - n).fill_(false);
}

int64_t KVCache::longest_row() const {
  if (length_ == 0) return 0;
  return key_valid().sum(1).max().item<int64_t>();
}

void KVCache::compact() {
  if (length_ == 0) return;
  auto valid = key_valid();
  const int64_t longest = valid.sum(1).max().item<int64_t>();
  if (longest == length_) return;
  // A stable sort of "not valid" puts each row's real keys first, in their order.
  auto order =
      std::get<1>(valid.logical_not().to(torch::kInt32).sort(/*stable=*/true, /*dim=*/1, /*descending=*/false));
  auto keep = order.narrow(1, 0, longest);  // [B, longest]
  for (size_t layer = 0; layer < keys_.size(); ++layer) {
    auto index = keep.to(keys_[layer].device())
                     .view({batch_, 1, longest, 1})
                     .expand({batch_, keys_[layer].size(1), longest, keys_[layer].size(3)});
    auto moved_keys = keys(static_cast<int>(layer), 0).gather(2, index);
    auto moved_values = values(static_cast<int>(layer), 0).gather(2, index);
    keys_[layer].narrow(2, 0, longest).copy_(moved_keys);
    values_[layer].narrow(2, 0, longest).copy_(moved_values);
  }
  auto moved_positions = key_positions().gather(1, keep), moved_valid = valid.gather(1, keep);
  positions_.narrow(1, 0, longest).copy_(moved_positions);
  valid_.narrow(1, 0, longest).copy_(moved_valid);
  length_ = longest;
}

}  // namespace gemma
