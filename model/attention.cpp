#include "model/attention.h"

#include <algorithm>
#include <limits>

#include <torch/torch.h>

#include "common/error.h"
#include "model/kernels/bf16_decode_attention.h"

namespace gemma {
namespace {

using torch::Tensor;

constexpr int64_t kMaxPosition = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinPosition = std::numeric_limits<int64_t>::min();

enum class Reduce { Min, Max, Sum };

// Reduces [B, N] over the batch and over consecutive runs of `block` columns: [ceil(N / block)] int64.
// The last, short block is padded with `fill`, which must not change the reduction.
Tensor per_block(const Tensor& x, int64_t block, int64_t fill, Reduce reduce) {
  const int64_t B = x.size(0), N = x.size(1), blocks = (N + block - 1) / block;
  auto padded = x.to(torch::kInt64);
  if (blocks * block > N)
    padded = torch::cat({padded, torch::full({B, blocks * block - N}, fill, padded.options())}, 1);
  auto grouped = padded.view({B, blocks, block});
  if (reduce == Reduce::Sum) return grouped.sum(torch::IntArrayRef{0, 2});
  return reduce == Reduce::Max ? grouped.amax({0, 2}) : grouped.amin({0, 2});
}

// [B, tq, tk] bool: the key is hidden from the query (the complement of visibility, as masked_fill wants).
Tensor hidden_keys(const AttentionVisibility& vis, int64_t window, int64_t q0, int64_t tq, int64_t k0, int64_t tk) {
  auto distance =
      vis.query_positions.narrow(1, q0, tq).unsqueeze(2) - vis.key_positions.narrow(1, k0, tk).unsqueeze(1);  // q - k
  auto hidden = distance.lt(0).logical_or_(vis.key_valid.narrow(1, k0, tk).logical_not().unsqueeze(1));
  if (window > 0) hidden.logical_or_(distance.ge(window));
  if (vis.query_image_block.defined()) {
    auto query_block = vis.query_image_block.narrow(1, q0, tq).unsqueeze(2);
    auto same_image =
        query_block.eq(vis.key_image_block.narrow(1, k0, tk).unsqueeze(1)).logical_and_(query_block.ge(0));
    hidden.logical_and_(same_image.logical_not());
  }
  return hidden;
}

// per_block's summaries by a loop over host memory, in the same layout as plan_attention's `summary`:
// at a decode step's one query the ~25 small LibTorch operations of the tensor path cost more than
// the whole loop (they were a visible part of the per-step overhead outside the projections).
std::vector<int64_t> host_block_summary(const AttentionVisibility& vis, int64_t tq, int64_t tk) {
  const bool images = vis.query_image_block.defined();
  auto q_pos = vis.query_positions.to(torch::kInt64).contiguous();
  auto k_pos = vis.key_positions.to(torch::kInt64).contiguous();
  auto k_valid = vis.key_valid.to(torch::kBool).contiguous();
  const int64_t B = q_pos.size(0), T = q_pos.size(1), S = k_pos.size(1);
  const int64_t query_blocks = (T + tq - 1) / tq, key_blocks = (S + tk - 1) / tk;
  std::vector<int64_t> summary;
  summary.reserve(static_cast<size_t>(2 * query_blocks + 3 * key_blocks + (images ? query_blocks + key_blocks : 0)));
  const int64_t* qp = q_pos.data_ptr<int64_t>();
  const int64_t* kp = k_pos.data_ptr<int64_t>();
  const bool* kv = k_valid.data_ptr<bool>();
  // fold(data, columns, block, fill, op): one value per block of columns over every row.
  auto fold = [&](const int64_t* data, int64_t columns, int64_t block, int64_t fill, auto op, const bool* only) {
    const int64_t blocks = (columns + block - 1) / block;
    for (int64_t j = 0; j < blocks; ++j) {
      int64_t value = fill;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t c = j * block; c < std::min(columns, (j + 1) * block); ++c)
          if (!only || only[b * columns + c]) value = op(value, data[b * columns + c]);
      summary.push_back(value);
    }
  };
  auto min = [](int64_t a, int64_t b) { return std::min(a, b); };
  auto max = [](int64_t a, int64_t b) { return std::max(a, b); };
  fold(qp, T, tq, kMaxPosition, min, nullptr);
  fold(qp, T, tq, kMinPosition, max, nullptr);
  fold(kp, S, tk, kMaxPosition, min, kv);
  fold(kp, S, tk, kMinPosition, max, kv);
  for (int64_t j = 0; j < key_blocks; ++j) {
    int64_t count = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = j * tk; c < std::min(S, (j + 1) * tk); ++c) count += kv[b * S + c] ? 1 : 0;
    summary.push_back(count);
  }
  if (images) {
    auto q_image = vis.query_image_block.to(torch::kInt64).contiguous();
    auto k_image = vis.key_image_block.to(torch::kInt64).contiguous();
    fold(q_image.data_ptr<int64_t>(), T, tq, -1, max, nullptr);
    fold(k_image.data_ptr<int64_t>(), S, tk, -1, max, nullptr);
  }
  return summary;
}

}  // namespace

