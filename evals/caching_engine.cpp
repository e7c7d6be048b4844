#include "evals/caching_engine.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <type_traits>

#include "build_info.h"
#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"

namespace gemma::evals {
using nlohmann::json;

// ---- identity and keys ----

std::string device_kind(const std::string& devices) {
  std::vector<std::string> kinds;
  size_t start = 0;
  while (start <= devices.size()) {
    size_t comma = std::min(devices.find(',', start), devices.size());
    std::string item = devices.substr(start, comma - start);
    std::string kind = item.substr(0, item.find(':'));
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    start = comma + 1;
  }
  std::string joined;
  for (const auto& kind : kinds) joined += (joined.empty() ? "" : "+") + kind;
  return joined;
}

CacheIdentity CacheIdentity::from_description(const json& description) {
  auto field = [&](const json& object, const char* name) -> const json& {
    if (!object.is_object() || !object.contains(name))
      fail("result cache: the engine description has no \"{}\" to key the cache by", name);
    return object[name];
  };
  CacheIdentity identity;
  try {
    identity.weights_fingerprint = field(description, "weights_fingerprint").get<std::string>();
    identity.tokenizer_sha256 = field(field(description, "tokenizer"), "sha256").get<std::string>();
    identity.dtype = field(description, "dtype").get<std::string>();
    const std::string device = field(description, "device").get<std::string>();
    identity.device_kind = gemma::evals::device_kind(device);
    identity.max_length = field(description, "max_length").get<int>();
  } catch (const json::exception& e) {
    fail("result cache: an engine description field has an unexpected type ({})", e.what());
  }
  identity.harness_version = current_harness_version();
  return identity;
}

std::string CacheIdentity::canonical() const {
  nlohmann::ordered_json object = {{"weights_fingerprint", weights_fingerprint},
                                   {"tokenizer_sha256", tokenizer_sha256},
                                   {"config_sha256", config_sha256},
                                   {"dtype", dtype},
                                   {"device_kind", device_kind},
                                   {"max_length", max_length},
                                   {"harness_version", harness_version}};
  return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string current_harness_version() { return std::string(GEMMA_EVAL_VERSION) + "+" + GEMMA_EVAL_GIT_HASH; }

namespace {

void field(Sha256& hash, std::string_view bytes) {
  hash.update(std::to_string(bytes.size()) + ":");
  hash.update(bytes);
}

Sha256 key_hash(const std::string& identity, const char* kind) {
  Sha256 hash;
  field(hash, "gemma-eval result key v1");
  field(hash, identity);
  field(hash, kind);
  return hash;
}

// Images by content (sha256 of the file's bytes), not by path: a moved dataset still hits, an edited
// image does not. Text-only requests hash exactly as before images existed.
void image_fields(Sha256& hash, const std::vector<std::string>& images) {
  if (images.empty()) return;
  field(hash, "images " + std::to_string(images.size()));
  for (const auto& path : images) field(hash, sha256_hex(read_file(path)));
}

}  // namespace

std::string request_key(const std::string& identity, const LoglikelihoodRequest& request) {
  Sha256 hash = key_hash(identity, "loglikelihood");
  field(hash, request.context);
  field(hash, request.continuation);
  image_fields(hash, request.images);
  return hash.hex_digest();
}

std::string request_key(const std::string& identity, const GenerationRequest& request) {
  Sha256 hash = key_hash(identity, "generate_until");
  field(hash, request.context);
  field(hash, std::to_string(request.until.size()));
  for (const auto& stop : request.until) field(hash, stop);
  field(hash, std::to_string(request.max_gen_toks));
  image_fields(hash, request.images);
  return hash.hex_digest();
}

// Its own kind: a rolling result is a whole text's log-likelihood, never a continuation's given an
// empty context (which the engine scores differently: no windows, one truncated request).
std::string request_key(const std::string& identity, const RollingLoglikelihoodRequest& request) {
  Sha256 hash = key_hash(identity, "loglikelihood_rolling");
  field(hash, request.text);
  return hash.hex_digest();
}

// ---- the engine ----

namespace {

// A non-finite log-likelihood is a broken model's output, not a result: it is never stored, so a
// fixed model (same fingerprint, e.g. a re-run after the error) cannot be answered from it.
void require_finite(size_t request, const LoglikelihoodResult& result) {
  if (!std::isfinite(result.logprob))
    throw RequestError(request, fmt::format("the engine returned a log-likelihood of {}; nothing is scored or cached "
                                            "from it",
                                            result.logprob));
}
void require_finite(size_t, const GenerationResult&) {}

// Sits between the inner engine and the caller's progress: stores each result as the inner engine
// finishes it (so a kill loses at most the batch in flight) and maps indices back to the caller's.
template <typename Result>
class StoringProgress : public EngineProgress {
 public:
  StoringProgress(const std::vector<size_t>& outer_index, const std::vector<std::string>& keys, ResultCache& cache,
                  EngineProgress* outer, std::vector<bool>& stored, size_t& stored_count)
      : outer_index_(outer_index),
        keys_(keys),
        cache_(cache),
        outer_(outer),
        stored_(stored),
        stored_count_(stored_count) {}

  void advance(size_t done, size_t total, size_t tokens) override {
    if (outer_) outer_->advance(done, total, tokens);
  }
  void finished(size_t index, const LoglikelihoodResult& result) override { handle(index, result); }
  void finished(size_t index, const GenerationResult& result) override { handle(index, result); }

 private:
  template <typename Reported>
  void handle(size_t index, const Reported& result) {
    if constexpr (std::is_same_v<Reported, Result>) {
      if (index >= outer_index_.size())
        fail("engine reported request {} finished, but was given {}", index, outer_index_.size());
      require_finite(index, result);  // the inner engine's index: answer() maps it to the caller's
      const size_t outer = outer_index_[index];
      if (!stored_[index]) {  // an engine reporting a request twice stores it once
        cache_.store(keys_[outer], result);
        stored_[index] = true;
        ++stored_count_;
      }
      if (outer_) outer_->finished(outer, result);
    } else {
      fail("engine reported a result of the other request kind");
    }
  }

  const std::vector<size_t>& outer_index_;
  const std::vector<std::string>& keys_;
  ResultCache& cache_;
  EngineProgress* outer_;
  std::vector<bool>& stored_;
  size_t& stored_count_;
};

}  // namespace

CachingEngine::CachingEngine(Engine& inner, ResultCache& cache, std::string identity)
    : inner_(inner), cache_(cache), identity_(std::move(identity)) {}

template <typename Result, typename Request, typename Find, typename Compute>
std::vector<Result> CachingEngine::answer(const std::vector<Request>& requests, EngineProgress* progress, Find find,
                                          Compute compute) {
  std::vector<std::string> keys;
  keys.reserve(requests.size());
  std::vector<std::optional<Result>> answers(requests.size());
  std::vector<Request> misses;
  std::vector<size_t> miss_index;  // position in `misses` -> position in `requests`
  for (size_t i = 0; i < requests.size(); ++i) {
    keys.push_back(request_key(identity_, requests[i]));
    answers[i] = find(keys[i]);
    if (answers[i]) {
      ++stats_.hits;
      if (progress) progress->finished(i, *answers[i]);
    } else {
      ++stats_.misses;
      misses.push_back(requests[i]);
      miss_index.push_back(i);
    }
  }
  if (!misses.empty()) {
    std::vector<bool> stored(misses.size(), false);
    StoringProgress<Result> storing(miss_index, keys, cache_, progress, stored, stats_.stored);
    std::vector<Result> fresh;
    try {
      fresh = compute(misses, &storing);
    } catch (const RequestError& e) {  // the inner engine counts the misses only
      if (e.request_index >= miss_index.size()) throw;
      throw RequestError(miss_index[e.request_index], e.what());
    }
    if (fresh.size() != misses.size()) fail("engine returned {} results for {} requests", fresh.size(), misses.size());
    for (size_t m = 0; m < misses.size(); ++m) require_finite(miss_index[m], fresh[m]);
    for (size_t m = 0; m < misses.size(); ++m) {
      // An engine that does not report finished() still gets its results stored, at the end.
      if (!stored[m]) {
        cache_.store(keys[miss_index[m]], fresh[m]);
        ++stats_.stored;
      }
      answers[miss_index[m]] = std::move(fresh[m]);
    }
  }
  std::vector<Result> results;
  results.reserve(requests.size());
  for (auto& answer : answers) results.push_back(std::move(*answer));
  return results;
}

std::vector<LoglikelihoodResult> CachingEngine::loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                              EngineProgress* progress) {
  return answer<LoglikelihoodResult>(
      requests, progress, [&](const std::string& key) { return cache_.find_loglikelihood(key); },
      [&](const std::vector<LoglikelihoodRequest>& misses, EngineProgress* storing) {
        return inner_.loglikelihood(misses, storing);
      });
}

std::vector<GenerationResult> CachingEngine::generate_until(const std::vector<GenerationRequest>& requests,
                                                            EngineProgress* progress) {
  return answer<GenerationResult>(
      requests, progress, [&](const std::string& key) { return cache_.find_generation(key); },
      [&](const std::vector<GenerationRequest>& misses, EngineProgress* storing) {
        return inner_.generate_until(misses, storing);
      });
}

}  // namespace gemma::evals

namespace gemma::evals {

std::vector<LoglikelihoodResult> CachingEngine::loglikelihood_rolling(
    const std::vector<RollingLoglikelihoodRequest>& requests, EngineProgress* progress) {
  return answer<LoglikelihoodResult>(
      requests, progress, [&](const std::string& key) { return cache_.find_loglikelihood(key); },
      [&](const std::vector<RollingLoglikelihoodRequest>& misses, EngineProgress* storing) {
        return inner_.loglikelihood_rolling(misses, storing);
      });
}

}  // namespace gemma::evals
