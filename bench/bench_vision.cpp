// Vision throughput on random weights with Gemma 3 4B's real shapes (made in memory at start, never
// committed): image preprocessing, the SigLIP tower + projector, and the tower's share of a DocVQA-like
// request. Each figure comes with a baseline measured in the same run, so it reads as a ratio:
//   - preprocessing (decode + PIL-exact bilinear resize + rescale/normalize of a generated 1000x750 JPEG
//     to 896x896, one thread) against a memcpy of the decoded image and OpenCV's cv::resize INTER_LINEAR
//     (a different filter, not PIL-exact; OpenCV held to one thread too);
//   - the tower (896 px, patch 14 -> 4096 patches, 27 layers, hidden 1152, MLP 4304, 16 heads, projector
//     to 2560 with 256 tokens) in images/s and GFLOP/s against a GEMM of the MLP's shape,
//     [4096,1152] x [1152,4304]. One image is ~5.5 TFLOP (see tower_flops): minutes on a 2-core CPU, so
//     by default the tower is built with --vision_layers=4 of its 27 layers (every layer has the same
//     shapes) and its time scaled by 27 / 4; --vision_layers=27 runs the whole tower;
//   - a DocVQA-like request: the tower for one image + prefill of a 299-token prompt (256 soft tokens)
//     + 16 greedy decode steps on a 4B-shaped decoder. A random 4B decoder (34 layers, ~14 GB fp32)
//     does not fit next to other work on a small machine, so it is built with --decoder_layers (default
//     4) of the 34 layers and the decoder forward time is scaled by 34 / layers; the LM head (the full
//     262208 x 2560 tied embedding) is real and timed separately, unscaled.
// Every scaled figure says so (benchmark label and summary).
//
//   build/bench_vision                               # everything, ~1-2 minutes on 2 CPU cores
//   build/bench_vision --benchmark_filter='Resize|Preprocess'
//   build/bench_vision --vision_layers=27 --decoder_layers=8
//
// A summary with the ratios is printed after the table.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#ifdef GEMMA_BENCH_CV_RESIZE
#include <opencv2/imgproc.hpp>
#endif
#include <torch/torch.h>

#include "model/config.h"
#include "model/cpu_features.h"
#include "model/device.h"
#include "model/gemma3.h"
#include "model/image_decode.h"
#include "model/image_processor.h"
#include "model/image_resize.h"
#include "model/siglip.h"
#include "model/weights.h"

using namespace gemma;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

constexpr int kJpegWidth = 1000, kJpegHeight = 750;
constexpr int kDecodeSteps = 16;

int g_vision_layers = 4;   // of the tower's 27
int g_decoder_layers = 4;  // of the 4B's 34
bool g_jpeg_written = false;
int g_torch_threads = 0;  // LibTorch's intra-op threads at start, restored after OpenCV runs

// Seconds per item of each measurement, 0 when it did not run (filtered out). Written by the last
// (the timed) call of each benchmark function.
struct Results {
  double memcpy_s = 0, cv_resize_s = 0, decode_s = 0, pil_resize_s = 0, pixel_values_s = 0, preprocess_s = 0;
  double gemm_gflops = 0;
  double tower_s = 0, tower_gflops = 0;
  int tower_layers_run = 0;
  double prefill_s = 0, decode_total_s = 0, request_tower_s = 0;  // the request, decoder extrapolated to 34 layers
  int prompt_tokens = 0;
};
Results& results() {
  static Results r;
  return r;
}

const ModelConfig& config_4b() {
  static const ModelConfig config = [] {
    ModelConfig c = config_preset("4b");
    if (!c.multimodal) {
      std::fprintf(stderr, "config_preset(\"4b\") is not multimodal\n");
      std::exit(1);
    }
    return c;
  }();
  return config;
}

ImageProcessorConfig processor_config() {
  ImageProcessorConfig c;  // Gemma3ImageProcessor's defaults: bilinear, 1/255, mean = std = 0.5
  c.source = "bench_vision";
  c.height = c.width = config_4b().vision.image_size;
  return c;
}