namespace {

AttentionPlan make_plan(const AttentionVisibility& visibility, const AttentionOptions& options, bool allow_host_loop) {
  const auto& vis = visibility;
  if (options.query_block < 1 || options.key_block < 1)
    fail("internal: attention block sizes must be positive (query {}, key {})", options.query_block, options.key_block);
  const int64_t B = vis.query_positions.size(0), T = vis.query_positions.size(1), S = vis.key_positions.size(1);
  if (vis.key_valid.size(0) != B || vis.key_positions.size(0) != B || vis.key_valid.size(1) != S)
    fail("internal: attention visibility of mismatched shapes (queries {}, key positions {}, key validity {})",
         c10::str(vis.query_positions.sizes()), c10::str(vis.key_positions.sizes()), c10::str(vis.key_valid.sizes()));
  const bool images = vis.query_image_block.defined();
  const int64_t tq = options.query_block, tk = options.key_block;

  // Per-block summaries over the whole batch: query positions' range, valid keys' range and count,
  // whether image soft tokens are present; on a device gathered in one tensor so it pays one transfer,
  // on the CPU by a loop over the tensors' memory (host_block_summary).
  std::vector<int64_t> host_summary;
  Tensor summary;
  const bool on_host = allow_host_loop && vis.query_positions.device().is_cpu() &&
                       vis.key_positions.device().is_cpu() && vis.key_valid.device().is_cpu() &&
                       (!images || (vis.query_image_block.device().is_cpu() && vis.key_image_block.device().is_cpu()));
  if (on_host) {
    host_summary = host_block_summary(vis, tq, tk);
  } else {
    auto hidden_positions = vis.key_valid.logical_not();
    std::vector<Tensor> parts = {
        per_block(vis.query_positions, tq, kMaxPosition, Reduce::Min),
        per_block(vis.query_positions, tq, kMinPosition, Reduce::Max),
        per_block(vis.key_positions.masked_fill(hidden_positions, kMaxPosition), tk, kMaxPosition, Reduce::Min),
        per_block(vis.key_positions.masked_fill(hidden_positions, kMinPosition), tk, kMinPosition, Reduce::Max),
        per_block(vis.key_valid, tk, 0, Reduce::Sum)};
    if (images) {
      parts.push_back(per_block(vis.query_image_block, tq, -1, Reduce::Max));
      parts.push_back(per_block(vis.key_image_block, tk, -1, Reduce::Max));
    }
    summary = torch::cat(parts).to(torch::kCPU).contiguous();
  }
  const int64_t query_blocks = (T + tq - 1) / tq, key_blocks = (S + tk - 1) / tk;
  const int64_t* q_min = summary.defined() ? summary.data_ptr<int64_t>() : host_summary.data();
  const int64_t *q_max = q_min + query_blocks, *k_min = q_max + query_blocks, *k_max = k_min + key_blocks;
  const int64_t* k_valid_count = k_max + key_blocks;                       // over the batch rows and the block's keys
  const int64_t* q_image = images ? k_valid_count + key_blocks : nullptr;  // largest image block index, -1: none
  const int64_t* k_image = images ? q_image + query_blocks : nullptr;

  AttentionPlan plan;
  plan.visibility = visibility;
  plan.options = options;
  plan.num_keys = S;
  const int64_t W = options.sliding_window;
  if (W < 0) fail("internal: negative sliding window {}", W);
  for (int64_t i = 0; i < query_blocks; ++i) {
    const int64_t q0 = i * tq;
    plan.query_begins.push_back(q0);
    plan.query_lengths.push_back(std::min(tq, T - q0));
    std::vector<AttentionBlock> visited;
    for (int64_t j = 0; j < key_blocks; ++j) {
      const int64_t k0 = j * tk;
      const int64_t key_length = std::min(tk, S - k0);
      const bool image_pair = images && q_image[i] >= 0 && k_image[j] >= 0;
      // No (query, key) pair of the blocks can be visible: no real key, all keys after every query,
      // or (sliding) all keys at least W before every query.
      const bool none_visible = k_valid_count[j] == 0 || k_min[j] > q_max[i] || (W > 0 && q_min[i] - k_max[j] >= W);
      if (none_visible && !image_pair) continue;
      // Every pair visible: all keys real, none after any query, none W or more before any query.
      // (Images only add visibility, so they need no mask here either.)
      const bool all_visible =
          k_valid_count[j] == B * key_length && k_max[j] <= q_min[i] && (W == 0 || q_max[i] - k_min[j] < W);
      AttentionBlock block;
      block.key_begin = k0;
      block.key_length = key_length;
      block.needs_mask = !all_visible;
      visited.push_back(block);
    }
    plan.key_blocks.push_back(std::move(visited));
  }
  return plan;
}

}  // namespace

