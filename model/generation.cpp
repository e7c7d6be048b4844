#include "model/generation.h"

#include <algorithm>

#include <torch/torch.h>

#include "common/error.h"
#include "model/gemma3.h"

namespace gemma {

NonFiniteLogits::NonFiniteLogits(size_t row, std::vector<int> generated)
    : Error(fmt::format("the logits of generation prompt {} are not finite (NaN or Inf) after {} generated tokens",
                        row, generated.size())),
      row(row), generated(std::move(generated)) {}

std::vector<GreedyResult> greedy_generate(const Gemma3TextModel& model,
                                          const std::vector<std::vector<int>>& prompts,
                                          const GreedyOptions& options, const torch::Tensor& image_embeddings,
                                          int image_token_id) {
  c10::InferenceMode inference;
  std::vector<GreedyResult> results(prompts.size());
  if (prompts.empty()) return results;
  for (size_t i = 0; i < prompts.size(); ++i)
    if (prompts[i].empty()) fail("generation prompt {} is empty (it needs at least the BOS token)", i);
  if (options.max_new_tokens <= 0) return results;

  const auto device = model.placement().device;
  auto batch = make_batch(prompts, Padding::Left, options.pad_id, device);
  batch.image_embeddings = image_embeddings;
  batch.image_token_id = image_token_id;
  const int64_t B = batch.ids.size(0);
  KVCache cache = model.new_cache(B, batch.ids.size(1) + options.max_new_tokens);
  auto hidden = model.forward(batch, cache);
  auto next_positions = batch.positions.select(1, -1) + 1;  // [B]
  std::vector<bool> finished(B, false);

  auto last_hidden = hidden.select(1, -1);  // [B, H]
  for (int step = 0; step < options.max_new_tokens; ++step) {
    auto logits = model.logits(last_hidden);  // [B, V]
    auto next = logits.argmax(-1).to(torch::kCPU);  // [B]
    auto next_a = next.accessor<int64_t, 1>();
    // One reduction per step, small beside the LM head's matmul that made the logits.
    auto finite_rows = torch::isfinite(logits).all(-1).to(torch::kCPU);
    auto finite_a = finite_rows.accessor<bool, 1>();
    for (int64_t b = 0; b < B; ++b)
      if (!finished[b] && !finite_a[b]) throw NonFiniteLogits(static_cast<size_t>(b), results[b].tokens);
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (finished[b]) continue;
      int token = static_cast<int>(next_a[b]);
      auto& r = results[b];
      if (std::find(options.stop_ids.begin(), options.stop_ids.end(), token) != options.stop_ids.end()) {
        finished[b] = true;
        r.finish_reason = "stop";
        r.stop_id = token;
        continue;
      }
      r.tokens.push_back(token);
      if (options.stop_check && options.stop_check(static_cast<size_t>(b), r.tokens)) {
        finished[b] = true;
        r.finish_reason = "stop_string";
      } else if (static_cast<int>(r.tokens.size()) >= options.max_new_tokens) {
        finished[b] = true;
        r.finish_reason = "length";
      } else {
        all_done = false;
      }
    }
    if (all_done) break;
    // Finished rows keep stepping (their outputs are ignored) so the batch stays rectangular.
    TokenBatch step_batch;
    step_batch.ids = next.view({B, 1}).to(device);
    step_batch.positions = next_positions.view({B, 1});
    step_batch.valid = torch::ones({B, 1}, torch::TensorOptions().dtype(torch::kBool).device(device));
    last_hidden = model.forward(step_batch, cache).select(1, -1);
    next_positions = next_positions + 1;
  }
  return results;
}

}  // namespace gemma
