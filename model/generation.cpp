#include "model/generation.h"

#include <algorithm>
#include <optional>

#include <torch/torch.h>

#include "common/error.h"
#include "model/gemma3.h"

namespace gemma {

NonFiniteLogits::NonFiniteLogits(size_t row, std::vector<int> generated)
    : Error(fmt::format("the logits of generation prompt {} are not finite (NaN or Inf) after {} generated tokens", row,
                        generated.size())),
      row(row),
      generated(std::move(generated)) {}

std::vector<GreedyResult> generate_continuously(
    const Gemma3TextModel& model, const std::vector<int64_t>& prompt_lengths,
    const std::vector<GenerationLimits>& limits, const std::vector<int>& stop_ids, int width,
    const std::function<PrefilledPrompts(const std::vector<size_t>& prompts)>& prefill,
    const std::function<void(size_t prompt, const GreedyResult& result)>& on_finished) {
  c10::InferenceMode inference;
  const size_t count = prompt_lengths.size();
  std::vector<GreedyResult> results(count);
  if (width <= 0) fail("internal: generation with {} slots", width);
  const auto device = model.placement().device;

  // slot -> the prompt it decodes (none: free); a slot's row in `cache` and `last_hidden` is its index.
  std::vector<std::optional<size_t>> slots;
  std::vector<int64_t> next_position;  // per slot: the position of the token it feeds next
  KVCache cache;
  torch::Tensor last_hidden;  // [slots, H]
  size_t pending = 0;         // prompts [pending, count) have not started

  auto finish = [&](size_t slot, std::string reason) {
    const size_t prompt = *slots[slot];
    results[prompt].finish_reason = std::move(reason);
    if (on_finished) on_finished(prompt, results[prompt]);
    slots[slot].reset();
  };
  auto start_prompts = [&](size_t k) {
    std::vector<size_t> prompts;
    for (size_t i = 0; i < k; ++i) prompts.push_back(pending++);
    for (size_t p : prompts)
      if (limits[p].max_new_tokens <= 0) fail("internal: generation prompt {} may make no tokens", p);
    return std::pair{prompts, prefill(prompts)};
  };

  while (true) {
    // Free slots take the next prompts: all at once, in one prefill.
    std::vector<size_t> free;
    for (size_t s = 0; s < slots.size(); ++s)
      if (!slots[s]) free.push_back(s);
    if (slots.empty() && pending < count) {
      auto [prompts, filled] = start_prompts(std::min(count - pending, static_cast<size_t>(width)));
      cache = std::move(filled.cache);
      last_hidden = filled.last_hidden.clone();
      for (size_t p : prompts) slots.emplace_back(p), next_position.push_back(prompt_lengths[p]);
    } else if (!free.empty() && pending < count) {
      auto [prompts, filled] = start_prompts(std::min(count - pending, free.size()));
      for (size_t j = 0; j < prompts.size(); ++j) {
        const size_t slot = free[j];
        cache.replace_row(static_cast<int64_t>(slot), filled.cache, static_cast<int64_t>(j));
        last_hidden[static_cast<int64_t>(slot)].copy_(filled.last_hidden[static_cast<int64_t>(j)]);
        slots[slot] = prompts[j];
        next_position[slot] = prompt_lengths[prompts[j]];
      }
      // Refilled rows leave padding behind them; without compaction the cache would grow every step.
      if (cache.length() > 2 * cache.longest_row() + 64) cache.compact();
    }
    std::vector<int64_t> live;
    for (size_t s = 0; s < slots.size(); ++s)
      if (slots[s]) live.push_back(static_cast<int64_t>(s));
    if (live.empty()) break;
    if (pending == count && live.size() * 2 <= slots.size()) {
      // No prompt is left to refill them: drop the idle rows instead of stepping them.
      auto index = torch::tensor(live);
      cache = cache.select_rows(index);
      last_hidden = last_hidden.index_select(0, index.to(last_hidden.device()));
      std::vector<std::optional<size_t>> kept_slots;
      std::vector<int64_t> kept_positions;
      for (int64_t s : live) kept_slots.push_back(slots[s]), kept_positions.push_back(next_position[s]);
      slots = std::move(kept_slots), next_position = std::move(kept_positions);
      live.clear();
      for (size_t s = 0; s < slots.size(); ++s) live.push_back(static_cast<int64_t>(s));
    }

    // The LM head, each slot's argmax and whether its logits are finite, in one pass (greedy_pick).
    const auto pick = model.greedy_pick(last_hidden);
    auto next_a = pick.tokens.accessor<int64_t, 1>();
    auto finite_a = pick.finite.accessor<bool, 1>();
    std::vector<int64_t> feed(slots.size(), 0);
    std::vector<bool> feeding(slots.size(), false);
    for (int64_t s : live) {
      const size_t prompt = *slots[s];
      auto& result = results[prompt];
      if (!finite_a[s]) throw NonFiniteLogits(prompt, result.tokens);
      const int token = static_cast<int>(next_a[s]);
      if (std::find(stop_ids.begin(), stop_ids.end(), token) != stop_ids.end()) {
        result.stop_id = token;
        finish(s, "stop");
        continue;
      }
      result.tokens.push_back(token);
      if (limits[prompt].stop_check && limits[prompt].stop_check(result.tokens)) {
        finish(s, "stop_string");
      } else if (static_cast<int>(result.tokens.size()) >= limits[prompt].max_new_tokens) {
        finish(s, "length");
      } else {
        feed[s] = token, feeding[s] = true;
      }
    }
    if (std::none_of(feeding.begin(), feeding.end(), [](bool f) { return f; })) continue;  // refill or end

    // One step for every slot; slots that are not feeding a token step on padding (ignored).
    const int64_t rows = static_cast<int64_t>(slots.size());
    std::vector<int64_t> positions(slots.size());
    auto valid = torch::zeros({rows, 1}, torch::kBool);
    auto valid_a = valid.accessor<bool, 2>();
    for (int64_t s = 0; s < rows; ++s) {
      positions[s] = next_position[s];
      if (feeding[s]) valid_a[s][0] = true, ++next_position[s];
    }
    TokenBatch step;
    step.ids = torch::tensor(feed).view({rows, 1}).to(device);
    step.positions = torch::tensor(positions).view({rows, 1}).to(device);
    step.valid = valid.to(device);
    last_hidden = model.forward(step, cache).select(1, -1).clone();
  }
  return results;
}

std::vector<GreedyResult> greedy_generate(const Gemma3TextModel& model, const std::vector<std::vector<int>>& prompts,
                                          const GreedyOptions& options, const torch::Tensor& image_embeddings,
                                          int image_token_id) {
  c10::InferenceMode inference;
  if (prompts.empty()) return {};
  for (size_t i = 0; i < prompts.size(); ++i)
    if (prompts[i].empty()) fail("generation prompt {} is empty (it needs at least the BOS token)", i);
  if (options.max_new_tokens <= 0) return std::vector<GreedyResult>(prompts.size());

  std::vector<int64_t> lengths;
  std::vector<GenerationLimits> limits;
  for (size_t i = 0; i < prompts.size(); ++i) {
    lengths.push_back(static_cast<int64_t>(prompts[i].size()));
    GenerationLimits limit;
    limit.max_new_tokens = options.max_new_tokens;
    if (options.stop_check)
      limit.stop_check = [&options, i](const std::vector<int>& tokens) { return options.stop_check(i, tokens); };
    limits.push_back(std::move(limit));
  }
  // Every prompt in one slot of its own, prefilled together (left-padded, so each ends at the last index).
  auto prefill = [&](const std::vector<size_t>& which) {
    std::vector<std::vector<int>> batch_prompts;
    for (size_t i : which) batch_prompts.push_back(prompts[i]);
    auto batch = make_batch(batch_prompts, Padding::Left, options.pad_id, model.placement().device);
    batch.image_embeddings = image_embeddings;
    batch.image_token_id = image_token_id;
    PrefilledPrompts filled{model.new_cache(batch.ids.size(0), batch.ids.size(1) + options.max_new_tokens), {}};
    filled.last_hidden = model.forward(batch, filled.cache).select(1, -1);
    return filled;
  };
  return generate_continuously(model, lengths, limits, options.stop_ids, static_cast<int>(prompts.size()), prefill);
}

}  // namespace gemma
