// The engine's ways of saving work, end to end through the evaluator: no sharing (lm-eval's scheme),
// contexts shared among a document's choices, and the cross-document prefix cache with refilled
// generation slots, on a random model with Gemma 3 1B's
// exact shapes (made in memory; --layers reduces the depth to fit a small machine's time budget)
// and the real Gemma 3 tokenizer: tokens through the decoder, wall time, and the ratios.
//
//   build/bench_engine [--limit 50] [--generation-limit 8] [--layers 26] [--data-dir ../shared/data]
//                      [--tokenizer ../shared/data/tokenizer/gemma3/tokenizer.json]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <torch/torch.h>

#include "build_info.h"
#include "engine/model_engine.h"
#include "evals/evaluator.h"
#include "evals/task_registry.h"
#include "model/cpu_features.h"
#include "model/device.h"
#include "model/gemma3.h"
#include "model/model_files.h"
#include "model/weights.h"

using namespace gemma;

namespace {

struct Measurement {
  size_t tokens = 0;     // through the decoder
  size_t generated = 0;  // of which generated
  double seconds = 0.0;
  double metric = 0.0;
};

// How the engine runs: prefix cache and context sharing on/off, generation slots (0 = from memory).
struct Mode {
  const char* label;
  bool share;
  int64_t prefix_cache_mb;
  int generation_width;
};

Measurement evaluate(const Gemma3TextModel& model, const ModelFiles& files, const std::string& task_name, int shots,
                     size_t limit, const Mode& mode, const std::string& data_dir) {
  evals::ModelEngineOptions options;
  options.prefix_sharing = mode.share;
  options.prefix_cache_mb = mode.prefix_cache_mb;
  options.generation_width = mode.generation_width;
  options.batch_size = 4;
  evals::ModelEngine engine(model, files, options);
  evals::EvalOptions eval;
  eval.shots = shots;
  eval.limit = limit;
  auto started = std::chrono::steady_clock::now();
  auto result = evals::evaluate_task(*evals::resolve_tasks(task_name).front(), data_dir, engine, eval);
  Measurement m;
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  m.tokens = engine.counters().forward_tokens;
  m.generated = engine.counters().generated_tokens;
  m.metric = result.metrics.front().value;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  // As gemma-eval's main(): ATen's AVX512 kernels where the CPU has them (before any torch op), and
  // every usable core unless OMP_NUM_THREADS says otherwise (model/cpu_features.h, model/device.h).
  gemma::choose_aten_cpu_capability(gemma::cpu_features());
  gemma::apply_threads(0);
  size_t limit = 50;
  size_t generation_limit = 8;
  int layers = 26;
  std::string shared = GEMMA_EVAL_SHARED_DIR;
  std::string data_dir = shared + "/data";
  std::string tokenizer = shared + "/data/tokenizer/gemma3/tokenizer.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--limit"))
      limit = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--generation-limit"))
      generation_limit = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--layers"))
      layers = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--data-dir"))
      data_dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tokenizer"))
      tokenizer = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  ModelFiles files;
  files.config = config_preset("1b");
  files.config.text.num_layers = layers;
  files.config.text.layer_types.resize(static_cast<size_t>(layers));
  files.tokenizer = load_hf_tokenizer(tokenizer);
  files.dir = std::filesystem::path(tokenizer).parent_path();
  Placement placement;
  Gemma3TextModel model(files.config.text, random_text_weights(files.config.text, placement, 1), placement);
  std::printf("Gemma 3 1B shapes, %d of 26 layers, random weights, float32 CPU, %d threads, --limit %zu\n\n", layers,
              torch::get_num_threads(), limit);
  std::printf(
      "| task | shots | engine | prompt tokens | generated | seconds | docs/s | metric |\n"
      "|---|---:|---|---:|---:|---:|---:|---:|\n");
  const Mode lm_eval_scheme{"no sharing (lm-eval's scheme)", false, 0, 1};
  const Mode contexts_only{"shared contexts, no prefix cache, 4 slots", true, 0, 4};
  const Mode full{"prefix cache, slots from memory", true, 1024, 0};
  struct Run {
    std::string task;
    int shots;
    size_t limit;
    std::vector<Mode> modes;
  };
  for (const Run& run : {Run{"mmlu_high_school_biology", 5, limit, {lm_eval_scheme, contexts_only, full}},
                         Run{"arc_challenge", 25, limit, {lm_eval_scheme, contexts_only, full}},
                         Run{"gsm8k_cot", 8, generation_limit, {contexts_only, full}}}) {
    std::vector<Measurement> measured;
    for (const Mode& mode : run.modes) {
      measured.push_back(evaluate(model, files, run.task, run.shots, run.limit, mode, data_dir));
      const Measurement& m = measured.back();
      std::printf("| %s | %d | %s | %zu | %zu | %.1f | %.2f | %.4f |\n", run.task.c_str(), run.shots, mode.label,
                  m.tokens - m.generated, m.generated, m.seconds, run.limit / m.seconds, m.metric);
      std::fflush(stdout);
    }
    const Measurement &first = measured.front(), &last = measured.back();
    std::printf("| %s | | first/last ratio | %.2fx | | %.2fx | | |\n", run.task.c_str(),
                double(first.tokens - first.generated) / double(last.tokens - last.generated),
                first.seconds / last.seconds);
  }
  return 0;
}
