// Blocked attention with a streaming softmax (model/attention.h) against the straightforward one
// written here: the full [B, heads, T, S] scores in float64 with a materialised mask, as
// transformers' eager_attention_forward computes it.
#include "tests/model/model_fixtures.h"

#include <limits>

#include "model/attention.h"
#include "model/kernels/bf16_decode_attention.h"

using namespace gemma;
using torch::Tensor;

namespace {

// [B, T, S] bool: the key is visible to the query.
Tensor reference_visible(const AttentionVisibility& vis, int64_t window) {
  auto distance = vis.query_positions.unsqueeze(2) - vis.key_positions.unsqueeze(1);
  auto visible = distance.ge(0).logical_and(vis.key_valid.unsqueeze(1));
  if (window > 0) visible = visible.logical_and(distance.lt(window));
  if (vis.query_image_block.defined()) {
    auto same = vis.query_image_block.unsqueeze(2)
                    .eq(vis.key_image_block.unsqueeze(1))
                    .logical_and(vis.query_image_block.ge(0).unsqueeze(2));
    visible = visible.logical_or(same);
  }
  return visible;
}

// q [B, T, nh, hd], k/v [B, nkv, S, hd] -> [B, T, nh, hd] in float64; rows that see nothing are NaN.
Tensor reference_attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionVisibility& vis,
                           double scale, int64_t window) {
  const int64_t group = q.size(2) / k.size(1);
  auto q64 = q.to(torch::kFloat64).transpose(1, 2);  // [B, nh, T, hd]
  auto k64 = k.to(torch::kFloat64).repeat_interleave(group, 1), v64 = v.to(torch::kFloat64).repeat_interleave(group, 1);
  auto scores = torch::matmul(q64, k64.transpose(-1, -2)) * scale;  // [B, nh, T, S]
  scores = scores.masked_fill(reference_visible(vis, window).logical_not().unsqueeze(1),
                              -std::numeric_limits<double>::infinity());
  return torch::matmul(torch::softmax(scores, -1), v64).transpose(1, 2);
}

struct Case {
  Tensor q, k, v;
  AttentionVisibility vis;
};

Case random_case(int64_t B, int64_t T, int64_t S, int64_t nh, int64_t nkv, int64_t hd, int seed) {
  torch::manual_seed(seed);
  Case c;
  c.q = torch::randn({B, T, nh, hd});
  c.k = torch::randn({B, nkv, S, hd});
  c.v = torch::randn({B, nkv, S, hd});
  return c;
}

// Blocked equals the reference on every query that sees a key; queries that see none are finite.
void check_against_reference(const Case& c, int64_t window, int64_t query_block, int64_t key_block) {
  AttentionOptions options;
  options.scale = 1.0 / std::sqrt(double(c.q.size(3)));
  options.sliding_window = window;
  options.query_block = query_block;
  options.key_block = key_block;
  auto blocked = attend(c.q, c.k, c.v, c.vis, options);
  REQUIRE(blocked.sizes() == c.q.sizes());
  REQUIRE(blocked.scalar_type() == torch::kFloat32);
  CHECK(torch::isfinite(blocked).all().item<bool>());
  auto expected = reference_attention(c.q, c.k, c.v, c.vis, options.scale, window);
  auto sees_a_key = reference_visible(c.vis, window).any(-1);  // [B, T]
  REQUIRE(sees_a_key.any().item<bool>());
  auto rows = sees_a_key.unsqueeze(-1).unsqueeze(-1).expand_as(blocked);
  auto difference = (blocked.to(torch::kFloat64) - expected).masked_select(rows).abs().max().item<double>();
  INFO("window " << window << ", query block " << query_block << ", key block " << key_block);
  CHECK(difference < 1e-5);
}

Tensor positions_of(std::vector<int64_t> values, int64_t rows = 1) {
  return torch::tensor(values, torch::kInt64).view({rows, -1});
}

Tensor valid_of(std::vector<int> values, int64_t rows = 1) {
  return torch::tensor(std::vector<int64_t>(values.begin(), values.end()), torch::kInt64)
      .to(torch::kBool)
      .view({rows, -1});
}

}  // namespace

