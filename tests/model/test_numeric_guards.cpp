// Numbers that cannot silently be wrong (issue 11): the embedding scale in the compute dtype, checked
// on a hidden size whose sqrt bf16 cannot hold against an independent float64 forward; non-finite
// weights refused at load; non-finite logits stopping the engine and `gemma-eval run` naming task,
// doc and first non-finite layer, with nothing scored or cached; prompts longer than the context
// window reported on stderr and in results.md; a prompt too long for memory failing naming task and doc.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "../support/temp_dir.h"
#include "../support/text_files.h"
#include "engine/model_engine.h"
#include "evals/caching_engine.h"
#include "evals/result_cache.h"
#include "model/model_files.h"
#include "model/safetensors.h"
#include "model/weight_layout.h"
#include "model/weights.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string tensor_bytes(const torch::Tensor& values, DType dtype) {
  auto stored = values.to(dtype == DType::Bf16 ? torch::kBFloat16 : torch::kFloat32).contiguous();
  return std::string(static_cast<const char*>(stored.data_ptr()), static_cast<size_t>(stored.nbytes()));
}

// A small random Gemma 3 text checkpoint (config.json + model.safetensors) of the given hidden size,
// stored in `dtype`, with tiny-text's attention layout: 2 sliding layers, window 6.
ModelConfig write_small_checkpoint(const fs::path& dir, int hidden_size, DType dtype) {
  fs::create_directories(dir);
  json config = read_json(tiny_text_dir() / "config.json");
  config["hidden_size"] = hidden_size;
  config["num_hidden_layers"] = 2;
  config["intermediate_size"] = 48;
  config["vocab_size"] = 128;
  write_text(dir / "config.json", config.dump(2));
  const ModelConfig parsed = load_config(dir / "config.json");
  torch::manual_seed(static_cast<uint64_t>(hidden_size));
  std::vector<TensorToWrite> tensors;
  for (const auto& expected : expected_text_tensors(parsed.text, NamingScheme::TextOnly)) {
    auto values = torch::randn(expected.shape) * 0.3;
    tensors.push_back({expected.name, dtype, expected.shape, tensor_bytes(values, dtype)});
  }
  write_safetensors(dir / "model.safetensors", tensors);
  return parsed;
}

torch::Tensor checkpoint_tensor(const Checkpoint& checkpoint, const std::string& name) {
  const TensorView* view = checkpoint.find(name);
  REQUIRE(view != nullptr);
  std::vector<float> values(static_cast<size_t>(view->numel()));
  convert_to_float32(*view, values.data());
  return torch::tensor(values).to(torch::kFloat64).view(view->shape);
}

