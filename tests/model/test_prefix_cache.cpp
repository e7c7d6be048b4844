// The cross-document prefix cache and continuous batching: fewer tokens through the model, the same
// numbers as running every request whole and alone.
#include "model_fixtures.h"  // first: see the note there

#include "engine/model_engine.h"
#include "model/generation.h"
#include "model/model_files.h"
#include "model/prefix_cache.h"
#include "model/small_batch_linear.h"

using namespace gemma;
using namespace gemma::test;
using gemma::evals::GenerationRequest;
using gemma::evals::LoglikelihoodRequest;

namespace {

const ModelFiles& tiny_text_files() {
  static ModelFiles files = open_model_files(tiny_text_dir().string());
  return files;
}

evals::ModelEngine engine(bool share, int batch_size, int64_t prefix_cache_mb = 1024, int generation_width = 0) {
  evals::ModelEngineOptions options;
  options.prefix_sharing = share;
  options.batch_size = batch_size;
  options.prefix_cache_mb = prefix_cache_mb;
  options.generation_width = generation_width;
  return evals::ModelEngine(tiny_text_model(), tiny_text_files(), options);
}

// A few-shot block every document repeats (much longer than a cache block), then the document.
const std::string kShots =
    "The following are multiple choice questions (with answers) about geography.\n\n"
    "Which river flows through Paris?\nA. Thames\nB. Seine\nC. Danube\nD. Rhine\nAnswer: B\n\n"
    "Which mountain is the highest in Europe?\nA. Elbrus\nB. Mont Blanc\nC. Olympus\nD. Etna\nAnswer: A\n\n";

std::vector<LoglikelihoodRequest> fewshot_requests() {
  std::vector<LoglikelihoodRequest> requests;
  for (std::string question :
       {"What is the capital of Spain?", "Which sea lies north of Turkey?", "Where is the Atacama desert?",
        "Which ocean is the largest?", "What is the capital of Spain? Think twice.", "Name a lake in Africa."})
    for (std::string choice : {" A", " B", " C", " D", " the Black Sea, north of Anatolia"})
      requests.push_back({kShots + question + "\nA. Madrid\nB. Lisbon\nC. Rome\nD. Oslo\nAnswer:", choice});
  return requests;
}

// Every request alone, context whole, no sharing: what the cache must reproduce.
void check_same_numbers(const std::vector<evals::LoglikelihoodResult>& got,
                        const std::vector<evals::LoglikelihoodResult>& expected) {
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("request " << i);
    CHECK(got[i].logprob == Approx(expected[i].logprob).margin(1e-4));
    CHECK(got[i].is_greedy == expected[i].is_greedy);
    CHECK(got[i].context_tokens == expected[i].context_tokens);
  }
}

}  // namespace

TEST_CASE("the prefix cache reproduces unshared log-likelihoods and skips the repeated few-shot block",
          "[prefix_cache]") {
  const auto requests = fewshot_requests();
  auto whole = engine(false, 1);
  const auto expected = whole.loglikelihood(requests, nullptr);
  for (int batch_size : {1, 2, 4}) {
    INFO("batch size " << batch_size);
    auto context_only = engine(true, batch_size, /*prefix_cache_mb=*/0);
    auto cached = engine(true, batch_size);
    check_same_numbers(context_only.loglikelihood(requests, nullptr), expected);
    check_same_numbers(cached.loglikelihood(requests, nullptr), expected);
    // Six documents: the block runs once, not six times.
    const auto shots_tokens = tiny_text_files().tokenizer->encode_with_bos(kShots).size();
    CHECK(cached.counters().prefix_cache_tokens >= 5 * (shots_tokens / 16 * 16));
    CHECK(cached.counters().forward_tokens + 4 * shots_tokens < context_only.counters().forward_tokens);
  }
  // A second call finds the block still cached: no token of it runs again.
  auto cached = engine(true, 2);
  cached.loglikelihood(requests, nullptr);
  const size_t first = cached.counters().forward_tokens;
  check_same_numbers(cached.loglikelihood({requests.begin(), requests.begin() + 5}, nullptr),
                     {expected.begin(), expected.begin() + 5});
  CHECK(cached.counters().forward_tokens - first < 40);
}

