#pragma once
// The boundary between tasks and the model (torch-free): tasks emit requests as strings, an Engine
// answers them. The real engine (engine/model_engine.h) tokenizes and runs Gemma 3; tests use fakes.
// A task never sees tokens or tensors; the engine never knows which task it serves.
#include <string>
#include <vector>

#include "common/error.h"

namespace gemma::evals {

// log P(continuation | context), lm-eval's `loglikelihood` request.
// Images (multimodal tasks): `images` are image files, in order of appearance; the context holds the
// marker kImageMarker once per image where it goes, as Gemma 3's chat template writes it. The engine
// expands each marker into the processor's image token block (transformers
// models/gemma3/processing_gemma3.py@0068e970).
inline constexpr const char* kImageMarker = "<start_of_image>";

struct LoglikelihoodRequest {
  std::string context;       // without BOS; the engine adds exactly one
  std::string continuation;  // e.g. " A" (the target delimiter is part of it)
  std::vector<std::string> images = {};
};

struct LoglikelihoodResult {
  double logprob = 0.0;    // sum over the continuation's tokens
  bool is_greedy = false;  // every continuation token was the argmax
  int context_tokens = 0;  // after truncation, BOS included
  int continuation_tokens = 0;
  bool truncated = false;  // the context was cut from the left to fit the model
};

// The log-likelihood of a whole text, lm-eval's `loglikelihood_rolling` request (perplexity tasks): the
// text's tokens (without BOS) are scored in lm-eval's rolling windows of the engine's max length with
// context_len 1 and BOS as the prefix token (evals/perplexity.h rolling_token_windows), so every token is
// predicted exactly once. The answer is a LoglikelihoodResult: logprob = the sum over all the text's
// tokens, continuation_tokens = how many were scored, context_tokens = 1 (the prefix token), is_greedy =
// every token was the argmax, truncated = false (nothing is cut: long texts take more windows).
struct RollingLoglikelihoodRequest {
  std::string text;
};

// Greedy generation until a stop string, lm-eval's `generate_until` request.
struct GenerationRequest {
  std::string context;             // without BOS
  std::vector<std::string> until;  // stop strings; the text is cut at the earliest one
  int max_gen_toks = 256;
  std::vector<std::string> images = {};
};

struct GenerationResult {
  std::string text;  // decoded continuation, cut before the first stop string
  int generated_tokens = 0;
  bool hit_max_tokens = false;  // stopped by max_gen_toks, not by a stop string / EOS
  bool truncated = false;       // the context was cut from the left
};

// Called as requests finish: advance() for progress bars (`tokens` = tokens processed by the model
// so far); finished() once per request with its result, as soon as its batch is done and before the
// engine call returns, so a result cache can store it at once (a killed run loses at most a batch).
struct EngineProgress {
  virtual ~EngineProgress() = default;
  virtual void advance(size_t requests_done, size_t requests_total, size_t tokens) = 0;
  virtual void finished(size_t /*request_index*/, const LoglikelihoodResult& /*result*/) {}
  virtual void finished(size_t /*request_index*/, const GenerationResult& /*result*/) {}
};

// An engine's failure on one request: numbers that are not finite, or a forward pass that ran out
// of memory. `request_index` is the request's position in the vector the failing call was given, so
// the caller can name the task and doc; what() says what went wrong (without task or doc).
class RequestError : public Error {
 public:
  RequestError(size_t request_index, const std::string& reason) : Error(reason), request_index(request_index) {}
  size_t request_index;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // Results come back in request order, whatever order the engine computes them in.
  virtual std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                         EngineProgress* progress) = 0;
  virtual std::vector<GenerationResult> generate_until(const std::vector<GenerationRequest>& requests,
                                                       EngineProgress* progress) = 0;
  // progress->finished gets each request's LoglikelihoodResult once all its windows are scored.
  virtual std::vector<LoglikelihoodResult> loglikelihood_rolling(
      const std::vector<RollingLoglikelihoodRequest>& requests, EngineProgress* progress) = 0;
  // Provenance for results.json: model dir, weights/tokenizer hashes, dtype, device, batch size...
  virtual std::string describe_json() const = 0;
};

}  // namespace gemma::evals
