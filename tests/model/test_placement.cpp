// Pipeline placement (--device cuda:0,cuda:1): layers split into contiguous stages, activations and
// KV caches moving between them, must not change any number. On this machine the CPU stands in for
// every stage; GEMMA_TEST_STAGES (e.g. "cuda:0,cuda:0" or "cpu,cuda:0") runs the same checks on a GPU.
#include "model_fixtures.h"  // first: see the note there

#include <cstdlib>

#include "engine/model_engine.h"
#include "model/generation.h"
#include "model/model_files.h"

using namespace gemma;
using namespace gemma::test;

namespace {

std::string stages_under_test() {
  const char* stages = std::getenv("GEMMA_TEST_STAGES");
  return stages && *stages ? stages : "cpu,cpu,cpu";
}

bool all_cpu(const Placement& placement) {
  for (int s = 0; s < placement.num_stages(); ++s)
    if (!placement.stage_device(s).is_cpu()) return false;
  return true;
}

const ModelFiles& tiny_text_files() {
  static ModelFiles files = open_model_files(tiny_text_dir().string());
  return files;
}

std::unique_ptr<Gemma3TextModel> load_tiny(const Placement& placement) {
  return Gemma3TextModel::load(tiny_text_files().config, Checkpoint::open(tiny_text_dir()), placement);
}

std::vector<std::vector<int>> fixture_sequences() {
  auto manifest = read_json(tiny_text_dir() / "expected" / "manifest.json");
  std::vector<std::vector<int>> sequences;
  for (const auto& s : manifest["sequences"]) sequences.push_back(s["ids"].get<std::vector<int>>());
  return sequences;
}

torch::Tensor batch_logits(const Gemma3TextModel& model, const std::vector<std::vector<int>>& sequences) {
  auto batch = make_batch(sequences, Padding::Right, 0, model.placement().device);
  KVCache cache = model.new_cache(batch.ids.size(0), batch.ids.size(1));
  return model.logits(model.forward(batch, cache)).to(torch::kCPU);
}

}  // namespace

TEST_CASE("split_layers: contiguous, ordered, as equal as possible", "[placement]") {
  auto one = split_layers(26, 1);
  REQUIRE(one.size() == 1);
  CHECK(one[0].begin == 0);
  CHECK(one[0].end == 26);
  for (int layers : {7, 26, 34, 48, 62}) {
    for (int stages = 1; stages <= std::min(layers, 8); ++stages) {
      auto ranges = split_layers(layers, stages);
      REQUIRE(static_cast<int>(ranges.size()) == stages);
      int next = 0, smallest = layers, largest = 0;
      for (const auto& r : ranges) {
        CHECK(r.begin == next);
        CHECK(r.end > r.begin);
        smallest = std::min(smallest, r.end - r.begin);
        largest = std::max(largest, r.end - r.begin);
        next = r.end;
      }
      CHECK(next == layers);
      CHECK(largest - smallest <= 1);
      CHECK(ranges.front().end - ranges.front().begin == largest);  // the remainder goes first
    }
  }
  auto four = split_layers(26, 4);  // 7, 7, 6, 6
  CHECK(four[1].begin == 7);
  CHECK(four[2].begin == 14);
  CHECK(four[3].begin == 20);
  REQUIRE_THROWS_WITH(split_layers(7, 8), Catch::Contains("8 stages") && Catch::Contains("only 7 layers"));
}

TEST_CASE("parse_placement reads a device list", "[placement]") {
  auto single = parse_placement("cpu", "auto", "float32");
  CHECK(single.num_stages() == 1);
  CHECK(single.label() == "cpu");
  CHECK(single.dtype == torch::kFloat32);
  auto three = parse_placement("cpu,cpu,cpu", "bf16", "float32");
  CHECK(three.num_stages() == 3);
  CHECK(three.label() == "cpu,cpu,cpu");
  CHECK(three.dtype == torch::kBFloat16);
  CHECK(three.device.is_cpu());
  REQUIRE_THROWS_WITH(parse_placement("cpu,,cpu", "auto", "bfloat16"), Catch::Contains("empty entry"));
  REQUIRE_THROWS_WITH(parse_placement("cpu,", "auto", "bfloat16"), Catch::Contains("empty entry"));
  REQUIRE_THROWS_WITH(parse_placement("cpu,tpu", "auto", "bfloat16"), Catch::Contains("--device tpu"));
  auto devices = layer_devices(three, 7);
  REQUIRE(devices.size() == 7);
  if (!torch::cuda::is_available())
    REQUIRE_THROWS_WITH(parse_placement("cuda:0,cuda:1", "auto", "bfloat16"), Catch::Contains("CUDA is not available"));
}