TEST_CASE("prefix cache: matches are whole blocks, loads reproduce the keys, eviction keeps it under its budget",
          "[prefix_cache]") {
  const auto& model = tiny_text_model();
  const auto& tokenizer = *tiny_text_files().tokenizer;
  auto ids = tokenizer.encode_with_bos(kShots + "What is the capital of Spain?");
  REQUIRE(ids.size() > 40);
  auto batch = make_batch({ids}, Padding::Right, 0, torch::kCPU);
  KVCache full = model.new_cache(1, static_cast<int64_t>(ids.size()));
  model.forward(batch, full);

  const auto& c = model.config();
  const int64_t block_bytes = 2 * c.num_layers * c.num_kv_heads * c.head_dim * 16 * 4;
  PrefixCache cache(/*capacity_bytes=*/2 * block_bytes, 16);
  CHECK(cache.match(ids, static_cast<int64_t>(ids.size())) == 0);
  cache.store(ids, 40, full, 0, 0, 0);  // room for two of the two whole blocks in 40 tokens
  CHECK(cache.stats().blocks == 2);
  CHECK(cache.match(ids, 100) == 32);
  CHECK(cache.match(ids, 31) == 16);  // never more than the limit
  KVCache loaded = model.new_cache(1, 40);
  // Indices no forward writes (padding after a shorter row's prefix) hold zeros, never garbage that
  // a zero attention probability would turn into NaN.
  for (int layer = 0; layer < c.num_layers; ++layer)
    CHECK(loaded.row_values(layer, 0, 0, 40).abs().sum().item<double>() == 0);
  loaded.start_with_prefixes({32});
  cache.load(ids, 32, loaded, 0);
  for (int layer = 0; layer < c.num_layers; ++layer) {
    CHECK(max_abs_diff(loaded.row_keys(layer, 0, 0, 32), full.row_keys(layer, 0, 0, 32)) == 0);
    CHECK(max_abs_diff(loaded.row_values(layer, 0, 0, 32), full.row_values(layer, 0, 0, 32)) == 0);
  }
  // Another prefix needs room: the least recently used leaf goes, the budget holds.
  auto other = tokenizer.encode_with_bos(
      "A completely different prompt about the weather in spring and autumn, with rain, wind, snow and sunshine.");
  REQUIRE(other.size() >= 16);
  KVCache other_full = model.new_cache(1, static_cast<int64_t>(other.size()));
  model.forward(make_batch({other}, Padding::Right, 0, torch::kCPU), other_full);
  cache.store(other, 16, other_full, 0, 0, 0);
  CHECK(cache.stats().evicted_blocks == 1);
  CHECK(cache.stats().bytes <= cache.capacity_bytes());
  CHECK(cache.match(other, 16) == 16);
  CHECK(cache.match(ids, 100) == 16);  // its second block was the leaf that went
}

TEST_CASE("a KV cache with rows replaced and compacted decodes like a fresh one", "[prefix_cache][generation]") {
  const auto& model = tiny_text_model();
  std::vector<int> a = {2, 651, 6037, 529, 9405, 563, 9212, 236761, 672, 1401}, b = {2, 9405, 563, 1401};
  // Row 1 first holds a, then b replaces it: b's keys sit at the front, a's leftovers are padding.
  KVCache cache = model.new_cache(2, 16);
  model.forward(make_batch({a, a}, Padding::Right, 0, torch::kCPU), cache);
  KVCache source = model.new_cache(1, 8);
  model.forward(make_batch({b}, Padding::Right, 0, torch::kCPU), source);
  cache.replace_row(1, source, 0);
  CHECK(cache.key_valid()[1].sum().item<int64_t>() == static_cast<int64_t>(b.size()));
  auto next = [&](KVCache& c) {
    TokenBatch step;
    step.ids = torch::tensor({int64_t{236761}, int64_t{236761}}).view({2, 1});
    step.positions = torch::tensor({static_cast<int64_t>(a.size()), static_cast<int64_t>(b.size())}).view({2, 1});
    step.valid = torch::ones({2, 1}, torch::kBool);
    return model.logits(model.forward(step, c)).select(1, 0);
  };
  KVCache compacted = cache.select_rows(torch::tensor({int64_t{0}, int64_t{1}}));
  compacted.compact();
  CHECK(compacted.length() == static_cast<int64_t>(a.size()));
  auto replaced_logits = next(cache), compacted_logits = next(compacted);
  std::vector<int> a_next = a, b_next = b;
  a_next.push_back(236761), b_next.push_back(236761);
  CHECK(max_abs_diff(replaced_logits[0], full_logits(model, a_next)[-1]) < 1e-4);
  CHECK(max_abs_diff(replaced_logits[1], full_logits(model, b_next)[-1]) < 1e-4);
  CHECK(max_abs_diff(compacted_logits, replaced_logits) < 1e-4);
}