TEST_CASE("blocked attention equals the materialised softmax: prefill, causal and sliding, any block size",
          "[attention]") {
  const int64_t T = 29;
  auto c = random_case(1, T, T, 4, 2, 16, 1);
  c.vis.query_positions = torch::arange(T, torch::kInt64).view({1, T});
  c.vis.key_positions = c.vis.query_positions;
  c.vis.key_valid = torch::ones({1, T}, torch::kBool);
  const auto [query_block, key_block] = GENERATE(
      table<int64_t, int64_t>({{1, 1}, {4, 4}, {5, 7}, {7, 5}, {8, 3}, {29, 29}, {64, 64}, {512, 512}, {3, 100}}));
  for (int64_t window : {0, 1, 4, 11, 40}) check_against_reference(c, window, query_block, key_block);
}

TEST_CASE("blocked attention: right and left padding, batch rows of different lengths", "[attention]") {
  // Positions as make_batch gives them: padding takes the last (right) or first (left) real position.
  auto c = random_case(2, 9, 9, 2, 1, 8, 2);
  const bool left = GENERATE(false, true);
  if (left) {
    c.vis.query_positions = positions_of({0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8}, 2);
    c.vis.key_valid = valid_of({0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 2);
  } else {
    c.vis.query_positions = positions_of({0, 1, 2, 3, 4, 4, 4, 4, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8}, 2);
    c.vis.key_valid = valid_of({1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 2);
  }
  c.vis.key_positions = c.vis.query_positions;
  for (auto [query_block, key_block] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 4}, {4, 2}, {3, 3}, {16, 16}})
    for (int64_t window : {0, 3}) check_against_reference(c, window, query_block, key_block);
}

TEST_CASE("blocked attention over a cache with gaps of invalid keys and rows of different fill", "[attention]") {
  // Keys: 12 cached (row 0 with a run of invalid keys in the middle, row 1 with invalid keys
  // scattered and positions that jump, as a forked or prefix-shared cache may hold), then the 5 new
  // tokens themselves.
  auto c = random_case(2, 5, 17, 4, 2, 8, 3);
  auto cached_positions = positions_of({0, 1, 2, 3, 3, 3, 3, 4, 5, 6, 7,  8,  //
                                        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
                                       2);
  auto cached_valid = valid_of({1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1,  //
                                1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0},
                               2);
  c.vis.query_positions = positions_of({9, 10, 11, 12, 13, 11, 12, 13, 13, 13}, 2);
  auto new_valid = valid_of({1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 2);
  c.vis.key_positions = torch::cat({cached_positions, c.vis.query_positions}, 1);
  c.vis.key_valid = torch::cat({cached_valid, new_valid}, 1);
  for (auto [query_block, key_block] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 3}, {5, 4}, {5, 17}, {8, 64}})
    for (int64_t window : {0, 2, 6}) check_against_reference(c, window, query_block, key_block);
}

TEST_CASE("blocked attention: decode, one query over a long cache", "[attention]") {
  const int64_t S = 50;
  auto c = random_case(3, 1, S, 4, 1, 16, 4);
  c.vis.key_positions = torch::arange(S, torch::kInt64).view({1, S}).repeat({3, 1});
  c.vis.key_valid = torch::ones({3, S}, torch::kBool);
  c.vis.key_valid.index_put_({1, torch::indexing::Slice(20, 30)}, false);  // a padding gap
  c.vis.query_positions = torch::full({3, 1}, S - 1, torch::kInt64);
  for (int64_t key_block : {1, 7, 16, 50, 512})
    for (int64_t window : {0, 5, 24}) check_against_reference(c, window, 1, key_block);
}

