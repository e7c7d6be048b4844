#pragma once
// The Engine that answers task requests with Gemma 3 (evals/engine.h). Throughput by design:
//  - requests are tokenized as lm-eval does (whole string, then split; trailing context whitespace
//    moves into the continuation; exactly one BOS) and grouped by identical context tokens;
//  - a group's context runs once; its KV cache is forked for every choice whose continuation has
//    more than one token; single-token continuations (MMLU " A".." D") read the context's last logits;
//  - groups are sorted longest first and batched; results come back in request order.
// With prefix sharing off, every request runs its whole context (for comparison and testing).
#include <memory>
#include <string>
#include <vector>

#include "evals/engine.h"

namespace gemma {
class Gemma3TextModel;
class Tokenizer;
class VisionTower;
struct ImageProcessorConfig;
struct ModelFiles;
}  // namespace gemma

namespace gemma::evals {

struct ModelEngineOptions {
  int batch_size = 4;          // context groups (or generation prompts) per forward pass
  bool prefix_sharing = true;
  int max_length = 0;          // tokens the model may see; 0 = config max_position_embeddings
  // Requests with images need both (multimodal checkpoints); they run one at a time, unshared and
  // never truncated (cutting into an image block would change what the image means).
  const VisionTower* vision = nullptr;
  const ImageProcessorConfig* image_config = nullptr;
};

struct EngineCounters {
  size_t forward_tokens = 0;   // real (non-padding) tokens run through the decoder
  size_t forward_passes = 0;
  size_t truncated = 0;
};

class ModelEngine : public Engine {
 public:
  ModelEngine(const Gemma3TextModel& model, const ModelFiles& files, ModelEngineOptions options);

  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                 EngineProgress* progress) override;
  std::vector<GenerationResult> generate_until(const std::vector<GenerationRequest>& requests,
                                               EngineProgress* progress) override;
  std::string describe_json() const override;

  const EngineCounters& counters() const { return counters_; }

 private:
  LoglikelihoodResult score_with_images(const LoglikelihoodRequest& request);
  GenerationResult generate_with_images(const GenerationRequest& request);
  struct ImagePrompt;
  ImagePrompt image_prompt(const std::string& context, const std::vector<std::string>& images) const;

  const Gemma3TextModel& model_;
  const ModelFiles& files_;
  ModelEngineOptions options_;
  EngineCounters counters_;
};

// Token ids of a (context, continuation) pair exactly as lm-eval's _encode_pair builds them.
struct EncodedPair {
  std::vector<int> context;       // BOS first
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