TEST_CASE("a model split into stages computes what one device computes", "[placement]") {
  const Placement staged = parse_placement(stages_under_test(), "float32", "bfloat16");
  INFO("stages " << staged.label());
  REQUIRE(staged.num_stages() > 1);
  auto whole = load_tiny(Placement{});
  auto split = load_tiny(staged);
  const int layers = whole->config().num_layers;
  const bool exact = all_cpu(staged);  // same kernels, same order: bit for bit; else float tolerance
  auto same = [&](const torch::Tensor& a, const torch::Tensor& b) {
    if (exact) return torch::equal(a, b);
    return max_abs_diff(a, b) < 2e-4;
  };

  // Each layer's weights and KV cache live on its stage's device; the head on the first.
  const auto ranges = split_layers(layers, staged.num_stages());
  KVCache cache = split->new_cache(2, 8);
  for (size_t s = 0; s < ranges.size(); ++s)
    for (int i = ranges[s].begin; i < ranges[s].end; ++i) {
      INFO("layer " << i);
      CHECK(split->weights().layers[i].qkv_proj.device() == staged.stage_device(static_cast<int>(s)));
      CHECK(cache.keys(i, 0).device() == staged.stage_device(static_cast<int>(s)));
    }
  CHECK(split->weights().embed_tokens.device() == staged.device);
  CHECK(split->weights().final_norm_scale.device() == staged.stage_device(staged.num_stages() - 1));

  SECTION("logits of a right-padded batch") {
    auto sequences = fixture_sequences();
    CHECK(same(batch_logits(*whole, sequences), batch_logits(*split, sequences)));
  }
  SECTION("greedy decoding with the KV cache") {
    GreedyOptions options;
    options.max_new_tokens = 12;
    auto prompts = fixture_sequences();
    auto a = greedy_generate(*whole, prompts, options);
    auto b = greedy_generate(*split, prompts, options);
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].tokens == b[i].tokens);
  }
  SECTION("the engine: prefix sharing, forked caches, batches") {
    std::vector<evals::LoglikelihoodRequest> requests;
    for (std::string context : {"Question: What is 2 + 2?\nAnswer:", "The capital of France is"})
      for (std::string choice : {" 4", " Paris", " very happy to see the river again.", " B"})
        requests.push_back({context, choice});
    evals::ModelEngineOptions options;
    options.batch_size = 2;
    auto a = evals::ModelEngine(*whole, tiny_text_files(), options).loglikelihood(requests, nullptr);
    auto b = evals::ModelEngine(*split, tiny_text_files(), options).loglikelihood(requests, nullptr);
    for (size_t i = 0; i < a.size(); ++i) {
      if (exact)
        CHECK(a[i].logprob == b[i].logprob);
      else
        CHECK(a[i].logprob == Approx(b[i].logprob).margin(1e-3));
      CHECK(a[i].is_greedy == b[i].is_greedy);
    }
  }
  SECTION("the prefix cache and refilled generation slots, each layer's blocks on its stage") {
    const std::string shots =
        "Answer each question with one word.\n\nQ: What colour is the sky on a clear day?\n"
        "A: Blue\n\nQ: What do bees make?\nA: Honey\n\nQ: ";
    std::vector<evals::LoglikelihoodRequest> requests;
    std::vector<evals::GenerationRequest> generations;
    for (std::string question : {"What is frozen water?", "Which animal barks?", "What falls from clouds?"}) {
      for (std::string choice : {" Ice", " A dog that barks loudly"})
        requests.push_back({shots + question + "\nA:", choice});
      generations.push_back({shots + question + "\nA:", {"\n"}, 5});
    }
    evals::ModelEngineOptions options;
    options.batch_size = 2;
    options.generation_width = 2;
    evals::ModelEngine on_one(*whole, tiny_text_files(), options), on_stages(*split, tiny_text_files(), options);
    auto a = on_one.loglikelihood(requests, nullptr);
    auto b = on_stages.loglikelihood(requests, nullptr);
    CHECK(on_stages.counters().prefix_cache_tokens > 0);
    for (size_t i = 0; i < a.size(); ++i) {
      if (exact)
        CHECK(a[i].logprob == b[i].logprob);
      else
        CHECK(a[i].logprob == Approx(b[i].logprob).margin(1e-3));
    }
    auto generated_one = on_one.generate_until(generations, nullptr);
    auto generated_stages = on_stages.generate_until(generations, nullptr);
    for (size_t i = 0; i < generations.size(); ++i) CHECK(generated_one[i].text == generated_stages[i].text);
  }
}