TEST_CASE("blocked attention: soft tokens of one image see each other both ways, on every layer type",
          "[attention][vision]") {
  // 3 cached text keys, then 12 new tokens: text, image A (4 soft tokens), text, image B (3), text.
  auto c = random_case(1, 12, 15, 2, 2, 8, 5);
  c.vis.query_positions = torch::arange(3, 15, torch::kInt64).view({1, 12});
  c.vis.key_positions = torch::arange(0, 15, torch::kInt64).view({1, 15});
  c.vis.key_valid = torch::ones({1, 15}, torch::kBool);
  c.vis.query_image_block = positions_of({-1, 1, 1, 1, 1, -1, -1, 2, 2, 2, -1, -1});
  c.vis.key_image_block = torch::cat({positions_of({-1, -1, -1}), c.vis.query_image_block}, 1);
  for (auto [query_block, key_block] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 3}, {4, 4}, {12, 15}})
    for (int64_t window : {0, 2}) check_against_reference(c, window, query_block, key_block);
}

TEST_CASE("blocked attention: a query that sees no key gets finite output", "[attention]") {
  // Row 1 is all padding: no valid key at all; row 0 is ordinary.
  auto c = random_case(2, 4, 4, 2, 1, 8, 6);
  c.vis.query_positions = positions_of({0, 1, 2, 3, 0, 0, 0, 0}, 2);
  c.vis.key_positions = c.vis.query_positions;
  c.vis.key_valid = valid_of({1, 1, 1, 1, 0, 0, 0, 0}, 2);
  for (int64_t block : {1, 2, 4}) check_against_reference(c, 0, block, block);
}

TEST_CASE("blocked attention visits only the key blocks a query can see", "[attention]") {
  const int64_t T = 64, block = 8;
  AttentionVisibility vis;
  vis.query_positions = torch::arange(T, torch::kInt64).view({1, T});
  vis.key_positions = vis.query_positions;
  vis.key_valid = torch::ones({1, T}, torch::kBool);
  AttentionOptions options;
  options.query_block = options.key_block = block;

  SECTION("causal: no block in the future; blocks below the diagonal need no mask") {
    auto plan = plan_attention(vis, options);
    REQUIRE(plan.key_blocks.size() == T / block);
    for (size_t i = 0; i < plan.key_blocks.size(); ++i) {
      REQUIRE(plan.key_blocks[i].size() == i + 1);
      for (size_t j = 0; j <= i; ++j) {
        CHECK(plan.key_blocks[i][j].key_begin == int64_t(j) * block);
        CHECK(plan.key_blocks[i][j].needs_mask == (j == i));
      }
    }
  }
  SECTION("sliding window of 5: at most the diagonal block and the one before it") {
    options.sliding_window = 5;
    auto plan = plan_attention(vis, options);
    for (size_t i = 0; i < plan.key_blocks.size(); ++i) {
      const auto& visited = plan.key_blocks[i];
      REQUIRE(visited.size() == (i == 0 ? 1u : 2u));
      CHECK(visited.back().key_begin == int64_t(i) * block);
      if (i > 0) CHECK(visited.front().key_begin == int64_t(i - 1) * block);
    }
  }
  SECTION("invalid keys: a block with none real is skipped, a partly real one is masked") {
    vis.key_valid = vis.key_valid.clone();
    vis.key_valid.narrow(1, 0, block).fill_(false);
    vis.key_valid.narrow(1, block, 1).fill_(false);
    auto plan = plan_attention(vis, options);
    const auto& last = plan.key_blocks.back();
    REQUIRE(last.size() == T / block - 1);
    CHECK(last.front().key_begin == block);
    CHECK(last.front().needs_mask);
    CHECK_FALSE(last[1].needs_mask);
  }
}