TEST_CASE("continuous batching: slots refill as sequences stop, tokens equal one-at-a-time decoding",
          "[prefix_cache][generation]") {
  const auto& model = tiny_text_model();
  const auto& tokenizer = *tiny_text_files().tokenizer;
  std::vector<std::vector<int>> prompts;
  for (std::string text : {"The capital of France is", "Once upon a time", "1, 2, 3,", "Dear Sir,",
                           "The weather today is cold and", "Q: Why?"})
    prompts.push_back(tokenizer.encode_with_bos(text));
  std::vector<int> max_tokens = {7, 3, 12, 1, 5, 9};
  std::vector<int64_t> lengths;
  std::vector<GenerationLimits> limits;
  for (size_t i = 0; i < prompts.size(); ++i) {
    lengths.push_back(static_cast<int64_t>(prompts[i].size()));
    GenerationLimits limit;
    limit.max_new_tokens = max_tokens[i];
    limits.push_back(limit);
  }
  size_t prefills = 0;
  auto prefill = [&](const std::vector<size_t>& which) {
    ++prefills;
    std::vector<std::vector<int>> batch;
    for (size_t i : which) batch.push_back(prompts[i]);
    PrefilledPrompts filled{model.new_cache(static_cast<int64_t>(which.size()), 32), {}};
    filled.last_hidden = model.forward(make_batch(batch, Padding::Left, 0, torch::kCPU), filled.cache).select(1, -1);
    return filled;
  };
  std::vector<size_t> finish_order;
  auto results = generate_continuously(model, lengths, limits, {}, 2, prefill,
                                       [&](size_t prompt, const GreedyResult&) { finish_order.push_back(prompt); });
  CHECK(prefills > 2);  // slots were refilled, not all prompts prefilled up front
  CHECK(finish_order.size() == prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    INFO("prompt " << i);
    GreedyOptions alone;
    alone.max_new_tokens = max_tokens[i];
    CHECK(results[i].tokens == greedy_generate(model, {prompts[i]}, alone).front().tokens);
    CHECK(results[i].finish_reason == "length");
  }
}

TEST_CASE("generation with the prefix cache and a refilled batch answers like unshared generation",
          "[prefix_cache][generation]") {
  std::vector<GenerationRequest> requests;
  int tokens = 2;
  for (std::string question : {"What is the capital of Spain?", "Which ocean is the largest?", "Name a lake.",
                               "Which sea lies north of Turkey?", "Where is the Atacama desert?"})
    requests.push_back({kShots + question + "\nAnswer:", {"\n\n"}, tokens++ * 2});
  auto shared = engine(true, 4, 1024, /*generation_width=*/2);
  auto unshared = engine(false, 4, 0, 1);
  auto a = shared.generate_until(requests, nullptr);
  auto b = unshared.generate_until(requests, nullptr);
  for (size_t i = 0; i < requests.size(); ++i) {
    INFO("request " << i);
    CHECK(a[i].text == b[i].text);
    CHECK(a[i].generated_tokens == b[i].generated_tokens);
    CHECK(a[i].hit_max_tokens == b[i].hit_max_tokens);
  }
  CHECK(shared.counters().prefix_cache_tokens > 0);
  CHECK(shared.counters().forward_tokens < unshared.counters().forward_tokens);
  CHECK(shared.counters().generation_width == 2);
}

TEST_CASE("the small-batch projection equals torch::linear for 2 to 16 rows", "[generation][kernels]") {
  torch::manual_seed(7);
  INFO("kernel " << small_batch_linear_kernel());
  for (int64_t rows : {2, 3, 8, 9, 16})
    for (auto [n, k] : {std::pair<int64_t, int64_t>{7, 5}, {129, 1152}, {300, 37}}) {
      auto x = torch::randn({rows, k}), w = torch::randn({n, k});
      REQUIRE(small_batch_linear_applies(x, w) == (std::string(small_batch_linear_kernel()) != "none"));
      if (!small_batch_linear_applies(x, w)) continue;
      auto expected = torch::linear(x.to(torch::kFloat64), w.to(torch::kFloat64));
      CHECK(max_abs_diff(small_batch_linear(x, w), expected) < 1e-3);
    }
  // Outside its range: one row (mv's job), 17 rows, bf16, non-contiguous weights.
  CHECK_FALSE(small_batch_linear_applies(torch::randn({1, 8}), torch::randn({4, 8})));
  CHECK_FALSE(small_batch_linear_applies(torch::randn({17, 8}), torch::randn({4, 8})));
  CHECK_FALSE(
      small_batch_linear_applies(torch::randn({4, 8}).to(torch::kBFloat16), torch::randn({4, 8}).to(torch::kBFloat16)));
  CHECK_FALSE(small_batch_linear_applies(torch::randn({4, 8}), torch::randn({8, 4}).t()));
}
