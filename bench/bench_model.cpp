// Model throughput on a random checkpoint with Gemma 3 1B's exact shapes (made in memory at start,
// never committed), with this LibTorch's fp32 GEMM rate measured in the same run so the numbers
// read as a fraction of the machine's peak.
//
//   build/bench_model                       # everything
//   build/bench_model --benchmark_filter=Gemm
//
// Counters: tokens/s for prefill and decode, GFLOP/s for GEMM and for the model's forward
// (2 * parameters-touched FLOPs per token, attention excluded).
#include <benchmark/benchmark.h>

#include <malloc.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <string>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "model/attention.h"
#include "model/config.h"
#include "model/cpu_features.h"
#include "model/device.h"
#include "model/gemma3.h"
#include "model/kernels/amx_bf16_linear.h"
#include "model/kernels/bf16_matvec.h"
#include "model/kernels/parallel_rows.h"
#include "model/small_batch_linear.h"
#include "model/weights.h"

using namespace gemma;

namespace {

// The 1B-shaped model computing in float32 or bf16 (weights resident in that dtype), made on first use.
const Gemma3TextModel& model_1b(torch::ScalarType dtype = torch::kFloat32) {
  static std::map<torch::ScalarType, std::unique_ptr<Gemma3TextModel>> models;
  auto& model = models[dtype];
  if (!model) {
    TextConfig config = config_preset("1b").text;
    Placement placement;  // CPU
    placement.dtype = dtype;
    model = std::make_unique<Gemma3TextModel>(config, random_text_weights(config, placement, 1), placement);
  }
  return *model;
}

torch::ScalarType dtype_arg(int64_t code) { return code == 16 ? torch::kBFloat16 : torch::kFloat32; }

// Bytes of weights one decode step reads: every decoder matrix and the LM head (the tied embedding).
double weight_bytes_per_token(const Gemma3TextModel& model) {
  double bytes = double(model.weights().embed_tokens.nbytes());
  for (const auto& layer : model.weights().layers)
    bytes += double(layer.qkv_proj.nbytes() + layer.o_proj.nbytes() + layer.gate_up_proj.nbytes() +
                    layer.down_proj.nbytes());
  return bytes;
}

// FLOPs of one token through the decoder's matrices (2 per multiply-add), LM head excluded.
double decoder_flops_per_token(const TextConfig& c) {
  double H = c.hidden_size, I = c.intermediate_size, q = double(c.num_heads) * c.head_dim,
         kv = double(c.num_kv_heads) * c.head_dim;
  return 2.0 * c.num_layers * (H * (q + 2 * kv) + q * H + 3 * H * I);
}

std::vector<int> random_ids(int64_t n, int vocab, int seed) {
  torch::manual_seed(seed);
  auto t = torch::randint(3, vocab, {n}, torch::kInt64);
  return std::vector<int>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

void BM_GemmFp32(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  auto a = torch::randn({m, k}), b = torch::randn({n, k});
  for (auto _ : state) benchmark::DoNotOptimize(torch::linear(a, b));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * m * k * n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GemmFp32)->Args({512, 1152, 6912})->Args({128, 1152, 1152})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GemmBf16(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  auto a = torch::randn({m, k}).to(torch::kBFloat16), b = torch::randn({n, k}).to(torch::kBFloat16);
  for (auto _ : state) benchmark::DoNotOptimize(torch::linear(a, b));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * m * k * n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
// The bf16 GEMM bound of prefill: the 1B MLP's gate_up (13824 rows) and down shapes at 512 tokens.
BENCHMARK(BM_GemmBf16)
    ->Args({128, 1152, 1152})
    ->Args({512, 1152, 13824})
    ->Args({512, 6912, 1152})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The memory-bandwidth bound of decode: one pass reading 1 GiB of float32, split over the intra-op
// threads like the projections (8 independent sums per thread so the adds never wait on each other).
void BM_MemoryRead(benchmark::State& state) {
  const int64_t n = int64_t(1) << 28;
  auto data = torch::rand({n});
  const float* values = data.data_ptr<float>();
  for (auto _ : state) {
    std::atomic<double> total{0};
    parallel_rows(n / 64, 1 << 12, [&](int64_t begin, int64_t end) {
      float sums[64] = {};
      for (int64_t block = begin; block < end; ++block)
        for (int j = 0; j < 64; ++j) sums[j] += values[block * 64 + j];
      double part = 0;
      for (float s : sums) part += s;
      for (double seen = total.load(); !total.compare_exchange_weak(seen, seen + part);) {
      }
    });
    benchmark::DoNotOptimize(total.load());
  }
  state.counters["GB/s"] =
      benchmark::Counter(double(data.nbytes()) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MemoryRead)->Unit(benchmark::kMillisecond)->UseRealTime();

// One token through a [6912, 1152] projection: GEMM with a single row vs matrix-vector product.
void BM_OneTokenProjection(benchmark::State& state) {
  const bool use_mv = state.range(0) == 1;
  auto w = torch::randn({6912, 1152});
  auto x = torch::randn({1, 1, 1152});
  for (auto _ : state) {
    if (use_mv)
      benchmark::DoNotOptimize(torch::mv(w, x.reshape({-1})));
    else
      benchmark::DoNotOptimize(torch::linear(x, w));
  }
  state.SetLabel(use_mv ? "torch::mv" : "torch::linear");
  state.counters["GB/s"] =
      benchmark::Counter(6912.0 * 1152 * 4 * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_OneTokenProjection)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The 1B decoder's projections, [rows, K]: qkv, o, gate_up, down, and the LM head (tied embedding).
const int64_t kProjectionShapes[][2] = {{1536, 1152}, {1152, 1024}, {13824, 1152}, {1152, 6912}, {262144, 1152}};
const char* const kProjectionNames[] = {"qkv", "o", "gate_up", "down", "lm_head"};

enum ProjectionPath { kFp32Mv, kBf16Mv, kBf16Linear, kBf16Matmul, kBf16Kernel, kFp32Linear, kBf16RowsMv, kBf16Amx };
const char* const kPathNames[] = {"fp32 torch::mv",        "bf16 torch::mv",      "bf16 torch::linear",
                                  "bf16 torch::matmul",    "bf16 bf16_matvec",    "fp32 torch::linear",
                                  "bf16 rows x torch::mv", "bf16 amx_bf16_linear"};

// M rows (decode of M sequences) through one projection of the 1B shape, by each candidate path. The
// weights rotate over copies of >= 1 GiB in all, so they come from DRAM as in a real decode step
// (2 GB of bf16 weights per token), not from this machine's large L3. GB/s counts weight bytes read once.
void BM_DecodeProjection(benchmark::State& state) {
  const auto shape = kProjectionShapes[state.range(0)];
  const auto path = static_cast<ProjectionPath>(state.range(1));
  const int64_t rows = state.range(2), N = shape[0], K = shape[1];
  const bool fp32 = path == kFp32Mv || path == kFp32Linear;
  if (path == kBf16Kernel && (!bf16_matvec_available() || rows > kBf16MatvecMaxRows)) {
    state.SkipWithError("this CPU has no AVX512_BF16, or more rows than bf16_matvec takes");
    return;
  }
  if (path == kBf16Amx && !amx_bf16_linear_available()) {
    state.SkipWithError("this CPU has no AMX-BF16");
    return;
  }
  const auto dtype = fp32 ? torch::kFloat32 : torch::kBFloat16;
  const double bytes = double(N) * K * (fp32 ? 4 : 2);
  // Arg 3 = 0: one copy, hot in cache where it fits: the kernel's compute rate apart from DRAM.
  const bool from_dram = state.range(3) != 0;
  const int64_t copies = from_dram ? std::max<int64_t>(1, int64_t(std::ceil((1 << 30) / bytes))) : 1;
  torch::manual_seed(0);
  std::vector<torch::Tensor> weights;
  weights.push_back((torch::randn({N, K}) * 0.03).to(dtype));
  for (int64_t c = 1; c < copies; ++c) weights.push_back(weights[0].clone());
  auto x = torch::randn({rows, K}).to(dtype);
  size_t next = 0;
  for (auto _ : state) {
    const auto& w = weights[next++ % weights.size()];
    switch (path) {
      case kFp32Mv:
      case kBf16Mv:
        if (rows == 1)
          benchmark::DoNotOptimize(torch::mv(w, x[0]));
        else
          for (int64_t r = 0; r < rows; ++r) benchmark::DoNotOptimize(torch::mv(w, x[r]));
        break;
      case kBf16RowsMv:
        for (int64_t r = 0; r < rows; ++r) benchmark::DoNotOptimize(torch::mv(w, x[r]));
        break;
      case kBf16Linear:
      case kFp32Linear:
        benchmark::DoNotOptimize(torch::linear(x, w));
        break;
      case kBf16Matmul:
        benchmark::DoNotOptimize(torch::matmul(x, w.t()));
        break;
      case kBf16Kernel:
        benchmark::DoNotOptimize(bf16_matvec(x, w));
        break;
      case kBf16Amx:
        benchmark::DoNotOptimize(amx_bf16_linear(x, w));
        break;
    }
  }
  state.SetLabel(std::string(kProjectionNames[state.range(0)]) + " " + kPathNames[path] + " x" + std::to_string(rows) +
                 (from_dram ? "" : ", hot") + ", " + std::to_string(at::get_num_threads()) + " threads");
  state.counters["GB/s"] = benchmark::Counter(bytes * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
void decode_projection_args(benchmark::internal::Benchmark* b) {
  for (int shape = 0; shape < 5; ++shape)
    for (int path : {kFp32Mv, kBf16Mv, kBf16Linear, kBf16Matmul, kBf16Kernel}) b->Args({shape, path, 1, 1});
  for (int path : {kFp32Mv, kBf16Kernel}) b->Args({2, path, 1, 0});
  for (int rows : {4, 8})
    for (int shape : {2, 3})
      for (int path : {kFp32Linear, kBf16Linear, kBf16RowsMv, kBf16Kernel}) b->Args({shape, path, rows, 1});
  // The bf16 paths of a decode step of 1-16 sequences (project() in model/gemma3.cpp picks among them).
  for (int shape = 0; shape < 5; ++shape)
    for (int rows : {1, 2, 4, 8, 16})
      for (int path : {kBf16Linear, kBf16Kernel, kBf16Amx})
        if (path != kBf16Kernel || rows <= kBf16MatvecMaxRows) b->Args({shape, path, rows, 1});
}
BENCHMARK(BM_DecodeProjection)->Apply(decode_projection_args)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Upcasting one 1B layer's bf16 weights to fp32, the per-forward cost of keeping bf16 resident.
void BM_UpcastOneLayerBf16(benchmark::State& state) {
  const auto& layer = model_1b().weights().layers[0];
  std::vector<torch::Tensor> bf16 = {layer.qkv_proj.to(torch::kBFloat16), layer.o_proj.to(torch::kBFloat16),
                                     layer.gate_up_proj.to(torch::kBFloat16), layer.down_proj.to(torch::kBFloat16)};
  for (auto _ : state)
    for (const auto& w : bf16) benchmark::DoNotOptimize(w.to(torch::kFloat32));
}
BENCHMARK(BM_UpcastOneLayerBf16)->Unit(benchmark::kMillisecond)->UseRealTime();

// Resident-set figures of this process from /proc/self/status, in MB ("VmRSS" now, "VmHWM" peak).
double status_mb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;  // kB
  return -1;
}

// Returns freed heap memory to the system (building the model leaves some) and restarts the peak
// (VmHWM) at the current RSS, so a case's peak counts only what it holds itself.
void reset_peak_rss() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

// Args: batch, length, dtype (32 | 16), logits at every position (1) or the last only (0).
void BM_Prefill1B(benchmark::State& state) {
  const auto dtype = dtype_arg(state.range(2));
  const bool all_logits = state.range(3) == 1;
  const auto& model = model_1b(dtype);
  reset_peak_rss();
  const double model_rss_mb = status_mb("VmRSS");
  const int64_t batch = state.range(0), length = state.range(1);
  std::vector<std::vector<int>> prompts;
  for (int64_t b = 0; b < batch; ++b) prompts.push_back(random_ids(length, model.config().vocab_size, int(b)));
  auto tokens = make_batch(prompts, Padding::Right, 0, torch::kCPU);
  for (auto _ : state) {
    KVCache cache = model.new_cache(batch, length);
    auto hidden = model.forward(tokens, cache);
    // Log-likelihood scoring reads every position's logits; ranking the next token only the last.
    benchmark::DoNotOptimize(model.logits(all_logits ? hidden : hidden.select(1, -1)));
  }
  const auto& c = model.config();
  const double head_flops = 2.0 * c.hidden_size * c.vocab_size;
  double tokens_done = double(batch * length) * state.iterations();
  state.SetLabel(dtype_label(dtype) + (all_logits ? ", all logits" : ", last logit"));
  state.counters["tokens/s"] = benchmark::Counter(tokens_done, benchmark::Counter::kIsRate);
  // GEMM FLOPs of the decoder and of the LM head rows computed, against BM_GemmFp32/BM_GemmBf16.
  state.counters["GFLOP/s"] =
      benchmark::Counter((tokens_done * decoder_flops_per_token(c) +
                          head_flops * (all_logits ? tokens_done : batch * state.iterations())) /
                             1e9,
                         benchmark::Counter::kIsRate);
  // Peak resident memory over the case beyond what the model held before it (weights): the KV cache,
  // activations and attention's working set. One long prompt per process gives its own figure.
  state.counters["peak_MB_over_model"] = status_mb("VmHWM") - model_rss_mb;
}
// Long prompts show attention's share: its work grows with T * keys visited, the rest with T.
// (One iteration of T = 8192 takes about a minute at fp32.)
BENCHMARK(BM_Prefill1B)
    ->Args({1, 512, 32, 1})
    ->Args({1, 512, 32, 0})
    ->Args({1, 512, 16, 1})
    ->Args({1, 512, 16, 0})
    ->Args({8, 128, 32, 0})
    ->Args({1, 2048, 32, 0})
    ->Args({1, 8192, 32, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5.0);

// Attention alone at the 1B shape (4 query heads over 1 kv head of 256), prefill of T tokens:
// blocked with a streaming softmax at block sizes 128..2048, against block 0 = the materialised
// [heads, T, T] scores and mask (the path before blocking). Picks AttentionOptions' default blocks.
void BM_AttentionBlocks(benchmark::State& state) {
  const int64_t T = state.range(0), block = state.range(1), window = state.range(2), nh = 4, nkv = 1, hd = 256;
  torch::manual_seed(0);
  auto q = torch::randn({1, T, nh, hd}), k = torch::randn({1, nkv, T, hd}), v = torch::randn({1, nkv, T, hd});
  AttentionVisibility vis;
  vis.query_positions = vis.key_positions = torch::arange(T, torch::kInt64).view({1, T});
  vis.key_valid = torch::ones({1, T}, torch::kBool);
  AttentionOptions options;
  options.scale = 1.0 / 16;
  options.sliding_window = window;
  options.query_block = options.key_block = block;
  c10::InferenceMode inference;
  for (auto _ : state) {
    if (block > 0) {
      benchmark::DoNotOptimize(attend(q, k, v, vis, options));
      continue;
    }
    auto distance = vis.query_positions.unsqueeze(2) - vis.key_positions.unsqueeze(1);
    auto allowed = distance.ge(0).logical_and(vis.key_valid.unsqueeze(1));
    if (window > 0) allowed = allowed.logical_and(distance.lt(window));
    auto scores =
        torch::matmul(q.transpose(1, 2).reshape({1, nkv, nh / nkv * T, hd}), k.transpose(-1, -2)) * options.scale;
    scores = scores.view({1, nkv, nh / nkv, T, T})
                 .masked_fill(allowed.unsqueeze(1).unsqueeze(1).logical_not(), std::numeric_limits<float>::lowest());
    auto probs = torch::softmax(scores, -1).view({1, nkv, nh / nkv * T, T});
    benchmark::DoNotOptimize(torch::matmul(probs, v));
  }
  state.SetLabel(block > 0 ? "blocked" : "materialised");
  state.counters["tokens/s"] = benchmark::Counter(double(T) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AttentionBlocks)
    ->ArgsProduct({{2048}, {0, 128, 256, 512, 1024, 2048}, {0, 512}})
    ->ArgsProduct({{8192}, {0, 256, 512, 1024}, {0, 512}})
    ->ArgsProduct({{512}, {0, 128, 256, 512}, {0}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Args: dtype (32 | 16), the bf16 matrix-vector kernel on (1) or off (0: LibTorch's paths).
void BM_Decode1B(benchmark::State& state) {
  const auto dtype = dtype_arg(state.range(0));
  const bool kernel = state.range(1) == 1;
  if (kernel && !bf16_matvec_available()) {
    state.SkipWithError("this CPU has no AVX512_BF16");
    return;
  }
  set_bf16_matvec_enabled(kernel);
  const auto& model = model_1b(dtype);
  const int64_t prompt_length = 128, steps = 16;
  auto prompt = make_batch({random_ids(prompt_length, model.config().vocab_size, 9)}, Padding::Right, 0, torch::kCPU);
  for (auto _ : state) {
    state.PauseTiming();
    KVCache cache = model.new_cache(1, prompt_length + steps);
    auto hidden = model.forward(prompt, cache);
    state.ResumeTiming();
    for (int64_t s = 0; s < steps; ++s) {
      auto next = model.logits(hidden.select(1, -1)).argmax(-1).view({1, 1});
      TokenBatch step{next, torch::full({1, 1}, prompt_length + s, torch::kInt64), torch::ones({1, 1}, torch::kBool)};
      hidden = model.forward(step, cache);
    }
  }
  set_bf16_matvec_enabled(true);
  state.SetLabel(dtype_label(dtype) +
                 (dtype == torch::kBFloat16 ? (kernel ? ", bf16_matvec" : ", LibTorch paths") : ""));
  const double tokens = double(steps) * state.iterations();
  state.counters["tokens/s"] = benchmark::Counter(tokens, benchmark::Counter::kIsRate);
  // Weight bytes streamed per second, against BM_MemoryRead's GB/s: the bandwidth bound.
  state.counters["GB/s"] =
      benchmark::Counter(tokens * weight_bytes_per_token(model) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Decode1B)
    ->Args({32, 0})
    ->Args({16, 0})
    ->Args({16, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5.0);

// A few rows through the 1B MLP's [6912, 1152] projection, as GB/s of weights read per call: the
// small-batch kernel against torch::linear (OpenBLAS) and one torch::mv per row.
void BM_SmallBatchProjection(benchmark::State& state) {
  const int64_t rows = state.range(0), path = state.range(1);
  auto w = torch::randn({6912, 1152});
  auto x = torch::randn({rows, 1152});
  set_small_batch_linear_enabled(path == 0);
  for (auto _ : state) {
    if (path == 0)
      benchmark::DoNotOptimize(small_batch_linear(x, w));
    else if (path == 1)
      benchmark::DoNotOptimize(torch::linear(x, w));
    else
      for (int64_t r = 0; r < rows; ++r) benchmark::DoNotOptimize(torch::mv(w, x[r]));
  }
  set_small_batch_linear_enabled(true);
  state.SetLabel(path == 0   ? std::string("kernel ") + small_batch_linear_kernel()
                 : path == 1 ? "torch::linear"
                             : "rows x torch::mv");
  state.counters["GB/s"] =
      benchmark::Counter(6912.0 * 1152 * 4 * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SmallBatchProjection)->ArgsProduct({{4, 8, 16}, {0, 1, 2}})->Unit(benchmark::kMicrosecond)->UseRealTime();

// Decode steps of B sequences together (aggregate tokens/s), with the small-batch kernel (arg 1)
// or torch::linear (arg 0) for the projections.
void BM_DecodeBatch1B(benchmark::State& state) {
  const auto& model = model_1b();
  const int64_t batch = state.range(0), prompt_length = 64, steps = 4;
  set_small_batch_linear_enabled(state.range(1) == 1);
  std::vector<std::vector<int>> prompts;
  for (int64_t b = 0; b < batch; ++b) prompts.push_back(random_ids(prompt_length, model.config().vocab_size, int(b)));
  auto prompt = make_batch(prompts, Padding::Right, 0, torch::kCPU);
  for (auto _ : state) {
    state.PauseTiming();
    KVCache cache = model.new_cache(batch, prompt_length + steps);
    auto hidden = model.forward(prompt, cache);
    state.ResumeTiming();
    for (int64_t s = 0; s < steps; ++s) {
      auto next = model.logits(hidden.select(1, -1)).argmax(-1).view({batch, 1});
      TokenBatch step{next, torch::full({batch, 1}, prompt_length + s, torch::kInt64),
                      torch::ones({batch, 1}, torch::kBool)};
      hidden = model.forward(step, cache);
    }
  }
  set_small_batch_linear_enabled(true);
  state.SetLabel(state.range(1) == 1 ? std::string("kernel ") + small_batch_linear_kernel() : "torch::linear");
  state.counters["tokens/s"] =
      benchmark::Counter(double(steps * batch) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeBatch1B)
    ->ArgsProduct({{4, 8, 16}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

// The tiny-text fixture's shape (/work/shared/reference/tiny-text): 7 layers 64 wide, the real
// 262144-token vocabulary. Its decode step is almost all per-operation overhead.
const Gemma3TextModel& model_tiny(torch::ScalarType dtype) {
  static std::map<torch::ScalarType, std::unique_ptr<Gemma3TextModel>> models;
  auto& model = models[dtype];
  if (!model) {
    TextConfig config = config_preset("1b").text;
    config.hidden_size = 64, config.intermediate_size = 128, config.num_layers = 7;
    config.num_heads = 4, config.num_kv_heads = 2, config.head_dim = 32, config.query_pre_attn_scalar = 32;
    config.sliding_window = 6, config.rope_global_scale = 8.0;
    config.layer_types.assign(7, LayerType::Sliding);
    config.layer_types[5] = LayerType::Full;
    Placement placement;
    placement.dtype = dtype;
    model = std::make_unique<Gemma3TextModel>(config, random_text_weights(config, placement, 1), placement);
  }
  return *model;
}

// Per-step overhead of decode: a greedy step of B sequences (LM head, argmax, one forward of [B, 1])
// against the same step's matrix products alone (every projection and the LM head through project(),
// the path the step takes, on inputs of the same shapes). The difference is everything else: norms,
// RoPE, attention over the cache, the cache's bookkeeping, visibility planning, allocations.
// Args: model (1 = 1B shape, 0 = tiny), dtype (32 | 16), B, part (0 = whole step, 1 = products only).
void BM_DecodeStepOverhead(benchmark::State& state) {
  const auto dtype = dtype_arg(state.range(1));
  const auto& model = state.range(0) == 1 ? model_1b(dtype) : model_tiny(dtype);
  const int64_t B = state.range(2), prompt_length = 32, steps = 8;
  const bool products_only = state.range(3) == 1;
  const TextConfig& c = model.config();
  const auto& w = model.weights();
  std::vector<std::vector<int>> prompts;
  for (int64_t b = 0; b < B; ++b) prompts.push_back(random_ids(prompt_length, c.vocab_size, 11 + int(b)));
  auto prompt = make_batch(prompts, Padding::Left, 0, torch::kCPU);
  auto options = torch::TensorOptions().dtype(dtype);
  auto hidden_in = torch::randn({B, c.hidden_size}, options),
       attn_in = torch::randn({B, c.num_heads * c.head_dim}, options);
  auto mlp_in = torch::randn({B, c.intermediate_size}, options);
  for (auto _ : state) {
    if (products_only) {
      for (int64_t s = 0; s < steps; ++s) {
        benchmark::DoNotOptimize(project(hidden_in, w.embed_tokens));
        for (const auto& layer : w.layers) {
          benchmark::DoNotOptimize(project(hidden_in, layer.qkv_proj));
          benchmark::DoNotOptimize(project(attn_in, layer.o_proj));
          benchmark::DoNotOptimize(project(hidden_in, layer.gate_up_proj));
          benchmark::DoNotOptimize(project(mlp_in, layer.down_proj));
        }
      }
      continue;
    }
    state.PauseTiming();
    KVCache cache = model.new_cache(B, prompt_length + steps);
    auto hidden = model.forward(prompt, cache).select(1, -1);
    auto positions = torch::full({B, 1}, prompt_length, torch::kInt64);
    auto valid = torch::ones({B, 1}, torch::kBool);
    state.ResumeTiming();
    for (int64_t s = 0; s < steps; ++s) {
      auto next = model.logits(hidden).argmax(-1).view({B, 1});
      TokenBatch step{next, positions + s, valid};
      hidden = model.forward(step, cache).select(1, -1);
    }
  }
  state.SetLabel(std::string(state.range(0) == 1 ? "1B" : "tiny") + " " + dtype_label(dtype) + " x" +
                 std::to_string(B) + (products_only ? ", matrix products only" : ", whole step") + ", " +
                 std::to_string(at::get_num_threads()) + " threads");
  state.counters["steps/s"] = benchmark::Counter(double(steps) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeStepOverhead)
    ->ArgsProduct({{0}, {32, 16}, {1, 8}, {0, 1}})
    ->ArgsProduct({{1}, {32, 16}, {1, 8}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

// What a greedy decode step does with the LM head's bf16 output besides the product (model.logits()'s
// cast to float32, the argmax, generate()'s finiteness check), for B sequences over the 1B vocabulary:
// part of the step's time outside the projections. Args: B, part (0 = cast + argmax, 1 = + isfinite).
void BM_GreedyPick(benchmark::State& state) {
  const int64_t B = state.range(0), vocab = 262144;
  torch::manual_seed(0);
  auto head_out = torch::randn({B, vocab}).to(torch::kBFloat16);
  for (auto _ : state) {
    auto logits = head_out.to(torch::kFloat32);
    benchmark::DoNotOptimize(logits.argmax(-1));
    if (state.range(1) == 1) benchmark::DoNotOptimize(torch::isfinite(logits).all(-1));
  }
  state.SetLabel("x" + std::to_string(B) + (state.range(1) == 1 ? ", cast + argmax + isfinite" : ", cast + argmax") +
                 ", " + std::to_string(at::get_num_threads()) + " threads");
}
BENCHMARK(BM_GreedyPick)->ArgsProduct({{1, 8}, {0, 1}})->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  // As gemma-eval's main(): ATen's AVX512 kernels where the CPU has them (before any torch op), and
  // every usable core unless OMP_NUM_THREADS says otherwise (model/cpu_features.h, model/device.h).
  gemma::choose_aten_cpu_capability(gemma::cpu_features());
  gemma::apply_threads(0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