// A document-like page (text lines, a table rule, a smooth photo-ish block with noise), deterministic,
// written once as a quality-90 JPEG to a temp file removed at exit.
const fs::path& jpeg_path() {
  static const fs::path path = [] {
    cv::Mat page(kJpegHeight, kJpegWidth, CV_8UC3);
    uint32_t state = 12345;
    auto next = [&] { return state = state * 1664525u + 1013904223u; };
    for (int y = 0; y < kJpegHeight; ++y) {
      uint8_t* row = page.ptr<uint8_t>(y);
      for (int x = 0; x < kJpegWidth; ++x) {
        uint8_t* p = row + 3 * x;
        int v = 240 + static_cast<int>(next() >> 29);  // paper with a little noise
        p[0] = p[1] = p[2] = static_cast<uint8_t>(v);
        if (x > 600 && x < 950 && y > 80 && y < 380) {  // a photo-ish block
          p[0] = static_cast<uint8_t>((x * 255) / kJpegWidth);
          p[1] = static_cast<uint8_t>((y * 255) / kJpegHeight);
          p[2] = static_cast<uint8_t>(128 + 100 * std::sin(x * 0.05) * std::cos(y * 0.03) + (next() >> 28));
        }
      }
    }
    for (int line = 0; line < 30; ++line) {  // "words": dark boxes along text lines
      const int y0 = 40 + line * 23;
      if (y0 + 12 >= kJpegHeight) break;
      for (int x0 = 40; x0 < (line >= 3 && line < 14 ? 570 : 950);) {
        const int w = 12 + static_cast<int>(next() % 60);
        for (int y = y0; y < y0 + 12; ++y)
          for (int x = x0; x < std::min(x0 + w, kJpegWidth); ++x) {
            uint8_t* p = page.ptr<uint8_t>(y) + 3 * x;
            p[0] = p[1] = p[2] = static_cast<uint8_t>(20 + (next() >> 27));
          }
        x0 += w + 8;
      }
    }
    for (int x = 40; x < 950; ++x)  // a table rule
      for (int y = 500; y < 502; ++y) page.ptr<uint8_t>(y)[3 * x] = 0;
    fs::path file = fs::temp_directory_path() / ("bench_vision_" + std::to_string(::getpid()) + ".jpg");
    if (!cv::imwrite(file.string(), page, {cv::IMWRITE_JPEG_QUALITY, 90})) {
      std::fprintf(stderr, "cannot write %s\n", file.string().c_str());
      std::exit(1);
    }
    g_jpeg_written = true;
    return file;
  }();
  return path;
}

const RgbImage& decoded() {
  static const RgbImage image = decode_image_file(jpeg_path());
  return image;
}

// ---- preprocessing (one thread: the processor is single-threaded) ----