TEST_CASE("the CPU's plan (a loop over host memory) equals the plan made by tensor operations", "[attention]") {
  // Left padding, per-row offsets, a decode step's one query, images; blocks that do and do not divide T and S.
  torch::manual_seed(23);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t B = 1 + trial % 3, T = trial % 4 == 0 ? 1 : 1 + trial * 7 % 37, cached = trial * 5 % 29;
    const int64_t S = cached + T;
    AttentionVisibility vis;
    auto offsets = torch::randint(0, 4, {B, 1}, torch::kInt64);
    vis.key_positions = torch::arange(S, torch::kInt64).unsqueeze(0) - offsets;
    vis.key_valid = vis.key_positions.ge(0).logical_and(torch::rand({B, S}).gt(0.1));
    vis.key_positions = vis.key_positions.clamp_min(0);
    vis.query_positions = vis.key_positions.narrow(1, cached, T).contiguous();
    if (trial % 5 == 1) {
      vis.query_image_block = torch::randint(-1, 2, {B, T}, torch::kInt64);
      vis.key_image_block = torch::cat({torch::full({B, cached}, -1, torch::kInt64), vis.query_image_block}, 1);
    }
    for (int64_t window : {0, 3, 16})
      for (int64_t block : {1, 4, 5, 256}) {
        AttentionOptions options;
        options.sliding_window = window;
        options.query_block = block;
        options.key_block = block + trial % 2;
        const auto host = plan_attention(vis, options), by_ops = plan_attention_by_tensor_ops(vis, options);
        INFO("trial " << trial << " window " << window << " block " << block);
        REQUIRE(host.query_begins == by_ops.query_begins);
        REQUIRE(host.query_lengths == by_ops.query_lengths);
        REQUIRE(host.key_blocks.size() == by_ops.key_blocks.size());
        for (size_t i = 0; i < host.key_blocks.size(); ++i) {
          REQUIRE(host.key_blocks[i].size() == by_ops.key_blocks[i].size());
          for (size_t j = 0; j < host.key_blocks[i].size(); ++j) {
            CHECK(host.key_blocks[i][j].key_begin == by_ops.key_blocks[i][j].key_begin);
            CHECK(host.key_blocks[i][j].key_length == by_ops.key_blocks[i][j].key_length);
            CHECK(host.key_blocks[i][j].needs_mask == by_ops.key_blocks[i][j].needs_mask);
          }
        }
      }
  }
}

