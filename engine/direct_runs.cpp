#include "engine/direct_runs.h"

#include <torch/torch.h>

#include "common/error.h"
#include "engine/prompt_images.h"
#include "model/checkpoint.h"
#include "model/gemma3.h"
#include "model/image_processor.h"
#include "model/model_files.h"
#include "model/siglip.h"
#include "model/tokenizer.h"

namespace gemma::evals {

Vision::Vision() = default;
Vision::Vision(Vision&&) noexcept = default;
Vision& Vision::operator=(Vision&&) noexcept = default;
Vision::~Vision() = default;

Vision load_vision(const ModelFiles& files, const Gemma3TextModel& decoder, bool pan_and_scan) {
  if (!files.config.multimodal)
    fail("{} is a text-only Gemma 3 ({}); images need a multimodal checkpoint (4B, 12B or 27B)", files.dir.string(),
         files.config.architecture);
  Vision vision;
  vision.tower = VisionTower::load(files.config, Checkpoint::open(files.dir), decoder.placement());
  vision.processor = std::make_unique<ImageProcessorConfig>(read_image_processor_config(files.dir));
  vision.processor->do_pan_and_scan = pan_and_scan;
  if (vision.processor->image_seq_length != files.config.mm_tokens_per_image)
    fail("{}: image_seq_length {} disagrees with config.json's mm_tokens_per_image {}", vision.processor->source,
         vision.processor->image_seq_length, files.config.mm_tokens_per_image);
  return vision;
}

SequenceLogits sequence_logits(const Gemma3TextModel& model, const Vision* vision, const std::vector<int>& ids,
                               const std::vector<std::string>& images, int pad_id, int image_token_id) {
  auto batch = make_batch({ids}, Padding::Right, pad_id, model.placement().device);
  if (!images.empty()) {
    if (!vision || !vision->tower) fail("a sequence has images but no vision tower was loaded");
    batch.image_embeddings = soft_token_embeddings(*vision->tower, load_pixel_values(images, *vision->processor));
    batch.image_token_id = image_token_id;
  }
  KVCache cache = model.new_cache(1, static_cast<int64_t>(ids.size()));
  const torch::Tensor logits = model.logits(model.forward(batch, cache))[0].to(torch::kCPU).contiguous();  // [T, V]
  SequenceLogits result;
  result.length = logits.size(0);
  result.vocab = logits.size(1);
  result.values.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
  const torch::Tensor last = logits[-1];
  result.last_argmax = last.argmax().item<int64_t>();
  result.last_logsumexp = torch::logsumexp(last.to(torch::kFloat64), 0).item<double>();
  return result;
}

std::vector<int> greedy_continuation(const Gemma3TextModel& model, const Vision* vision, const Tokenizer& tokenizer,
                                     std::string text, const std::vector<std::string>& images, int vocab_size,
                                     int image_token_id, const GreedyOptions& options) {
  torch::Tensor soft_tokens;
  if (!images.empty()) {
    if (!vision || !vision->tower) fail("a prompt has images but no vision tower was loaded");
    PromptImages expanded = expand_prompt_images(text, images, *vision->processor);
    text = expanded.text;
    soft_tokens = soft_token_embeddings(*vision->tower, expanded.pixel_values);
  }
  std::vector<int> prompt = tokenizer.encode_with_bos(text);
  check_token_ids(prompt, vocab_size, "--prompt");
  return greedy_generate(model, {prompt}, options, soft_tokens, image_token_id).front().tokens;
}

}  // namespace gemma::evals
