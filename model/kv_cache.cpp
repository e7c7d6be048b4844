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
    keys_.push_back(torch::empty({batch, num_kv_heads, capacity_, head_dim}, options));
    values_.push_back(torch::empty({batch, num_kv_heads, capacity_, head_dim}, options));
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

torch::Tensor KVCache::keys(int layer, int64_t pending) const {
  return keys_[layer].narrow(2, 0, length_ + pending);
}

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

}  // namespace gemma