// A float64 transcription of HF's Gemma3 text forward (modeling_gemma3.py: scaled embedding, per layer
// input norm, q/k/v, q/k RMSNorm, split-half RoPE, GQA softmax attention with the sliding window,
// post-attention norm, GeGLU with tanh GELU, post-feedforward norm; final norm; tied head) for one
// sequence at positions 0..T-1. It reads the tensors by name and shares nothing with model/.
torch::Tensor reference_logits(const Checkpoint& checkpoint, const TextConfig& c, const std::vector<int>& ids,
                               double embed_scale) {
  auto tensor = [&](const std::string& name) { return checkpoint_tensor(checkpoint, name); };
  const int64_t T = static_cast<int64_t>(ids.size()), nh = c.num_heads, nkv = c.num_kv_heads, hd = c.head_dim;
  auto rms = [&](const torch::Tensor& x, const torch::Tensor& w) {
    return x * torch::rsqrt(x.pow(2).mean(-1, true) + c.rms_norm_eps) * (1.0 + w);
  };
  auto rope = [&](const torch::Tensor& x, double base, double factor) {  // x [heads, T, hd]
    auto inv_freq = 1.0 / torch::pow(base, torch::arange(0, hd, 2, torch::kFloat64) / static_cast<double>(hd));
    auto angles = torch::outer(torch::arange(T, torch::kFloat64) / factor, inv_freq);
    auto emb = torch::cat({angles, angles}, -1);
    auto rotated = torch::cat({-x.narrow(-1, hd / 2, hd / 2), x.narrow(-1, 0, hd / 2)}, -1);
    return x * emb.cos() + rotated * emb.sin();
  };
  const auto E = tensor("model.embed_tokens.weight");
  auto h = E.index_select(0, torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()))) * embed_scale;
  auto q_pos = torch::arange(T).unsqueeze(1), k_pos = torch::arange(T).unsqueeze(0);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const bool sliding = c.layer_types[l] == LayerType::Sliding;
    auto x = rms(h, tensor(p + "input_layernorm.weight"));
    auto project = [&](const torch::Tensor& in, const std::string& name) {
      return torch::matmul(in, tensor(p + name).t());
    };
    auto q = project(x, "self_attn.q_proj.weight").view({T, nh, hd}).transpose(0, 1);
    auto k = project(x, "self_attn.k_proj.weight").view({T, nkv, hd}).transpose(0, 1);
    auto v = project(x, "self_attn.v_proj.weight").view({T, nkv, hd}).transpose(0, 1);
    q = rms(q, tensor(p + "self_attn.q_norm.weight"));
    k = rms(k, tensor(p + "self_attn.k_norm.weight"));
    const double base = sliding ? c.rope_local_base : c.rope_global_base;
    const double factor = sliding ? 1.0 : c.rope_global_scale;
    q = rope(q, base, factor), k = rope(k, base, factor);
    k = k.repeat_interleave(nh / nkv, 0), v = v.repeat_interleave(nh / nkv, 0);
    auto scores = torch::matmul(q, k.transpose(1, 2)) / std::sqrt(c.query_pre_attn_scalar);
    auto allowed = k_pos.le(q_pos);
    if (sliding) allowed = allowed.logical_and((q_pos - k_pos).lt(c.sliding_window));
    scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<double>::infinity());
    auto attended = torch::matmul(torch::softmax(scores, -1), v).transpose(0, 1).reshape({T, nh * hd});
    h = h + rms(project(attended, "self_attn.o_proj.weight"), tensor(p + "post_attention_layernorm.weight"));
    auto y = rms(h, tensor(p + "pre_feedforward_layernorm.weight"));
    auto fed = project(torch::gelu(project(y, "mlp.gate_proj.weight"), "tanh") * project(y, "mlp.up_proj.weight"),
                       "mlp.down_proj.weight");
    h = h + rms(fed, tensor(p + "post_feedforward_layernorm.weight"));
  }
  return torch::matmul(rms(h, tensor("model.norm.weight")), E.t());
}

Placement computing_in(torch::ScalarType dtype) {
  Placement placement;
  placement.dtype = dtype;
  return placement;
}

// A copy of the built-in tiny model to damage.
fs::path copy_tiny_model(const fs::path& where) {
  fs::copy(fs::path(GEMMA_TEST_BINARY_DIR) / "tiny-gemma3", where, fs::copy_options::recursive);
  return where;
}

// Rewrites one bf16 tensor of a safetensors file through `change` (on its float32 values).
void change_tensor(const fs::path& file, const std::string& name,
                   const std::function<void(std::vector<float>&)>& change) {
  std::vector<TensorToWrite> tensors;
  std::map<std::string, std::string> metadata;
  bool found = false;
  {
    auto opened = SafetensorsFile::open(file);
    metadata = opened->metadata();
    for (const TensorView& view : opened->tensors()) {
      TensorToWrite tensor{view.name, view.dtype, view.shape,
                           std::string(reinterpret_cast<const char*>(view.data), view.nbytes)};
      if (view.name == name) {
        REQUIRE(view.dtype == DType::Bf16);
        std::vector<float> values(static_cast<size_t>(view.numel()));
        convert_to_float32(view, values.data());
        change(values);
        for (size_t i = 0; i < values.size(); ++i) {
          const uint16_t bits = float_to_bf16_bits(values[i]);
          std::memcpy(&tensor.bytes[i * 2], &bits, 2);
        }
        found = true;
      }
      tensors.push_back(std::move(tensor));
    }
  }
  REQUIRE(found);
  write_safetensors(file, tensors, metadata);
}

