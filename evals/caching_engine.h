#pragma once
// An Engine that answers from a ResultCache what an earlier run (maybe killed) already computed and
// sends only the rest to the real engine, storing each result the moment the engine reports it
// (EngineProgress::finished). Torch-free.
//
// A stored result is reused only under the same key: SHA-256 of the model identity (CacheIdentity)
// and the request's strings. Request strings plus the tokenizer's hash fix the token ids exactly, so
// keying by strings is as strict as keying by tokens and needs no tokenizer here. Batch size and
// prefix sharing are deliberately not in the key: they change how requests are grouped into forward
// passes, not what is computed (differences stay at float-rounding level, like reordering a batch),
// and a resumed run should not have to repeat its first run's batching to reuse its results.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evals/engine.h"
#include "evals/result_cache.h"

namespace gemma::evals {

// Everything that changes the numbers an engine returns for a request.
struct CacheIdentity {
  std::string weights_fingerprint;
  std::string tokenizer_sha256;
  std::string config_sha256;    // config.json: rope, windows, norms... are not in the weights
  std::string dtype;            // "float32", "bfloat16", ...
  std::string device_kind;      // device_kind() of --device: how many GPUs and which carry no weight
  int max_length = 0;           // the truncation limit
  std::string harness_version;  // gemma-eval version + git hash: a code change may change results

  // From ModelEngine::describe_json(); throws gemma::Error when a field is missing, so an identity
  // is never silently weaker than intended. config_sha256 is left for the caller (not described).
  static CacheIdentity from_description(const nlohmann::json& description);
  std::string canonical() const;  // a JSON object with every field, fixed order
};

// The kinds of the devices in a --device list without indices, in order, once each: "cuda:0" and
// "cuda:0,cuda:1" are both "cuda" (every CUDA device and layer split computes alike), "cpu,cuda:0"
// is "cpu+cuda".
std::string device_kind(const std::string& devices);

// GEMMA_EVAL_VERSION "+" GEMMA_EVAL_GIT_HASH of this build. The hash is the commit at configure
// time: uncommitted changes do not show in it (use --no-cache while changing the engine).
std::string current_harness_version();

// The cache keys: SHA-256 hex over the identity, the request kind and every request field, each
// length-prefixed (no two different requests share an encoding; bytes are hashed as they are).
std::string request_key(const std::string& identity, const LoglikelihoodRequest& request);
std::string request_key(const std::string& identity, const GenerationRequest& request);
std::string request_key(const std::string& identity, const RollingLoglikelihoodRequest& request);

class CachingEngine : public Engine {
 public:
  struct Stats {
    size_t hits = 0;    // requests answered from the cache
    size_t misses = 0;  // requests sent to the inner engine
    size_t stored = 0;  // results written to the cache
  };

  // `identity`: CacheIdentity::canonical() (any string works; equal strings share results).
  CachingEngine(Engine& inner, ResultCache& cache, std::string identity);

  // Hits are reported to `progress` through finished() at once; the misses go to the inner engine in
  // their original relative order, and its advance() calls are forwarded as they are (counting the
  // misses only, so a progress bar's ETA extrapolates from model work, not from instant hits).
  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                 EngineProgress* progress) override;
  std::vector<GenerationResult> generate_until(const std::vector<GenerationRequest>& requests,
                                               EngineProgress* progress) override;
  std::vector<LoglikelihoodResult> loglikelihood_rolling(const std::vector<RollingLoglikelihoodRequest>& requests,
                                                         EngineProgress* progress) override;
  std::string describe_json() const override { return inner_.describe_json(); }

  const Stats& stats() const { return stats_; }

 private:
  template <typename Result, typename Request, typename Find, typename Compute>
  std::vector<Result> answer(const std::vector<Request>& requests, EngineProgress* progress, Find find,
                             Compute compute);

  Engine& inner_;
  ResultCache& cache_;
  std::string identity_;
  Stats stats_;
};

}  // namespace gemma::evals
