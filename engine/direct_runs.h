#pragma once
// The decoder called directly, without the evaluator: what `gemma-eval logits` and `gemma-eval generate`
// run. The tensors stay in here; callers get plain vectors. The image tower comes with its processor
// settings (Vision), loaded only for multimodal checkpoints.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/generation.h"

namespace gemma {
class Gemma3TextModel;
class VisionTower;
class Tokenizer;
struct ImageProcessorConfig;
struct ModelFiles;
}  // namespace gemma

namespace gemma::evals {

// A multimodal checkpoint's vision tower and image processor settings (preprocessor_config.json).
struct Vision {
  std::unique_ptr<VisionTower> tower;
  std::unique_ptr<ImageProcessorConfig> processor;
  Vision();
  Vision(Vision&&) noexcept;
  Vision& operator=(Vision&&) noexcept;
  ~Vision();
};
// A clear error for text-only checkpoints and for a processor config that disagrees with config.json.
Vision load_vision(const ModelFiles& files, const Gemma3TextModel& decoder, bool pan_and_scan);

// The logits at every position of one sequence, [length, vocab] row-major in float32. Its ids already
// hold the expanded image token blocks; `images` are the files, in order of appearance (vision needed
// when there are any).
struct SequenceLogits {
  std::vector<float> values;
  int64_t length = 0;
  int64_t vocab = 0;
  int64_t last_argmax = 0;
  double last_logsumexp = 0;  // in float64, as the reference scripts print it
};
SequenceLogits sequence_logits(const Gemma3TextModel& model, const Vision* vision, const std::vector<int>& ids,
                               const std::vector<std::string>& images, int pad_id, int image_token_id);

// Greedy continuation of one text prompt with its images (placed at <start_of_image> markers, which
// are expanded into their soft-token blocks here). Returns the new token ids.
std::vector<int> greedy_continuation(const Gemma3TextModel& model, const Vision* vision, const Tokenizer& tokenizer,
                                     std::string text, const std::vector<std::string>& images, int vocab_size,
                                     int image_token_id, const GreedyOptions& options);

}  // namespace gemma::evals
