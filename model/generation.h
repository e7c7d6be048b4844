#pragma once
// Greedy decoding with a KV cache: prompts are left-padded into one batch, prefilled once, then
// extended one token per step until every row hit a stop token or the token limit.
#include <string>
#include <vector>

namespace gemma {

class Gemma3TextModel;

struct GreedyOptions {
  int max_new_tokens = 256;
  std::vector<int> stop_ids;  // e.g. <eos> and <end_of_turn>; empty = never stop early
  int pad_id = 0;
};

struct GreedyResult {
  std::vector<int> tokens;          // generated ids, without the stop token
  std::string finish_reason;        // "stop" (a stop id was produced) or "length"
  int stop_id = -1;                 // which stop id ended it, when finish_reason == "stop"
};

std::vector<GreedyResult> greedy_generate(const Gemma3TextModel& model,
                                          const std::vector<std::vector<int>>& prompts,
                                          const GreedyOptions& options);

}  // namespace gemma
