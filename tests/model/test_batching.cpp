// The decoder's bookkeeping: padded batches, KV-cache decoding, forked caches and the sliding
// window must not change any number (compared with one sequence run whole).
#include "model_fixtures.h"  // first: see the note there

#include "model/generation.h"

using namespace gemma;
using namespace gemma::test;

namespace {

constexpr double kTolerance = 1e-4;

std::vector<std::vector<int>> fixture_sequences() {
  auto manifest = read_json(tiny_text_dir() / "expected" / "manifest.json");
  std::vector<std::vector<int>> sequences;
  for (const auto& s : manifest["sequences"]) sequences.push_back(s["ids"].get<std::vector<int>>());
  return sequences;
}

// A small random model whose layers are all of one type (for mask and RoPE properties).
Gemma3TextModel uniform_model(LayerType type, int layers, int window, double global_base) {
  TextConfig config = load_config(tiny_text_dir() / "config.json").text;
  config.vocab_size = 512;
  config.num_layers = layers;
  config.layer_types.assign(layers, type);
  config.sliding_window = window;
  config.rope_global_base = global_base;
  config.rope_global_scale = 1.0;
  Placement placement;
  return Gemma3TextModel(config, random_text_weights(config, placement, 7), placement);
}

torch::Tensor last_hidden(const Gemma3TextModel& model, const std::vector<int>& ids) {
  auto batch = make_batch({ids}, Padding::Right, 0, torch::kCPU);
  KVCache cache = model.new_cache(1, static_cast<int64_t>(ids.size()));
  return model.forward(batch, cache)[0][-1];
}

}  // namespace

TEST_CASE("right- and left-padded batches equal unbatched runs", "[batching]") {
  const auto& model = tiny_text_model();
  auto sequences = fixture_sequences();
  for (Padding padding : {Padding::Right, Padding::Left}) {
    INFO((padding == Padding::Right ? "right padding" : "left padding"));
    auto batch = make_batch(sequences, padding, 0, torch::kCPU);
    KVCache cache = model.new_cache(batch.ids.size(0), batch.ids.size(1));
    auto logits = model.logits(model.forward(batch, cache));  // [B, Tmax, V]
    const int64_t Tmax = batch.ids.size(1);
    for (size_t b = 0; b < sequences.size(); ++b) {
      const int64_t T = static_cast<int64_t>(sequences[b].size());
      const int64_t offset = padding == Padding::Left ? Tmax - T : 0;
      CHECK(max_abs_diff(logits[b].narrow(0, offset, T), full_logits(model, sequences[b])) < kTolerance);
    }
  }
}

TEST_CASE("decoding through the KV cache equals full recomputation", "[batching][cache]") {
  const auto& model = tiny_text_model();
  auto ids = fixture_sequences().back();  // 64 tokens: well past the sliding window of 6
  auto full = full_logits(model, ids);
  KVCache cache = model.new_cache(1, 4);  // deliberately small: appends must grow it
  // Prefill 10 tokens, then a chunk of 7, then one token at a time.
  std::vector<std::pair<size_t, size_t>> chunks = {{0, 10}, {10, 17}};
  for (size_t t = 17; t < ids.size(); ++t) chunks.push_back({t, t + 1});
  for (auto [begin, end] : chunks) {
    std::vector<int> piece(ids.begin() + begin, ids.begin() + end);
    std::vector<int64_t> positions;
    for (size_t p = begin; p < end; ++p) positions.push_back(static_cast<int64_t>(p));
    const int64_t n = static_cast<int64_t>(piece.size());
    TokenBatch batch{torch::tensor(std::vector<int64_t>(piece.begin(), piece.end())).view({1, n}),
                     torch::tensor(positions).view({1, n}), torch::ones({1, n}, torch::kBool)};
    auto logits = model.logits(model.forward(batch, cache))[0];
    INFO("tokens " << begin << ".." << end);
    CHECK(max_abs_diff(logits, full.narrow(0, static_cast<int64_t>(begin), n)) < kTolerance);
  }
  CHECK(cache.length() == static_cast<int64_t>(ids.size()));
}

TEST_CASE("a forked cache continues each row like a fresh run", "[batching][cache]") {
  const auto& model = tiny_text_model();
  std::vector<int> context = {2, 818, 5279, 529, 7001, 563};
  std::vector<std::vector<int>> continuations = {{9079}, {236743, 236812}, {1, 2, 3}};
  KVCache shared = model.new_cache(1, 8);
  model.forward(make_batch({context}, Padding::Right, 0, torch::kCPU), shared);
  KVCache forked = shared.select_rows(torch::zeros({3}, torch::kInt64));
  auto batch = make_batch(continuations, Padding::Right, 0, torch::kCPU);
  batch.positions = batch.positions + static_cast<int64_t>(context.size());
  auto logits = model.logits(model.forward(batch, forked));
  for (size_t i = 0; i < continuations.size(); ++i) {
    std::vector<int> whole = context;
    whole.insert(whole.end(), continuations[i].begin(), continuations[i].end());
    const int64_t n = static_cast<int64_t>(continuations[i].size());
    auto expected = full_logits(model, whole).narrow(0, static_cast<int64_t>(context.size()), n);
    CHECK(max_abs_diff(logits[i].narrow(0, 0, n), expected) < kTolerance);
  }
}

TEST_CASE("batched greedy generation equals one prompt at a time, and stops on stop ids", "[generation]") {
  const auto& model = tiny_text_model();
  auto sequences = fixture_sequences();
  GreedyOptions options;
  options.max_new_tokens = 6;
  auto batched = greedy_generate(model, sequences, options);
  for (size_t i = 0; i < sequences.size(); ++i)
    CHECK(batched[i].tokens == greedy_generate(model, {sequences[i]}, options).front().tokens);

  options.stop_ids = {batched[0].tokens.at(2)};
  auto stopped = greedy_generate(model, {sequences[0]}, options).front();
  CHECK(stopped.finish_reason == "stop");
  CHECK(stopped.stop_id == batched[0].tokens[2]);
  CHECK(stopped.tokens.size() <= 2);
}

TEST_CASE("sliding window: key q-W+1 is visible, key q-W is not", "[mask]") {
  const int window = 4;
  auto model = uniform_model(LayerType::Sliding, 1, window, 1e6);
  std::vector<int> ids = {2, 10, 20, 30, 40, 50, 60, 70};
  const size_t q = ids.size() - 1;
  auto reference = last_hidden(model, ids);
  auto changed_at = [&](size_t position) {
    auto altered = ids;
    altered[position] = 99;
    return max_abs_diff(last_hidden(model, altered), reference);
  };
  CHECK(changed_at(q - window) == 0.0);      // outside the window: no influence at all
  CHECK(changed_at(q - window + 1) > 1e-4);  // the oldest key inside the window
  auto global = uniform_model(LayerType::Full, 1, window, 1e6);
  CHECK(max_abs_diff(last_hidden(global,
                                 [&] {
                                   auto a = ids;
                                   a[q - window] = 99;
                                   return a;
                                 }()),
                     last_hidden(global, ids)) > 1e-4);  // a global layer sees it
}

TEST_CASE("with T <= W a sliding layer equals a global layer with the same RoPE base", "[mask]") {
  auto sliding = uniform_model(LayerType::Sliding, 2, 64, 10000.0);
  auto global = uniform_model(LayerType::Full, 2, 64, 10000.0);
  std::vector<int> ids = {2, 5, 17, 33, 65, 129, 257, 300, 411, 12};
  CHECK(max_abs_diff(last_hidden(sliding, ids), last_hidden(global, ids)) < 1e-6);
}