size_t cached_results(const fs::path& cache_dir) {
  if (!fs::exists(cache_dir / evals::ResultCache::kFileName)) return 0;
  return evals::ResultCache(cache_dir).size();
}

}  // namespace

TEST_CASE("the embedding scale is sqrt(H) as a float32, rounded to the compute dtype, whatever is stored",
          "[numerics][embedding]") {
  // float32(sqrt(H)) (transformers' Gemma3TextScaledWordEmbedding) and bf16 of it, for the hidden sizes of the test
  // model below and of Gemma 3 270M, 1B, 4B, 12B and 27B.
  const std::map<int, std::pair<double, double>> expected = {{40, {6.3245554, 6.3125}}, {640, {25.298222, 25.25}},
                                                             {1152, {33.941124, 34.0}}, {2560, {50.596443, 50.5}},
                                                             {3840, {61.967735, 62.0}}, {5376, {73.321213, 73.5}}};
  TempDir dir("gemma-eval-embedding-scale");
  for (const auto& [hidden, scales] : expected) {
    const double float32_scale = static_cast<float>(std::sqrt(static_cast<double>(hidden)));
    CHECK(float32_scale == Approx(scales.first).epsilon(1e-7));
    CHECK(embedding_scale(hidden, torch::kFloat32) == float32_scale);
    CHECK(embedding_scale(hidden, torch::kBFloat16) == scales.second);
    for (DType stored : {DType::Bf16, DType::F32}) {
      INFO("hidden_size " << hidden << ", stored " << dtype_name(stored));
      const fs::path model = dir.path / (std::to_string(hidden) + std::string(dtype_name(stored)));
      const ModelConfig config = write_small_checkpoint(model, hidden, stored);
      const Checkpoint checkpoint = Checkpoint::open(model);
      CHECK(load_text_weights(config, checkpoint, computing_in(torch::kFloat32)).embed_scale == float32_scale);
      CHECK(load_text_weights(config, checkpoint, computing_in(torch::kBFloat16)).embed_scale == scales.second);
    }
  }
  CHECK(embedding_scale(1152, torch::kFloat16) == 33.9375);
  CHECK(embedding_scale(640, torch::kFloat16) == 25.296875);
}

TEST_CASE("a bf16 checkpoint of hidden size 40 computed in float32 matches an independent float64 forward",
          "[numerics][embedding][parity]") {
  TempDir dir("gemma-eval-hidden-40");
  const ModelConfig config = write_small_checkpoint(dir.path, 40, DType::Bf16);
  const Checkpoint checkpoint = Checkpoint::open(dir.path);
  auto model = Gemma3TextModel::load(config, checkpoint, Placement{});
  const std::vector<int> ids = {2, 17, 5, 99, 64, 3, 42, 77, 11, 120, 8};  // longer than the window of 6

  std::vector<torch::Tensor> residual;
  auto logits = full_logits(*model, ids, &residual).to(torch::kFloat64);
  // The scaled embeddings: the float32 weights times float32(sqrt(40)), as HF computes in float32.
  const float scale = static_cast<float>(std::sqrt(40.0));
  auto rows = checkpoint_tensor(checkpoint, "model.embed_tokens.weight")
                  .to(torch::kFloat32)
                  .index_select(0, torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())));
  CHECK(torch::equal(residual[0][0], rows * scale));

  constexpr double kTolerance = 1e-4;
  auto expected = reference_logits(checkpoint, config.text, ids, scale);
  CHECK(max_abs_diff(logits, expected) < kTolerance);
  // The bf16-rounded scale (6.3125) moves the logits far beyond the tolerance: the check above tells them apart.
  CHECK(max_abs_diff(reference_logits(checkpoint, config.text, ids, 6.3125), expected) > 10 * kTolerance);
}