TEST_CASE("bf16_decode_attention: a decode step's queries against float64 attention, within bf16 rounding",
          "[attention][bf16][kernel]") {
  struct Switch {
    explicit Switch(bool on) { set_bf16_decode_attention_enabled(on); }
    ~Switch() { set_bf16_decode_attention_enabled(true); }
  };
  if (!bf16_decode_attention_available()) {
    WARN("this CPU (or GEMMA_EVAL_CPU_FEATURES) has no AVX512_BF16: the kernel never runs here");
    return;
  }
  int seed = 40;
  // hd 72: the dot product's and the weighted sum's tails (72 = 2 x 32 + 8 = 4 x 16 + 8); grouped and
  // ungrouped heads; left padding, invalid keys, sliding windows; one key up to more than a key block.
  for (int64_t hd : {256, 72})
    for (auto [nh, nkv] : std::vector<std::pair<int64_t, int64_t>>{{4, 1}, {8, 2}, {2, 2}})
      for (int64_t S : {1, 5, 33, 300})
        for (int64_t window : {0, 3, 16}) {
          const int64_t B = 1 + seed % 3;
          auto c = random_case(B, 1, S, nh, nkv, hd, seed++);
          auto q = c.q.to(torch::kBFloat16), k = c.k.to(torch::kBFloat16), v = c.v.to(torch::kBFloat16);
          auto offsets = torch::randint(0, std::max<int64_t>(1, S / 4), {B, 1}, torch::kInt64);
          c.vis.key_positions = (torch::arange(S, torch::kInt64).unsqueeze(0) - offsets).clamp_min(0);
          c.vis.key_valid =
              torch::arange(S, torch::kInt64)
                  .unsqueeze(0)
                  .ge(offsets)
                  .logical_and(torch::rand({B, S}).gt(0.2).logical_or(torch::arange(S).eq(S - 1).unsqueeze(0)));
          c.vis.query_positions = c.vis.key_positions.narrow(1, S - 1, 1).contiguous();
          const double scale = 1.0 / std::sqrt(double(hd));
          INFO("hd " << hd << " heads " << nh << "/" << nkv << " S " << S << " window " << window);
          REQUIRE(bf16_decode_attention_applies(q, k, v, c.vis.query_positions, c.vis.key_positions, c.vis.key_valid,
                                                window));
          auto got = bf16_decode_attention(q, k, v, c.vis.query_positions, c.vis.key_positions, c.vis.key_valid, window,
                                           scale);
          REQUIRE(got.scalar_type() == torch::kBFloat16);
          REQUIRE(got.sizes() == torch::IntArrayRef({B, 1, nh, hd}));
          // float64 on the same bf16 values; the allowance: each score rounded twice to bf16 moves its
          // probability by |score| 2^-8 relative, the probabilities and the output are rounded (2^-9 each).
          Case exact{q.to(torch::kFloat64), k.to(torch::kFloat64), v.to(torch::kFloat64), c.vis};
          auto reference = reference_attention(exact.q, exact.k, exact.v, c.vis, scale, window);
          auto weighted_abs = reference_attention(exact.q, exact.k, exact.v.abs(), c.vis, scale, window);
          const double top_score =
              (torch::matmul(exact.q.transpose(1, 2), exact.k.repeat_interleave(nh / nkv, 1).transpose(-1, -2))
                   .abs()
                   .max()
                   .item<double>() *
               scale);
          auto allowed = weighted_abs * (2 * (top_score / 256 + 1.0 / 256)) + reference.abs() / 256 + 1e-6;
          CHECK(((got.to(torch::kFloat64) - reference).abs() <= allowed).all().item<bool>());
          // attend() takes the kernel for this step; the blocked LibTorch path agrees within the same allowance.
          AttentionOptions options;
          options.scale = scale;
          options.sliding_window = window;
          CHECK(torch::equal(attend(q, k, v, c.vis, options), got));
          Switch off(false);
          auto blocked = attend(q, k, v, c.vis, options);
          CHECK(((blocked.to(torch::kFloat64) - reference).abs() <= allowed).all().item<bool>());
        }
  // A sequence that sees no key (all padding) keeps the blocked path's finite fallback.
  auto c = random_case(2, 1, 4, 2, 1, 32, 99);
  auto q = c.q.to(torch::kBFloat16), k = c.k.to(torch::kBFloat16), v = c.v.to(torch::kBFloat16);
  c.vis.query_positions = positions_of({3, 0}, 2);
  c.vis.key_positions = positions_of({0, 1, 2, 3, 0, 0, 0, 0}, 2);
  c.vis.key_valid = valid_of({1, 1, 1, 1, 0, 0, 0, 0}, 2);
  CHECK_FALSE(bf16_decode_attention_applies(q, k, v, c.vis.query_positions, c.vis.key_positions, c.vis.key_valid, 0));
  CHECK(torch::isfinite(attend(q, k, v, c.vis, AttentionOptions{})).all().item<bool>());
  // float32 never takes it (its results stay LibTorch's).
  CHECK_FALSE(
      bf16_decode_attention_applies(c.q, c.k, c.v, c.vis.query_positions, c.vis.key_positions, c.vis.key_valid, 0));
}

TEST_CASE("a prompt of several attention blocks: one forward equals the same tokens fed in chunks",
          "[attention][cache]") {
  // tiny-text (sliding window 6, one global layer) over 1100 tokens: the whole prompt crosses the
  // default blocks of 256 queries and keys; chunks of 97 put query blocks across key block edges
  // and skip most blocks on the sliding layers. Hidden states of every position must agree.
  const auto& model = gemma::test::tiny_text_model();
  const int64_t T = 1100, chunk = 97;
  torch::manual_seed(11);
  auto ids = torch::randint(3, 5000, {1, T}, torch::kInt64);
  auto positions = torch::arange(T, torch::kInt64).view({1, T});
  KVCache whole_cache = model.new_cache(1, T);
  auto whole = model.forward({ids, positions, torch::ones({1, T}, torch::kBool)}, whole_cache);
  KVCache chunk_cache = model.new_cache(1, chunk);
  std::vector<Tensor> pieces;
  for (int64_t begin = 0; begin < T; begin += chunk) {
    const int64_t n = std::min(chunk, T - begin);
    pieces.push_back(model.forward(
        {ids.narrow(1, begin, n), positions.narrow(1, begin, n), torch::ones({1, n}, torch::kBool)}, chunk_cache));
  }
  CHECK(gemma::test::max_abs_diff(torch::cat(pieces, 1), whole) < 1e-4);
}
