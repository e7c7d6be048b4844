#pragma once
// Greedy decoding with a KV cache: prompts are left-padded into one batch, prefilled once, then
// extended one token per step until every row hit a stop token or the token limit.
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/error.h"
#include "model/kv_cache.h"

namespace gemma {

class Gemma3TextModel;

struct GreedyOptions {
  int max_new_tokens = 256;
  std::vector<int> stop_ids;  // e.g. <eos> and <end_of_turn>; empty = never stop early
  int pad_id = 0;
  // Called after each token a row gains (row index, its tokens so far); true ends that row with
  // finish_reason "stop_string" (the caller checks decoded text for stop strings).
  std::function<bool(size_t row, const std::vector<int>& tokens)> stop_check;
};

struct GreedyResult {
  std::vector<int> tokens;    // generated ids, without the stop token
  std::string finish_reason;  // "stop" (a stop id), "stop_string" (stop_check) or "length"
  int stop_id = -1;           // which stop id ended it, when finish_reason == "stop"
};

// Thrown when a row that is still generating gets logits that are not all finite: the argmax of a NaN
// row is an arbitrary token, so decoding stops instead of returning text made from it.
class NonFiniteLogits : public Error {
 public:
  NonFiniteLogits(size_t row, std::vector<int> generated);
  size_t row;                  // the prompt's index
  std::vector<int> generated;  // the tokens it had generated before the non-finite step
};

// `image_embeddings` (optional, [K, H]): the features of every image soft token in the prompts, in
// order (see TokenBatch); they enter the prefill only.
std::vector<GreedyResult> greedy_generate(const Gemma3TextModel& model, const std::vector<std::vector<int>>& prompts,
                                          const GreedyOptions& options, const torch::Tensor& image_embeddings = {},
                                          int image_token_id = -1);

// ---- continuous batching ----

// Prompts after their prefill: a KV cache with one row per prompt, and each prompt's final hidden
// state at its last token [rows, H] (it predicts the first generated token).
struct PrefilledPrompts {
  KVCache cache;
  torch::Tensor last_hidden;
};

// What one prompt of a continuous batch needs besides its tokens.
struct GenerationLimits {
  int max_new_tokens = 256;
  // Called after each token the prompt gains; true ends it with finish_reason "stop_string".
  std::function<bool(const std::vector<int>& tokens)> stop_check;
};

// Greedy decoding of many prompts through `width` slots: the slots step together (one forward per
// step, every live sequence one token); when a sequence stops, the next prompt is prefilled and takes
// its slot, so the batch stays full until the prompts run out. `prefill` runs a set of prompts
// (indices into `prompt_lengths`, in the order given) and returns their cache rows in that order.
// Every sequence keeps its own positions, so results equal one-at-a-time greedy decoding up to
// floating-point rounding. `on_finished(prompt, result)` is called as each prompt finishes.
std::vector<GreedyResult> generate_continuously(
    const Gemma3TextModel& model, const std::vector<int64_t>& prompt_lengths,
    const std::vector<GenerationLimits>& limits, const std::vector<int>& stop_ids, int width,
    const std::function<PrefilledPrompts(const std::vector<size_t>& prompts)>& prefill,
    const std::function<void(size_t prompt, const GreedyResult& result)>& on_finished = {});

}  // namespace gemma
