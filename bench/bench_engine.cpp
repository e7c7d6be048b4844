// Prefix sharing on vs off, end to end through the evaluator, on a random model with Gemma 3 1B's
// exact shapes (made in memory; --layers reduces the depth to fit a small machine's time budget)
// and the real Gemma 3 tokenizer: tokens through the decoder, wall time, and the ratios.
//
//   build/bench_engine [--limit 50] [--layers 26] [--data-dir ../shared/data]
//                      [--tokenizer ../shared/data/tokenizer/gemma3/tokenizer.json]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <torch/torch.h>

#include "build_info.h"
#include "evals/evaluator.h"
#include "evals/model_engine/model_engine.h"
#include "evals/task_registry.h"
#include "model/gemma3.h"
#include "model/model_files.h"
#include "model/weights.h"

using namespace gemma;

namespace {

struct Measurement {
  size_t tokens = 0;
  double seconds = 0.0;
  double metric = 0.0;
};

Measurement evaluate(const Gemma3TextModel& model, const ModelFiles& files, const std::string& task_name, int shots,
                     size_t limit, bool share, const std::string& data_dir) {
  evals::ModelEngineOptions options;
  options.prefix_sharing = share;
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
  m.metric = result.metrics.front().value;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  size_t limit = 50;
  int layers = 26;
  std::string shared = GEMMA_EVAL_SHARED_DIR;
  std::string data_dir = shared + "/data";
  std::string tokenizer = shared + "/data/tokenizer/gemma3/tokenizer.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--limit")) limit = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--layers")) layers = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--data-dir")) data_dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tokenizer")) tokenizer = argv[i + 1];
    else { std::fprintf(stderr, "unknown flag %s\n", argv[i]); return 2; }
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
  std::printf("| task | shots | sharing | tokens | seconds | tokens/s | metric |\n|---|---:|---|---:|---:|---:|---:|\n");
  for (auto [task, shots] : {std::pair<std::string, int>{"mmlu_high_school_biology", 5}, {"arc_challenge", 25}}) {
    Measurement on = evaluate(model, files, task, shots, limit, true, data_dir);
    Measurement off = evaluate(model, files, task, shots, limit, false, data_dir);
    for (auto [label, m] : {std::pair<const char*, Measurement&>{"on", on}, {"off", off}})
      std::printf("| %s | %d | %s | %zu | %.1f | %.0f | %.4f |\n", task.c_str(), shots, label, m.tokens, m.seconds,
                  m.tokens / m.seconds, m.metric);
    std::printf("| %s | | off/on ratio | %.2fx | %.2fx | | |\n", task.c_str(), double(off.tokens) / on.tokens,
                off.seconds / on.seconds);
  }
  return 0;
}