// Baseline: copying the decoded 1000x750 RGB bytes once.
void BM_CopyDecoded(benchmark::State& state) {
  const RgbImage& image = decoded();
  std::vector<uint8_t> out(image.pixels.size());
  auto start = Clock::now();
  for (auto _ : state) {
    std::memcpy(out.data(), image.pixels.data(), out.size());
    benchmark::ClobberMemory();
  }
  results().memcpy_s = seconds_since(start) / state.iterations();
  state.counters["GB/s"] =
      benchmark::Counter(double(out.size()) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["images/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CopyDecoded)->Unit(benchmark::kMicrosecond)->UseRealTime();

#ifdef GEMMA_BENCH_CV_RESIZE
// Baseline: OpenCV's bilinear (INTER_LINEAR: 2x2 taps, no antialiasing; not PIL's filter) to 896x896.
void BM_CvResizeLinear(benchmark::State& state) {
  const RgbImage& image = decoded();
  const int side = config_4b().vision.image_size;
  cv::Mat in(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.pixels.data())), out;
  const int cv_threads = cv::getNumThreads();
  cv::setNumThreads(1);  // per core, like the single-threaded processor
  auto start = Clock::now();
  for (auto _ : state) {
    cv::resize(in, out, cv::Size(side, side), 0, 0, cv::INTER_LINEAR);
    benchmark::DoNotOptimize(out.data);
  }
  results().cv_resize_s = seconds_since(start) / state.iterations();
  cv::setNumThreads(cv_threads);
  at::set_num_threads(g_torch_threads);
  state.counters["images/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CvResizeLinear)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

void BM_DecodeJpeg(benchmark::State& state) {
  const fs::path& path = jpeg_path();
  auto start = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(decode_image_file(path).pixels.data());
  results().decode_s = seconds_since(start) / state.iterations();
  state.counters["images/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeJpeg)->Unit(benchmark::kMillisecond)->UseRealTime();

// PIL-exact bilinear 1000x750 -> 896x896 (a downscale on x, where the kernel widens; an upscale on y).
void BM_PilResize(benchmark::State& state) {
  const RgbImage& image = decoded();
  const int side = config_4b().vision.image_size;
  auto start = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(pil_resize(image, side, side, PilFilter::Bilinear).pixels.data());
  const double s = results().pil_resize_s = seconds_since(start) / state.iterations();
  state.counters["images/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  if (results().cv_resize_s > 0) state.counters["x_cv_resize"] = s / results().cv_resize_s;
}
BENCHMARK(BM_PilResize)->Unit(benchmark::kMillisecond)->UseRealTime();

// Rescale + normalize + HWC -> CHW float32 of the resized image.
void BM_PixelValues(benchmark::State& state) {
  const ImageProcessorConfig config = processor_config();
  const RgbImage resized = resize_for_model(decoded(), config);
  std::vector<float> out(3ULL * resized.width * resized.height);
  auto start = Clock::now();
  for (auto _ : state) {
    to_pixel_values(resized, config, out.data());
    benchmark::ClobberMemory();
  }
  results().pixel_values_s = seconds_since(start) / state.iterations();
  state.counters["images/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PixelValues)->Unit(benchmark::kMillisecond)->UseRealTime();

// The whole processor path from the file: decode + resize + normalize -> [1, 3, 896, 896] float32.
void BM_Preprocess(benchmark::State& state) {
  const ImageProcessorConfig config = processor_config();
  const std::vector<fs::path> files{jpeg_path()};
  auto start = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(preprocess_image_files(files, config).pixel_values.data());
  const double s = results().preprocess_s = seconds_since(start) / state.iterations();
  state.counters["images/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  if (results().memcpy_s > 0) state.counters["x_memcpy"] = s / results().memcpy_s;
}
BENCHMARK(BM_Preprocess)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- the vision tower ----

// FLOPs of one image through the tower and projector, 2 per multiply-add; LayerNorm, GELU, softmax,
// pooling and the RMSNorm are left out (elementwise, < 1%):
//   patch conv    2 * N * D * (3 * p * p)
//   per layer     2 * N * D * 3D  (qkv)  +  2 * N * D * D  (out)  +  2 * 2 * N * D * F  (fc1, fc2)
//                 + 2 * 2 * N * N * D  (scores q k^T and probs v, all heads together)
//   projector     2 * T * D * H
// N = (S / p)^2 patches, D hidden, F intermediate, T mm tokens, H the text hidden size. For the
// released shapes (N = 4096, D = 1152, F = 4304, T = 256, H = 2560, 27 layers): 5.46e12 per image,
// three quarters of it in the matrices and a quarter in attention over 4096 patches.
double tower_flops(const ModelConfig& c, int layers) {
  const VisionConfig& v = c.vision;
  const double N = double(v.patches_per_side()) * v.patches_per_side(), D = v.hidden_size, F = v.intermediate_size;
  const double p = v.patch_size, T = c.mm_tokens_per_image, H = c.text.hidden_size;
  const double per_layer = 2 * N * D * 3 * D + 2 * N * D * D + 4 * N * D * F + 4 * N * N * D;
  return 2 * N * D * 3 * p * p + layers * per_layer + 2 * T * D * H;
}

int vision_layers_to_run() {
  const int all = config_4b().vision.num_layers;
  return g_vision_layers > 0 && g_vision_layers < all ? g_vision_layers : all;
}

std::unique_ptr<VisionTower>& tower_slot() {
  static std::unique_ptr<VisionTower> tower;
  return tower;
}

const VisionTower& tower() {
  auto& slot = tower_slot();
  if (!slot) {
    ModelConfig config = config_4b();
    config.vision.num_layers = vision_layers_to_run();
    Placement placement;  // CPU, float32
    slot = std::make_unique<VisionTower>(config, random_vision_weights(config, placement, 1), placement);
  }
  return *slot;
}

// The preprocessed test JPEG as the tower's input [1, 3, 896, 896].
torch::Tensor tower_input() {
  static const ProcessedImages processed = preprocess_image_files({jpeg_path()}, processor_config());
  const int64_t S = processed.height;
  return torch::from_blob(const_cast<float*>(processed.pixel_values.data()), {1, 3, S, S}).clone();
}

// Baseline: one GEMM of the tower's MLP shape (fc1: 4096 patches x 1152 -> 4304), the best rate this
// LibTorch reaches on a matrix the tower multiplies.
void BM_GemmTowerMlp(benchmark::State& state) {
  const VisionConfig& v = config_4b().vision;
  const int64_t m = int64_t(v.patches_per_side()) * v.patches_per_side(), k = v.hidden_size, n = v.intermediate_size;
  torch::manual_seed(0);
  auto a = torch::randn({m, k}), b = torch::randn({k, n});
  benchmark::DoNotOptimize(torch::matmul(a, b));  // warm-up (allocator, MKL)
  auto start = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(torch::matmul(a, b));
  const double flops = 2.0 * m * k * n;
  results().gemm_gflops = flops * state.iterations() / seconds_since(start) / 1e9;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GemmTowerMlp)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.5);

// One image through VisionTower::image_features: [1, 3, 896, 896] -> [1, 256, 2560].
double time_tower_once() {
  const VisionTower& t = tower();
  auto pixels = tower_input();
  auto start = Clock::now();
  auto features = t.image_features(pixels);
  benchmark::DoNotOptimize(features.data_ptr());
  const double measured = seconds_since(start);
  if (!torch::isfinite(features).all().item<bool>())  // random weights must not drift into inf/NaN
    std::fprintf(stderr, "warning: the random tower produced non-finite features\n");
  return measured * config_4b().vision.num_layers / t.config().vision.num_layers;  // 27 / layers run
}

void BM_VisionTower(benchmark::State& state) {
  tower();  // built outside the timing
  const int run = vision_layers_to_run(), all = config_4b().vision.num_layers;
  double total = 0;
  for (auto _ : state) total += time_tower_once();
  const double s = results().tower_s = total / state.iterations();
  results().tower_layers_run = run;
  const double gflops = results().tower_gflops = tower_flops(config_4b(), all) / s / 1e9;
  state.counters["s/image"] = s;
  state.counters["images/s"] = 1.0 / s;
  state.counters["GFLOP/s"] = gflops;
  state.counters["TFLOP/image"] = tower_flops(config_4b(), all) / 1e12;
  if (results().gemm_gflops > 0) state.counters["pct_of_gemm"] = 100.0 * gflops / results().gemm_gflops;
  if (run != all) state.SetLabel("layers " + std::to_string(run) + " of " + std::to_string(all) + ", scaled");
}
BENCHMARK(BM_VisionTower)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

// ---- the tower's share of a DocVQA-like request ----

std::vector<int> random_text_ids(int n, uint32_t& state) {
  std::vector<int> ids;
  for (int i = 0; i < n; ++i) ids.push_back(3 + int((state = state * 1664525u + 1013904223u) >> 8) % 255990);
  return ids;
}

void BM_DocVqaRequest(benchmark::State& state) {
  const ModelConfig& mc = config_4b();
  const int all_layers = mc.text.num_layers;
  // The tower's time per image: this run's BM_VisionTower, else measured here once.
  double tower_s = results().tower_s;
  if (tower_s <= 0) tower_s = time_tower_once();
  tower_slot().reset();  // its ~1.7 GB are not needed from here on

  TextConfig text = mc.text;
  text.num_layers = std::min(g_decoder_layers, all_layers);
  text.layer_types.resize(text.num_layers);  // the 4B's first layers (sliding; window 1024 > the prompt)
  const double scale = double(all_layers) / text.num_layers;
  Placement placement;  // CPU, float32
  Gemma3TextModel model(text, random_text_weights(text, placement, 2), placement);

  // <bos> question <start_of_image> 256 x <image_soft_token> <end_of_image> question: 299 tokens.
  uint32_t seed = 7;
  std::vector<int> ids{mc.bos_token_id};
  for (int id : random_text_ids(10, seed)) ids.push_back(id);
  ids.push_back(mc.boi_token_index);
  for (int i = 0; i < mc.mm_tokens_per_image; ++i) ids.push_back(mc.image_token_index);
  ids.push_back(mc.eoi_token_index);
  for (int id : random_text_ids(30, seed)) ids.push_back(id);
  const int64_t length = int64_t(ids.size());
  TokenBatch prompt = make_batch({ids}, Padding::Right, 0, torch::kCPU);
  torch::manual_seed(3);
  prompt.image_embeddings = torch::randn({mc.mm_tokens_per_image, text.hidden_size});
  prompt.image_token_id = mc.image_token_index;

  double prefill_layers = 0, prefill_head = 0, decode_layers = 0, decode_head = 0;
  for (auto _ : state) {
    KVCache cache = model.new_cache(1, length + kDecodeSteps);
    auto t0 = Clock::now();
    auto hidden = model.forward(prompt, cache);
    prefill_layers += seconds_since(t0);
    t0 = Clock::now();
    auto next = model.logits(hidden.select(1, -1)).argmax(-1).view({1, 1});
    prefill_head += seconds_since(t0);
    for (int s = 0; s < kDecodeSteps; ++s) {
      TokenBatch step{next, torch::full({1, 1}, length + s, torch::kInt64), torch::ones({1, 1}, torch::kBool)};
      t0 = Clock::now();
      hidden = model.forward(step, cache);
      decode_layers += seconds_since(t0);
      t0 = Clock::now();
      next = model.logits(hidden.select(1, -1)).argmax(-1).view({1, 1});
      decode_head += seconds_since(t0);
    }
  }
  const double n = double(state.iterations());
  // Decoder forward (embedding lookup, masks, layers, final norm) scaled to 34 layers; the LM head as run.
  const double prefill_s = (prefill_layers * scale + prefill_head) / n;
  const double decode_s = (decode_layers * scale + decode_head) / n;
  Results& r = results();
  r.prefill_s = prefill_s, r.decode_total_s = decode_s, r.request_tower_s = tower_s, r.prompt_tokens = int(length);
  state.counters["tower_s"] = tower_s;
  state.counters["prefill_s"] = prefill_s;
  state.counters["decode_s"] = decode_s;
  state.counters["prefill_tok/s"] = length / prefill_s;
  state.counters["decode_tok/s"] = kDecodeSteps / decode_s;
  state.counters["tower_share_pct"] = 100.0 * tower_s / (tower_s + prefill_s + decode_s);
  state.SetLabel("decoder " + std::to_string(text.num_layers) + " of " + std::to_string(all_layers) +
                 " layers, times scaled x" + std::to_string(scale).substr(0, 4) + " (LM head unscaled)");
}
BENCHMARK(BM_DocVqaRequest)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void print_summary() {
  const Results& r = results();
  const ModelConfig& c = config_4b();
  std::printf("\nbench_vision summary (LibTorch threads %d (%d at start); preprocessing and cv::resize on 1 thread):\n",
              at::get_num_threads(), g_torch_threads);
  if (r.preprocess_s > 0) {
    std::printf("  preprocessing %dx%d JPEG -> %dx%d float32: %.1f images/s (%.1f ms", kJpegWidth, kJpegHeight,
                c.vision.image_size, c.vision.image_size, 1.0 / r.preprocess_s, r.preprocess_s * 1e3);
    if (r.memcpy_s > 0) std::printf(" = %.0fx a memcpy of the decoded image", r.preprocess_s / r.memcpy_s);
    std::printf(")\n");
  }
  if (r.decode_s > 0 && r.pil_resize_s > 0 && r.pixel_values_s > 0)
    std::printf("    decode %.1f ms, PIL-exact resize %.1f ms, rescale/normalize %.1f ms\n", r.decode_s * 1e3,
                r.pil_resize_s * 1e3, r.pixel_values_s * 1e3);
  if (r.pil_resize_s > 0 && r.cv_resize_s > 0)
    std::printf("    PIL-exact bilinear resize = %.1fx OpenCV INTER_LINEAR (%.2f ms, a different filter)\n",
                r.pil_resize_s / r.cv_resize_s, r.cv_resize_s * 1e3);
  if (r.tower_s > 0) {
    std::printf("  vision tower (%d layers, %d patches, %.2f TFLOP/image): %.1f s/image = %.3f images/s, %.1f GFLOP/s",
                c.vision.num_layers, c.vision.patches_per_side() * c.vision.patches_per_side(),
                tower_flops(c, c.vision.num_layers) / 1e12, r.tower_s, 1.0 / r.tower_s, r.tower_gflops);
    if (r.gemm_gflops > 0)
      std::printf(" = %.0f%% of the MLP-shaped GEMM (%.1f GFLOP/s)", 100.0 * r.tower_gflops / r.gemm_gflops,
                  r.gemm_gflops);
    std::printf("\n");
    if (r.tower_layers_run != c.vision.num_layers)
      std::printf("    (ran %d of %d layers, time scaled)\n", r.tower_layers_run, c.vision.num_layers);
  }
  if (r.prefill_s > 0) {
    const double total = r.request_tower_s + r.prefill_s + r.decode_total_s;
    std::printf(
        "  DocVQA-like request (1 image, %d-token prompt, %d greedy steps; 4B decoder timed on %d of %d "
        "layers, scaled): tower %.1f s + prefill %.1f s + decode %.1f s = %.1f s; tower share %.0f%%\n",
        r.prompt_tokens, kDecodeSteps, std::min(g_decoder_layers, c.text.num_layers), c.text.num_layers,
        r.request_tower_s, r.prefill_s, r.decode_total_s, total, 100.0 * r.request_tower_s / total);
  }
}

// Takes --vision_layers=N / --decoder_layers=N out of argv (Google Benchmark rejects unknown flags).
void parse_own_flags(int& argc, char** argv) {
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& flag, int& target) {
      if (arg.rfind(flag + "=", 0) != 0) return false;
      target = std::atoi(arg.c_str() + flag.size() + 1);
      if (target <= 0) {
        std::fprintf(stderr, "%s needs a positive number\n", flag.c_str());
        std::exit(2);
      }
      return true;
    };
    if (value("--vision_layers", g_vision_layers) || value("--decoder_layers", g_decoder_layers)) continue;
    argv[out++] = argv[i];
  }
  argc = out;
}

}  // namespace

int main(int argc, char** argv) {
  // As gemma-eval's main(): ATen's AVX512 kernels where the CPU has them (before any torch op), and
  // every usable core unless OMP_NUM_THREADS says otherwise (model/cpu_features.h, model/device.h).
  gemma::choose_aten_cpu_capability(gemma::cpu_features());
  gemma::apply_threads(0);
  parse_own_flags(argc, argv);
  g_torch_threads = at::get_num_threads();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_summary();
  std::error_code ignored;
  if (g_jpeg_written) fs::remove(jpeg_path(), ignored);
  return 0;
}
