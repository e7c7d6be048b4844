#include "engine/throughput_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "common/error.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/device.h"
#include "model/gemma3.h"
#include "model/kernels/parallel_rows.h"
#include "model/model_files.h"
#include "model/weights.h"

namespace gemma {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// ---- what the kernels run on ----

std::string trimmed(std::string text) {
  const char* space = " \t\r\n-";
  text.erase(0, text.find_first_not_of(space));
  text.erase(text.find_last_not_of(space) + 1);
  return text;
}

// The value after `key` on the line of `text` that holds it, up to `end` (or the line's end).
std::string value_after(const std::string& text, const std::string& key, char end = '\n') {
  size_t at = text.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  size_t stop = text.find_first_of(std::string(1, end) + "\n", at);
  return trimmed(text.substr(at, stop == std::string::npos ? std::string::npos : stop - at));
}

Json cpu_description() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown", flags;
  while (std::getline(cpuinfo, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = trimmed(line.substr(0, colon));
    if (key == "model name" && model == "unknown") model = trimmed(line.substr(colon + 1));
    if (key == "flags" && flags.empty()) flags = " " + line.substr(colon + 1) + " ";
  }
  // The instruction sets that decide which GEMM and elementwise kernels can run.
  Json present = Json::array();
  for (const char* flag : {"avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx512_fp16",
                           "amx_tile", "amx_bf16", "amx_int8"})
    if (flags.find(std::string(" ") + flag + " ") != std::string::npos) present.push_back(flag);
  return Json{{"model", model}, {"flags", present}};
}

// The shared libraries of a BLAS that this process mapped: Debian's libblas.so.3 is an alternative
// (OpenBLAS pthread, OpenBLAS OpenMP, BLIS or the reference), which LibTorch's BLAS_INFO cannot tell.
Json loaded_blas_libraries() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> found;
  std::string line;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    std::string name = path.substr(path.rfind('/') + 1);
    for (const char* blas : {"libblas", "libopenblas", "libmkl", "libblis", "libflexiblas", "libcblas"})
      if (name.rfind(blas, 0) == 0) found.insert(path);
  }
  return Json(std::vector<std::string>(found.begin(), found.end()));
}

Json kernel_path(const Placement& placement, const ThreadChoice& threads) {
  const std::string config = at::show_config();
  const char* capability_env = std::getenv("ATEN_CPU_CAPABILITY");
  std::string onednn = value_after(config, "Intel(R) MKL-DNN ");
  if (onednn.empty()) onednn = value_after(config, "oneDNN ");
  return Json{{"device", placement.label()},
              {"dtype", dtype_label(placement.dtype)},
              {"dtype_reason", placement.dtype_reason},
              {"threads", threads.threads},
              {"threads_reason", threads.reason},
              // ATen picks its elementwise kernels (GELU's tanh, softmax, norms) by this capability; LibTorch
              // 1.13 keeps AVX512 opt-in (ATEN_CPU_CAPABILITY=avx512), which main() sets where the CPU has it.
              {"aten_cpu_capability", aten_cpu_capability_in_effect()},
              {"aten_cpu_capability_env", capability_env ? capability_env : ""},
              {"aten_cpu_capability_reason", aten_cpu_capability_reason()},
              {"blas_info", value_after(config, "BLAS_INFO=", ',')},
              {"blas_libraries", loaded_blas_libraries()},
              {"onednn", onednn},
              {"torch_version", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                                    std::to_string(TORCH_VERSION_PATCH)}};
}

// ---- timing ----

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

