#pragma once
// The Engine that answers task requests with Gemma 3 (evals/engine.h). Throughput by design:
//  - requests are tokenized as lm-eval does (whole string, then split; trailing context whitespace
//    moves into the continuation; exactly one BOS) and grouped by identical context tokens;
//  - a group's context runs once; its KV cache is forked for every choice whose continuation has
//    more than one token; single-token continuations (MMLU " A".." D") read the context's last logits;
//  - groups are sorted longest first and batched; results come back in request order.
//  - across documents, a prefix cache (model/prefix_cache.h) keeps the keys and values of token
//    prefixes that later requests start with (the few-shot block every document of a task repeats):
//    requests run sorted by their tokens, and each runs only what follows its longest cached prefix;
//  - generation runs as one continuously refilled batch (model/generation.h).
// With prefix sharing off, every request runs its whole context (for comparison and testing), as
// before the prefix cache: bit for bit the same numbers.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "evals/engine.h"

namespace gemma {
class Gemma3TextModel;
class PrefixCache;
struct PrefilledPrompts;
class Tokenizer;
class VisionTower;
struct ImageProcessorConfig;
struct ModelFiles;
}  // namespace gemma

namespace gemma::evals {

struct ScoredPair;  // a tokenized (context, continuation) pair (model_engine.cpp)

struct ModelEngineOptions {
  int batch_size = 4;  // context groups (or generation prompts) per forward pass
  bool prefix_sharing = true;
  int max_length = 0;                   // tokens the model may see; 0 = config max_position_embeddings
  int64_t prefix_cache_mb = 1024;       // memory for cross-document prefixes (with prefix_sharing); 0 = none
  int generation_width = 0;             // sequences decoded together; 0 = chosen from the KV cache's memory
  int64_t generation_memory_mb = 2048;  // the KV cache budget that chooses the width
  // Requests with images need both (multimodal checkpoints); they run one at a time, unshared and
  // never truncated (cutting into an image block would change what the image means).
  const VisionTower* vision = nullptr;
  const ImageProcessorConfig* image_config = nullptr;
};

struct EngineCounters {
  size_t forward_tokens = 0;  // real (non-padding) tokens run through the decoder
  size_t forward_passes = 0;
  size_t truncated = 0;
  size_t generated_tokens = 0;     // of forward_tokens, those generated (the rest are prompt tokens)
  size_t prefix_cache_tokens = 0;  // tokens whose keys came from the prefix cache instead of the model
  int generation_width = 0;        // the widest generation batch so far
};

class ModelEngine : public Engine {
 public:
  ModelEngine(const Gemma3TextModel& model, const ModelFiles& files, ModelEngineOptions options);
  ~ModelEngine() override;

  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                 EngineProgress* progress) override;
  std::vector<GenerationResult> generate_until(const std::vector<GenerationRequest>& requests,
                                               EngineProgress* progress) override;
  // Windows of max_length (evals/perplexity.h rolling_token_windows), all requests' windows batched
  // together (batch_size per forward pass, longest first); a request's result is reported when its last
  // window is scored.
  std::vector<LoglikelihoodResult> loglikelihood_rolling(const std::vector<RollingLoglikelihoodRequest>& requests,
                                                         EngineProgress* progress) override;
  std::string describe_json() const override;

  const EngineCounters& counters() const { return counters_; }

 private:
  // Scores tokenized pairs in batches of options_.batch_size context groups; with `share`, identical
  // contexts run once and the prefix cache keeps what later contexts start with. After each batch,
  // `scored` gets the indices of the pairs it finished and every result so far.
  using PairsScored =
      std::function<void(const std::vector<size_t>& finished, const std::vector<LoglikelihoodResult>& results)>;
  std::vector<LoglikelihoodResult> score_pairs(const std::vector<ScoredPair>& pairs, bool share,
                                               const PairsScored& scored);
  LoglikelihoodResult score_with_images(const LoglikelihoodRequest& request);
  GenerationResult generate_with_images(const GenerationRequest& request);
  struct ImagePrompt;
  ImagePrompt image_prompt(const std::string& context, const std::vector<std::string>& images) const;
  // Runs `contexts` as one batch (right-padded), each after its longest cached prefix, and stores in
  // the prefix cache the first reuse[r] tokens of row r (what later requests will start with).
  PrefilledPrompts prefill(const std::vector<std::vector<int>>& contexts, const std::vector<int64_t>& reuse,
                           int64_t extra_capacity);
  int generation_width(size_t requests, size_t longest_sequence) const;

  const Gemma3TextModel& model_;
  const ModelFiles& files_;
  ModelEngineOptions options_;
  EngineCounters counters_;
  std::unique_ptr<PrefixCache> prefix_cache_;  // null: prefix sharing off
};

// Token ids of a (context, continuation) pair exactly as lm-eval's _encode_pair builds them.
struct EncodedPair {
  std::vector<int> context;  // BOS first
  std::vector<int> continuation;
};
EncodedPair encode_pair(const Tokenizer& tokenizer, const std::string& context, const std::string& continuation);

// Stable identities of requests, for caching finished results: the request kind, the exact token ids
// the model sees and the generation settings, hashed (SHA-256 hex). Equal ids mean equal answers
// from the same model, tokenizer and dtype.
std::string loglikelihood_request_id(const EncodedPair& pair);
std::string generation_request_id(const std::vector<int>& prompt, const std::vector<std::string>& until,
                                  int max_gen_toks);

}  // namespace gemma::evals
