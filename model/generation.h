#pragma once
// Greedy decoding with a KV cache: prompts are left-padded into one batch, prefilled once, then
// extended one token per step until every row hit a stop token or the token limit.
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/error.h"

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
  std::vector<int> tokens;          // generated ids, without the stop token
  std::string finish_reason;        // "stop" (a stop id), "stop_string" (stop_check) or "length"
  int stop_id = -1;                 // which stop id ended it, when finish_reason == "stop"
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
std::vector<GreedyResult> greedy_generate(const Gemma3TextModel& model,
                                          const std::vector<std::vector<int>>& prompts,
                                          const GreedyOptions& options,
                                          const torch::Tensor& image_embeddings = {}, int image_token_id = -1);

}  // namespace gemma