template <class Work>
double seconds_of(const torch::Device& device, Work&& work) {
  synchronize(device);
  auto start = Clock::now();
  work();
  synchronize(device);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The best rate of a kernel over at least 5 repetitions (each of >= 0.25 s), after `warm_up_seconds` of
// untimed calls: a peak, for the bounds (GEMM rate, read bandwidth). One warm-up call and a median were not enough on a
// shared 2-core VM: the bf16 GEMM rate came out 715 in one run and 1744 GFLOP/s in the next (oneDNN's AMX kernels are
// set up, and the cores come up to speed, over the first calls; a neighbour's burst takes a repetition, not the peak).
template <class Work>
double peak_rate(const torch::Device& device, int repetitions, double work_per_call, Work&& work,
                 double warm_up_seconds = 0.5) {
  double warmed = 0;
  while (warmed < warm_up_seconds) warmed += seconds_of(device, work);
  std::vector<double> rates;
  for (int r = 0; r < std::max(repetitions, 5); ++r) {
    int64_t calls = 0;
    const double elapsed = seconds_of(device, [&] {
      auto start = Clock::now();
      do {
        work();
        ++calls;
        if (device.is_cuda()) synchronize(device);
      } while (std::chrono::duration<double>(Clock::now() - start).count() < 0.25);
    });
    rates.push_back(work_per_call * static_cast<double>(calls) / elapsed);
  }
  return *std::max_element(rates.begin(), rates.end());
}

// GFLOP/s of torch::linear [M, K] x [N, K]^T in `dtype`: the rate prefill's projections can reach.
Json gemm_peak(torch::ScalarType dtype, const torch::Device& device, int repetitions) {
  // Large enough for the library's best blocking, small enough to time in a fraction of a second even
  // where bf16 has no native kernel (an AVX2-only CPU runs it ~20x slower than fp32).
  const int64_t M = device.is_cuda() ? 8192 : 1024, K = device.is_cuda() ? 8192 : 2048,
                N = device.is_cuda() ? 8192 : 4096;
  auto options = torch::TensorOptions().device(device).dtype(dtype);
  auto a = torch::randn({M, K}, options), b = torch::randn({N, K}, options);
  const double flops = 2.0 * M * K * N;
  double rate = peak_rate(device, repetitions, flops / 1e9, [&] { (void)torch::linear(a, b); });
  return Json{{"dtype", dtype_label(dtype)}, {"shape", fmt::format("{}x{}x{}", M, K, N)}, {"gflop_s", rate}};
}

// One pass reading every byte of `buffer` on LibTorch's threads; the sum keeps the reads alive.
uint64_t read_pass(const torch::Tensor& buffer) {
  const auto* words = static_cast<const uint64_t*>(buffer.data_ptr());
  const int64_t count = buffer.numel() * buffer.element_size() / 8;
  std::vector<uint64_t> partial(static_cast<size_t>(at::get_num_threads()) * 8, 0);  // a cache line per thread
  parallel_rows(count, int64_t(1) << 16, [&](int64_t begin, int64_t end) {
    uint64_t a = 0, b = 0, c = 0, d = 0;  // independent chains, so the loads are not serialised on one add
    int64_t i = begin;
    for (; i + 4 <= end; i += 4) a += words[i], b += words[i + 1], c += words[i + 2], d += words[i + 3];
    for (; i < end; ++i) a += words[i];
    partial[static_cast<size_t>(at::get_thread_num()) * 8] += a + b + c + d;
  });
  uint64_t total = 0;
  for (uint64_t p : partial) total += p;
  return total;
}

// GB/s of reading a buffer as large as the model's weights (at least 64 MiB, at most 2 GiB on the
// CPU, 4 GiB on CUDA): the rate one decode step can stream them at. Sized by the weights because a
// CPU's last-level cache may hold a small model whole (480 MiB of L3 on the VM measured in
// docs/performance.md), and then that cache, not DRAM, is what decode reads from.
// On the CPU the faster of a plain threaded read loop and a float32 matrix-vector product over the
// buffer (BLAS's sgemv prefetches and streams at the bound where a plain loop may not); on CUDA a sum.
Json read_bandwidth(const torch::Device& device, int repetitions, double weight_bytes) {
  const double most = device.is_cuda() ? double(int64_t(4) << 30) : double(int64_t(2) << 30);
  constexpr int64_t kColumns = 4096;
  const int64_t row_bytes = kColumns * 4;
  const int64_t bytes = static_cast<int64_t>(std::clamp(weight_bytes, double(64 << 20), most)) / row_bytes * row_bytes;
  auto buffer =
      torch::ones({bytes / row_bytes, kColumns}, torch::TensorOptions().device(device).dtype(torch::kFloat32));
  const double gigabytes = static_cast<double>(bytes) / 1e9;
  if (device.is_cuda()) {
    double rate = peak_rate(device, repetitions, gigabytes, [&] { (void)buffer.sum(); });
    return Json{{"what", fmt::format("torch sum of {} MiB (the weights' size)", bytes >> 20)}, {"gb_s", rate}};
  }
  volatile uint64_t sink = 0;
  const double loop = peak_rate(device, repetitions, gigabytes, [&] { sink = sink + read_pass(buffer); });
  auto vector = torch::ones({kColumns});
  const double sgemv = peak_rate(device, repetitions, gigabytes, [&] { (void)torch::mv(buffer, vector); });
  return Json{
      {"what", fmt::format("read of {} MiB (the weights' size), faster of a threaded loop and sgemv", bytes >> 20)},
      {"gb_s", std::max(loop, sgemv)},
      {"read_loop_gb_s", loop},
      {"sgemv_gb_s", sgemv}};
}

// ---- the model ----

struct LoadedModel {
  std::unique_ptr<Gemma3TextModel> model;
  std::string source;
};

LoadedModel load_model(const ThroughputOptions& options, const Placement& placement) {
  if (!options.model.empty()) {
    ModelFiles files = open_model_files(options.model, /*with_tokenizer=*/false);
    return {Gemma3TextModel::load(files.config, Checkpoint::open(files.dir), placement), files.dir.string()};
  }
  TextConfig config = config_preset(options.preset).text;
  return {std::make_unique<Gemma3TextModel>(config, random_text_weights(config, placement, 1), placement),
          "preset " + options.preset + " (random weights)"};
}

struct ModelCosts {
  double parameters = 0;    // every element of every weight tensor
  double weight_bytes = 0;  // bytes one decode step reads: all matrices, the norms, the tied head
  double matrix_flops = 0;  // per token through the decoder's projections (2 per multiply-add)
  double head_flops = 0;    // per token through the tied LM head
};

ModelCosts model_costs(const Gemma3TextModel& model) {
  const TextWeights& w = model.weights();
  ModelCosts costs;
  auto add = [&](const torch::Tensor& t, bool is_matrix) {
    if (!t.defined()) return;
    costs.parameters += static_cast<double>(t.numel());
    costs.weight_bytes += static_cast<double>(t.numel()) * static_cast<double>(t.element_size());
    if (is_matrix) costs.matrix_flops += 2.0 * static_cast<double>(t.numel());
  };
  add(w.embed_tokens, false);  // read as the LM head each step: counted in weight_bytes
  add(w.final_norm_scale, false);
  for (const auto& layer : w.layers) {
    for (const auto* m : {&layer.qkv_proj, &layer.o_proj, &layer.gate_up_proj, &layer.down_proj}) add(*m, true);
    for (const auto* s :
         {&layer.input_norm_scale, &layer.q_norm_scale, &layer.k_norm_scale, &layer.post_attention_norm_scale,
          &layer.pre_feedforward_norm_scale, &layer.post_feedforward_norm_scale})
      add(*s, false);
  }
  costs.head_flops = 2.0 * static_cast<double>(w.embed_tokens.numel());
  return costs;
}

// Keys a token at 0-based position `t` attends to in one layer (itself included).
int64_t visible_keys(const TextConfig& c, int layer, int64_t t) {
  const bool sliding = c.layer_types[layer] == LayerType::Sliding;
  return sliding ? std::min<int64_t>(t + 1, c.sliding_window) : t + 1;
}

// Scores (Q K^T) and weighted values (P V) of the tokens at positions [first, first + count), 2 FLOPs
// per multiply-add, only over the keys each may see (a materialised [T, S] score matrix does more).
double attention_flops(const TextConfig& c, int64_t first, int64_t count) {
  double keys = 0;
  for (int layer = 0; layer < c.num_layers; ++layer)
    for (int64_t t = first; t < first + count; ++t) keys += static_cast<double>(visible_keys(c, layer, t));
  return 4.0 * c.num_heads * c.head_dim * keys;
}

// Bytes of cached keys and values one decode step at position `t` reads, per sequence.
double kv_bytes_read(const TextConfig& c, int64_t t, int64_t element_size) {
  double keys = 0;
  for (int layer = 0; layer < c.num_layers; ++layer) keys += static_cast<double>(visible_keys(c, layer, t));
  return 2.0 * keys * c.num_kv_heads * c.head_dim * static_cast<double>(element_size);
}

std::vector<int> random_ids(int64_t n, int vocab, uint64_t seed) {
  torch::manual_seed(seed);
  auto t = torch::randint(3, vocab, {n}, torch::kInt64);
  return std::vector<int>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

Json row(const std::string& test, const std::string& label, int64_t batch, int64_t tokens, double seconds,
         double bound_tok_s, const std::string& bound, const std::string& projection_kernel) {
  const double tok_s = static_cast<double>(tokens) / seconds;
  return Json{{"test", test},
              {"label", label},
              {"batch", batch},
              {"tokens", tokens},
              {"seconds", seconds},
              {"tok_s", tok_s},
              {"bound_tok_s", bound_tok_s},
              {"percent_of_bound", 100.0 * tok_s / bound_tok_s},
              {"bound", bound},
              {"projection_kernel", projection_kernel}};
}

// The kernel the decoder's projections run on for `rows` tokens at once (model/gemma3.cpp project()).
std::string projection_kernel(const Gemma3TextModel& model, int64_t rows, const torch::Device& device,
                              torch::ScalarType dtype) {
  const auto& weight = model.weights().layers.at(0).gate_up_proj;
  return projection_path(torch::zeros({rows, weight.size(1)}, torch::TensorOptions().device(device).dtype(dtype)),
                         weight);
}

// Seconds of one decode step's matrix products alone for B sequences: every layer's four projections and
// the LM head through project(), on inputs of the step's shapes; the median over `repetitions` after one
// untimed pass. What else a step spends (norms, RoPE, attention, the KV cache, the argmax, LibTorch's
// dispatch of each small operation) is its overhead beside them.
double projection_seconds_per_step(const Gemma3TextModel& model, int64_t B, const torch::Device& device,
                                   torch::ScalarType dtype, int repetitions) {
  const TextConfig& c = model.config();
  const auto options = torch::TensorOptions().device(device).dtype(dtype);
  auto hidden = torch::full({B, 1, c.hidden_size}, 0.01, options);
  auto attended = torch::full({B, 1, c.num_heads * c.head_dim}, 0.01, options);
  auto activated = torch::full({B, 1, c.intermediate_size}, 0.01, options);
  const auto& weights = model.weights();
  auto pass = [&] {
    for (const auto& layer : weights.layers) {
      (void)project(hidden, layer.qkv_proj);
      (void)project(attended, layer.o_proj);
      (void)project(hidden, layer.gate_up_proj);
      (void)project(activated, layer.down_proj);
    }
    (void)project(hidden.select(1, 0), weights.embed_tokens);
  };
  seconds_of(device, pass);
  std::vector<double> seconds;
  for (int r = 0; r < repetitions; ++r) seconds.push_back(seconds_of(device, pass));
  return median(seconds);
}

}  // namespace

Json measure_throughput(const ThroughputOptions& options) {
  const ThreadChoice threads = apply_threads(options.threads);
  c10::InferenceMode inference;
  // --dtype auto follows the checkpoint; a preset stands for a released checkpoint, stored in bfloat16.
  const std::string checkpoint_dtype =
      options.model.empty() ? "bfloat16" : open_model_files(options.model, /*with_tokenizer=*/false).config.torch_dtype;
  const Placement placement = parse_placement(options.device, options.dtype, checkpoint_dtype);
  if (placement.num_stages() > 1) fail("bench: --device {}: one device at a time", options.device);
  const torch::Device device = placement.device;
  const int reps = options.repetitions;

  Json peaks;
  std::set<torch::ScalarType> gemm_dtypes = {torch::kFloat32, torch::kBFloat16, placement.dtype};
  Json gemm = Json::array();
  double compute_peak_gflops = 0;
  for (auto dtype : gemm_dtypes) {
    Json one = gemm_peak(dtype, device, reps);
    if (dtype == placement.dtype) compute_peak_gflops = one["gflop_s"].get<double>();
    gemm.push_back(one);
  }
  peaks["gemm"] = gemm;

  LoadedModel loaded = load_model(options, placement);
  const Gemma3TextModel& model = *loaded.model;
  const TextConfig& c = model.config();
  const ModelCosts costs = model_costs(model);
  peaks["read_bandwidth"] = read_bandwidth(device, reps, costs.weight_bytes);
  const double bandwidth_gbs = peaks["read_bandwidth"]["gb_s"].get<double>();
  const int64_t T = options.prompt_tokens, steps = options.decode_tokens;
  const int64_t kv_element_size = torch::elementSize(placement.dtype);

  Json rows = Json::array();
  auto prompt = make_batch({random_ids(T, c.vocab_size, 7)}, Padding::Right, 0, device);
  {  // warm-up: the allocator's first blocks and the libraries' thread pools, untimed
    auto short_prompt = make_batch({random_ids(std::min<int64_t>(T, 16), c.vocab_size, 8)}, Padding::Right, 0, device);
    KVCache cache = model.new_cache(1, short_prompt.ids.size(1));
    (void)model.logits(model.forward(short_prompt, cache));
  }

  const double gemm_peak_flops = compute_peak_gflops * 1e9;
  const std::string gemm_name = fmt::format("GEMM {} peak", dtype_label(placement.dtype));
  for (bool all_logits : {true, false}) {
    std::vector<double> seconds;
    for (int r = 0; r < reps; ++r)
      seconds.push_back(seconds_of(device, [&] {
        KVCache cache = model.new_cache(1, T);
        auto hidden = model.forward(prompt, cache);
        (void)(all_logits ? model.logits(hidden) : model.logits(hidden.select(1, -1)));
      }));
    const double flops = static_cast<double>(T) * costs.matrix_flops + attention_flops(c, 0, T) +
                         (all_logits ? static_cast<double>(T) : 1.0) * costs.head_flops;
    const double bound = gemm_peak_flops / (flops / static_cast<double>(T));
    rows.push_back(row(all_logits ? "prefill_all_logits" : "prefill_last_logit",
                       fmt::format("prefill 1x{}, {}", T, all_logits ? "logits at every position" : "last logit only"),
                       1, T, median(seconds), bound,
                       fmt::format("{} / {:.2f} GFLOP per token (projections, LM head{}, attention over visible keys)",
                                   gemm_name, flops / static_cast<double>(T) / 1e9, all_logits ? "" : " once"),
                       projection_kernel(model, T, device, placement.dtype)));
  }

  // Decode as greedy generation runs it: B sequences step together, each step the LM head and its argmax
  // (greedy_pick, as generate() takes them) and one forward of [B, 1] tokens through the KV cache. They
  // start after a one-token prompt, as llama-bench's tg does, so the rows measure the weights' streaming,
  // not a long context's attention.
  for (int B : options.batch_widths) {
    std::vector<double> seconds;
    std::vector<std::vector<int>> starts;
    for (int b = 0; b < B; ++b) starts.push_back({2 + b % (c.vocab_size - 2)});
    for (int r = 0; r < reps; ++r) {
      auto start = make_batch(starts, Padding::Left, 0, device);
      KVCache cache = model.new_cache(B, 1 + steps);
      auto last_hidden = model.forward(start, cache).select(1, -1);
      auto positions = torch::ones({B, 1}, torch::TensorOptions().dtype(torch::kInt64).device(device));
      auto valid = torch::ones({B, 1}, torch::TensorOptions().dtype(torch::kBool).device(device));
      seconds.push_back(seconds_of(device, [&] {
        for (int64_t s = 0; s < steps; ++s) {
          auto next = model.greedy_pick(last_hidden).tokens.to(device).view({B, 1});
          TokenBatch step;
          step.ids = next;
          step.positions = positions + s;
          step.valid = valid;
          last_hidden = model.forward(step, cache).select(1, -1);
        }
      }));
    }
    double kv_bytes = 0;  // the mean over the steps of the cache a sequence reads
    for (int64_t s = 0; s < steps; ++s) kv_bytes += kv_bytes_read(c, 1 + s, kv_element_size);
    kv_bytes /= static_cast<double>(steps);
    const double bytes_per_step = costs.weight_bytes + B * kv_bytes;
    const double bound = B * bandwidth_gbs * 1e9 / bytes_per_step;
    Json decode_row = row(
        "decode", fmt::format("decode {} sequence{}, {} steps", B, B == 1 ? "" : "s", steps), B, B * steps,
        median(seconds), bound,
        fmt::format("{} x read bandwidth / {:.3f} GB per step (every weight once, KV cache)", B, bytes_per_step / 1e9),
        projection_kernel(model, B, device, placement.dtype));
    // The overhead: the share of a step spent outside the matrix products.
    const double step_seconds = median(seconds) / static_cast<double>(steps);
    const double projection_seconds = projection_seconds_per_step(model, B, device, placement.dtype, reps);
    decode_row["projection_seconds_per_step"] = projection_seconds;
    decode_row["outside_projections_percent"] = 100.0 * std::max(0.0, step_seconds - projection_seconds) / step_seconds;
    rows.push_back(decode_row);
  }

  Json model_json{{"source", loaded.source},
                  {"parameters", costs.parameters},
                  {"weight_bytes", costs.weight_bytes},
                  {"layers", c.num_layers},
                  {"hidden_size", c.hidden_size},
                  {"vocab_size", c.vocab_size},
                  {"sliding_window", c.sliding_window}};
  Json batch_json = Json::array();
  for (int B : options.batch_widths) batch_json.push_back(B);
  Json settings{{"prompt_tokens", T}, {"decode_tokens", steps}, {"batch", batch_json}, {"repetitions", reps}};
  return Json{{"machine", cpu_description()},
              {"kernel_path", kernel_path(placement, threads)},
              {"model", model_json},
              {"settings", settings},
              {"peaks", peaks},
              {"rows", rows}};
}

}  // namespace gemma