TEST_CASE("a non-finite weight is refused at load, naming the tensor", "[non-finite][loading]") {
  TempDir dir("gemma-eval-inf-weight");
  const fs::path model = copy_tiny_model(dir.path / "model");
  change_tensor(model / "model.safetensors", "model.layers.3.mlp.down_proj.weight",
                [](std::vector<float>& values) { values[77] = std::numeric_limits<float>::infinity(); });
  CliRun cli = run_cli("run --task arc_easy --limit 2 --shots 0 --no-progress --model " + quote(model) + " --cache " +
                       quote(dir.path / "cache") + " --output " + quote(dir.path / "out"));
  INFO(cli.output);
  CHECK(cli.status == 1);
  CHECK_THAT(cli.output, Catch::Contains("model.layers.3.mlp.down_proj.weight") && Catch::Contains("non-finite") &&
                             Catch::Contains("flat index 77"));
  CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
  CHECK(cached_results(dir.path / "cache") == 0);
}

TEST_CASE("non-finite logits stop the engine naming the request and the first non-finite layer; nothing is cached",
          "[non-finite][engine]") {
  const ModelFiles files = open_model_files(tiny_text_dir().string());
  TextWeights weights = load_text_weights(files.config, Checkpoint::open(tiny_text_dir()), Placement{});
  weights.layers[4].down_proj[0][5].fill_(std::numeric_limits<float>::infinity());  // after the load-time check
  const Gemma3TextModel model(files.config.text, std::move(weights), Placement{});
  evals::ModelEngine engine(model, files, {});

  std::vector<evals::LoglikelihoodRequest> requests;
  for (std::string context : {"The capital of France is", "Question: What is 2 + 2?\nAnswer:"})
    for (std::string choice : {" Paris", " four, or so it is said"}) requests.push_back({context, choice});

  SECTION("log-likelihoods") {
    try {
      engine.loglikelihood(requests, nullptr);
      FAIL("non-finite logits were scored");
    } catch (const evals::RequestError& e) {
      CHECK(e.request_index < requests.size());
      CHECK_THAT(e.what(), Catch::Contains("not finite") && Catch::Contains("decoder layer 4"));
    }
  }
  SECTION("generations") {
    try {
      engine.generate_until({{"The capital of France is", {"\n"}, 8}, {"Once upon a time", {"\n"}, 8}}, nullptr);
      FAIL("a generation was made from non-finite logits");
    } catch (const evals::RequestError& e) {
      CHECK(e.request_index < 2);
      CHECK_THAT(e.what(), Catch::Contains("after 0 generated tokens") && Catch::Contains("decoder layer 4"));
    }
  }
  SECTION("through the result cache") {
    TempDir dir("gemma-eval-nan-cache");
    evals::ResultCache cache(dir.path);
    evals::CachingEngine caching(engine, cache, "identity");
    CHECK_THROWS_AS(caching.loglikelihood(requests, nullptr), evals::RequestError);
    CHECK(cache.size() == 0);
  }
}

TEST_CASE("gemma-eval run: logits that overflow in a middle layer stop the run naming task, doc and layer",
          "[non-finite][run]") {
  TempDir dir("gemma-eval-overflow");
  const fs::path model = copy_tiny_model(dir.path / "model");
  // Finite weights (the load-time check passes) whose product overflows float32: layer 3's
  // post-feedforward norm scales its unit-RMS input by 3e38, so the residual stream becomes Inf there.
  change_tensor(model / "model.safetensors", "model.layers.3.post_feedforward_layernorm.weight",
                [](std::vector<float>& values) { std::fill(values.begin(), values.end(), 3e38f); });
  CliRun cli = run_cli("run --task arc_easy --limit 2 --shots 0 --no-progress --model " + quote(model) + " --cache " +
                       quote(dir.path / "cache") + " --output " + quote(dir.path / "out"));
  INFO(cli.output);
  CHECK(cli.status == 1);
  CHECK_THAT(cli.output, Catch::Contains("error: task arc_easy: doc ") && Catch::Contains("not finite") &&
                             Catch::Contains("decoder layer 3"));
  CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
  CHECK(cached_results(dir.path / "cache") == 0);
}