AttentionPlan plan_attention(const AttentionVisibility& visibility, const AttentionOptions& options) {
  return make_plan(visibility, options, /*allow_host_loop=*/true);
}

AttentionPlan plan_attention_by_tensor_ops(const AttentionVisibility& visibility, const AttentionOptions& options) {
  return make_plan(visibility, options, /*allow_host_loop=*/false);
}

Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionPlan& plan) {
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4 || k.sizes() != v.sizes() || q.size(0) != k.size(0) ||
      q.size(3) != k.size(3) || k.size(1) == 0 || q.size(2) % k.size(1) != 0)
    fail("internal: attention of queries {} over keys {} and values {}", c10::str(q.sizes()), c10::str(k.sizes()),
         c10::str(v.sizes()));
  const int64_t B = q.size(0), T = q.size(1), nh = q.size(2), hd = q.size(3), nkv = k.size(1), group = nh / nkv;
  if (k.size(2) != plan.num_keys || plan.visibility.query_positions.size(1) != T)
    fail("internal: attention plan for {} queries and {} keys used with {} and {}",
         plan.visibility.query_positions.size(1), plan.num_keys, T, k.size(2));
  const auto dtype = q.scalar_type();
  const auto& vis = plan.visibility;
  const int64_t W = plan.options.sliding_window;
  // A decode step's one query per sequence in bf16 on the CPU: one pass (kernels/bf16_decode_attention.h).
  // Keys outside the plan's blocks are invisible, so it visits the same keys.
  if (T == 1 && !vis.query_image_block.defined() &&
      bf16_decode_attention_applies(q, k, v, vis.query_positions, vis.key_positions, vis.key_valid, W))
    return bf16_decode_attention(q, k, v, vis.query_positions, vis.key_positions, vis.key_valid, W, plan.options.scale);
  constexpr float kHidden = std::numeric_limits<float>::lowest();  // as transformers' masks: finite, so no NaN

  // Queries grouped under their kv head, query-major within a head: a block of queries is then a
  // contiguous [tq * group, hd] slab per (row, kv head), one matrix product against a key block.
  auto grouped_q = q.view({B, T, nkv, group, hd}).permute({0, 2, 1, 3, 4}).contiguous();  // [B, nkv, T, group, hd]
  auto out = torch::empty({B, nkv, T, group, hd}, q.options());
  for (size_t i = 0; i < plan.query_begins.size(); ++i) {
    const int64_t q0 = plan.query_begins[i], tq = plan.query_lengths[i], rows = tq * group;
    auto q_block = grouped_q.narrow(2, q0, tq).view({B, nkv, rows, hd});
    // Streaming softmax state per query row: running max m, running sum l of exp(s - m), and
    // acc = sum exp(s - m) v; when m grows, l and acc are rescaled by exp(m_old - m_new).
    Tensor m, l, acc;
    for (const auto& block : plan.key_blocks[i]) {
      const int64_t k0 = block.key_begin, tk = block.key_length;
      auto scores = torch::matmul(q_block, k.narrow(2, k0, tk).transpose(-1, -2));  // [B, nkv, rows, tk]
      scores.mul_(plan.options.scale);
      scores = scores.to(torch::kFloat32);
      if (block.needs_mask)
        scores.view({B, nkv, tq, group, tk})
            .masked_fill_(hidden_keys(vis, W, q0, tq, k0, tk).view({B, 1, tq, 1, tk}), kHidden);
      auto block_max = scores.amax(-1, /*keepdim=*/true);
      auto values = v.narrow(2, k0, tk);
      if (!m.defined()) {
        m = block_max;
        auto probs = scores.sub_(m).exp_();
        l = probs.sum(-1, /*keepdim=*/true);
        acc = torch::matmul(probs.to(dtype), values).to(torch::kFloat32);
      } else {
        auto new_max = torch::maximum(m, block_max);
        auto rescale = (m - new_max).exp_();
        auto probs = scores.sub_(new_max).exp_();
        l.mul_(rescale).add_(probs.sum(-1, /*keepdim=*/true));
        acc.mul_(rescale).add_(torch::matmul(probs.to(dtype), values));
        m = new_max;
      }
    }
    auto out_block = out.narrow(2, q0, tq).view({B, nkv, rows, hd});
    if (m.defined())
      out_block.copy_(acc.div_(l));
    else
      out_block.zero_();  // no key of this block of queries is visible (all padding)
  }
  return out.permute({0, 2, 1, 3, 4}).reshape({B, T, nh, hd});
}

Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionVisibility& visibility,
              const AttentionOptions& options) {
  return attend(q, k, v, plan_attention(visibility, options));
}

}  // namespace gemma