TEST_CASE("gemma-eval run: prompts cut to the context window are counted on stderr and under the results.md table",
          "[run][truncation]") {
  TempDir dir("gemma-eval-truncation");
  const fs::path out = dir.path / "out";
  CliRun cli = run_cli("run --task arc_easy --limit 3 --shots 0 --max-length 48 --no-progress --no-cache --output " +
                       quote(out));
  INFO(cli.output);
  REQUIRE(cli.status == 0);
  const json results = read_json(out / "results.json");
  const size_t truncated = results["config"]["engine"]["truncated_requests"].get<size_t>();
  REQUIRE(truncated > 0);
  const std::string count =
      std::to_string(truncated) + " request(s) had a prompt longer than the context window of 48 tokens";
  CHECK_THAT(cli.output, Catch::Contains("warning: " + count));
  CHECK_THAT(read_text(out / "results.md"),
             Catch::Contains("Truncated: " + count) && Catch::Contains("arc_easy " + std::to_string(truncated)));

  const fs::path whole = dir.path / "whole";
  CliRun untruncated =
      run_cli("run --task arc_easy --limit 3 --shots 0 --no-progress --no-cache --output " + quote(whole));
  REQUIRE(untruncated.status == 0);
  CHECK_THAT(untruncated.output, !Catch::Contains("context window"));
  CHECK_THAT(read_text(whole / "results.md"), !Catch::Contains("Truncated"));
}

// Attention runs in linear memory (model/attention.h), so the 300 000-token prompt fits a machine's
// memory: the child's address space is capped at 2 GB (its weights, KV cache and activations need
// more). AddressSanitizer reserves terabytes of address space up front, so it cannot run capped.
TEST_CASE("gemma-eval run: a prompt too long for memory fails naming task and doc", "[run][memory]") {
#ifdef GEMMA_TEST_SANITIZED  // gemma-eval is built with AddressSanitizer (the test's own code is not)
  WARN("skipped under AddressSanitizer: it cannot run with a capped address space");
  return;
#endif
  TempDir dir("gemma-eval-huge-prompt");
  const fs::path data = dir.path / "data";
  fs::create_directories(data);
  fs::copy(fs::path(GEMMA_TEST_SOURCE_DIR) / "datasets" / "samples" / "arc", data / "arc", fs::copy_options::recursive);
  const fs::path test_file = data / "arc" / "ARC-Easy-Test.jsonl";
  std::stringstream lines(read_text(test_file));
  std::string first, rest, line;
  std::getline(lines, first);
  while (std::getline(lines, line)) rest += line + "\n";
  json row = json::parse(first);
  // 300 000 words: 600 000 tokens.
  std::string stem;
  for (int i = 0; i < 300000; ++i) stem += "word ";
  row["question"]["stem"] = stem;
  write_text(test_file, row.dump() + "\n" + rest);

  CliRun cli =
      run_cli("run --task arc_easy --limit 1 --shots 0 --max-length 1000000 --no-progress --no-cache --data-dir " +
                  quote(data) + " --output " + quote(dir.path / "out"),
              /*virtual_memory_kb=*/2000000);
  INFO(cli.output.substr(0, 2000));
  CHECK(cli.status == 1);
  CHECK_THAT(cli.output, Catch::Contains("error: task arc_easy: doc 0: out of memory") &&
                             Catch::Contains("--max-length") && !Catch::Contains("internal error"));
  CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
}
