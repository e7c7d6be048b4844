// The result cache (evals/result_cache.h) and the CachingEngine around it, against a fake engine
// that counts what it is asked: reuse on a second run, only new requests reach the engine (in their
// order), a different model or harness version never reuses, results stored as they finish survive
// an engine that dies midway, damaged files are refused naming the file, damaged rows are recomputed,
// values round-trip exactly, and a failed write is an error naming the file.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "../support/temp_dir.h"
#include "common/error.h"
#include "common/sha256.h"
#include "evals/caching_engine.h"
#include "evals/result_cache.h"

using namespace gemma::evals;
using Catch::Contains;
using gemma::test::TempDir;
namespace fs = std::filesystem;

namespace {

// ---- a fake engine that records what it is asked ----

double fake_logprob(const std::string& context, const std::string& continuation) {
  const std::string digest = gemma::sha256_hex(context + '\x1f' + continuation);
  // Many significant digits, so a lossy round trip would show.
  return -static_cast<double>(std::stoull(digest.substr(0, 12), nullptr, 16)) / 3.0e13;
}

class FakeEngine : public Engine {
 public:
  std::vector<std::vector<LoglikelihoodRequest>> loglikelihood_calls;
  std::vector<std::vector<GenerationRequest>> generation_calls;
  std::vector<std::vector<RollingLoglikelihoodRequest>> rolling_calls;
  long fail_after = -1;         // >= 0: report this many results finished, then throw
  bool report_finished = true;  // call EngineProgress::finished() per request
  std::string non_finite_for;   // contexts containing it get a NaN log-likelihood
  long request_error_at = -1;   // >= 0: fail on this request of the call with a RequestError

  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                 EngineProgress* progress) override {
    loglikelihood_calls.push_back(requests);
    std::vector<LoglikelihoodResult> results;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (fail_after >= 0 && static_cast<long>(i) == fail_after) throw std::runtime_error("engine died");
      if (static_cast<long>(i) == request_error_at) throw RequestError(i, "out of memory");
      LoglikelihoodResult result;
      result.logprob = fake_logprob(requests[i].context, requests[i].continuation);
      if (!non_finite_for.empty() && requests[i].context.find(non_finite_for) != std::string::npos)
        result.logprob = std::nan("");
      result.is_greedy = result.logprob > -2.0;
      result.context_tokens = static_cast<int>(requests[i].context.size());
      result.continuation_tokens = static_cast<int>(requests[i].continuation.size());
      result.truncated = requests[i].context.find("LONG") != std::string::npos;
      results.push_back(result);
      if (progress && report_finished) progress->finished(i, result);
      if (progress) progress->advance(i + 1, requests.size(), 10 * (i + 1));
    }
    return results;
  }

  std::vector<GenerationResult> generate_until(const std::vector<GenerationRequest>& requests,
                                               EngineProgress* progress) override {
    generation_calls.push_back(requests);
    std::vector<GenerationResult> results;
    for (size_t i = 0; i < requests.size(); ++i) {
      GenerationResult result;
      // A cut inside a multi-byte character (invalid UTF-8) and a NUL byte: both must round-trip.
      result.text = "answer to " + requests[i].context + std::string("\0\xe2\x82", 3);
      result.generated_tokens = requests[i].max_gen_toks / 2;
      result.hit_max_tokens = requests[i].until.empty();
      results.push_back(result);
      if (progress && report_finished) progress->finished(i, result);
    }
    return results;
  }

  std::vector<LoglikelihoodResult> loglikelihood_rolling(const std::vector<RollingLoglikelihoodRequest>& requests,
                                                         EngineProgress* progress) override {
    rolling_calls.push_back(requests);
    std::vector<LoglikelihoodResult> results;
    for (size_t i = 0; i < requests.size(); ++i) {
      LoglikelihoodResult result;
      result.logprob = fake_logprob("", requests[i].text);  // what loglikelihood says for an empty context
      result.is_greedy = true;
      result.context_tokens = 1;
      result.continuation_tokens = static_cast<int>(requests[i].text.size());
      results.push_back(result);
      if (progress && report_finished) progress->finished(i, result);
    }
    return results;
  }

  std::string describe_json() const override { return R"({"fake": true})"; }

  size_t requests_seen() const {
    size_t n = 0;
    for (const auto& call : loglikelihood_calls) n += call.size();
    for (const auto& call : generation_calls) n += call.size();
    for (const auto& call : rolling_calls) n += call.size();
    return n;
  }
};

struct RecordingProgress : EngineProgress {
  std::vector<std::array<size_t, 3>> advances;
  std::map<size_t, LoglikelihoodResult> finished_ll;
  std::map<size_t, GenerationResult> finished_gen;
  void advance(size_t done, size_t total, size_t tokens) override { advances.push_back({done, total, tokens}); }
  void finished(size_t index, const LoglikelihoodResult& result) override { finished_ll[index] = result; }
  void finished(size_t index, const GenerationResult& result) override { finished_gen[index] = result; }
};

std::vector<LoglikelihoodRequest> mc_requests(const std::vector<std::string>& names) {
  std::vector<LoglikelihoodRequest> requests;
  for (const auto& name : names) requests.push_back({"Question " + name + "\nAnswer:", " " + name});
  return requests;
}

void check_equal(const LoglikelihoodResult& a, const LoglikelihoodResult& b) {
  CHECK(a.logprob == b.logprob);  // exactly: the cache must not round
  CHECK(a.is_greedy == b.is_greedy);
  CHECK(a.context_tokens == b.context_tokens);
  CHECK(a.continuation_tokens == b.continuation_tokens);
  CHECK(a.truncated == b.truncated);
}

void check_equal(const GenerationResult& a, const GenerationResult& b) {
  CHECK(a.text == b.text);
  CHECK(a.generated_tokens == b.generated_tokens);
  CHECK(a.hit_max_tokens == b.hit_max_tokens);
  CHECK(a.truncated == b.truncated);
}

// What the engine computes for `requests` without any cache.
std::vector<LoglikelihoodResult> truth(const std::vector<LoglikelihoodRequest>& requests) {
  FakeEngine engine;
  return engine.loglikelihood(requests, nullptr);
}

CacheIdentity test_identity() {
  CacheIdentity identity;
  identity.weights_fingerprint = std::string(64, 'a');
  identity.tokenizer_sha256 = std::string(64, 'b');
  identity.config_sha256 = std::string(64, 'c');
  identity.dtype = "float32";
  identity.device_kind = "cpu";
  identity.harness_version = "0.1.0+abcdef123456";
  return identity;
}

// One "run": a fresh cache object over `dir` (as a new process would open it) and a caching engine.
struct CachedRun {
  FakeEngine inner;
  ResultCache cache;
  CachingEngine engine;
  CachedRun(const fs::path& dir, const std::string& identity = test_identity().canonical(),
            ResultCache::Options options = {})
      : cache(dir, std::move(options)), engine(inner, cache, identity) {}
};

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const gemma::Error& e) {
    return e.what();
  }
  return "";
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// Runs SQL on the cache file behind gemma-eval's back (simulating damage or another program).
void raw_sql(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  INFO((error ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

// ---- reuse ----

TEST_CASE("result cache: a second run answers everything from the cache, exactly and in order") {
  TempDir dir("result-cache");
  const auto requests = mc_requests({"A", "B", "C", "D", "E"});
  std::vector<LoglikelihoodResult> first;
  {
    CachedRun run(dir.path);
    first = run.engine.loglikelihood(requests, nullptr);
    CHECK(run.inner.requests_seen() == 5);
    CHECK(run.engine.stats().hits == 0);
    CHECK(run.engine.stats().misses == 5);
    CHECK(run.engine.stats().stored == 5);
    CHECK(run.cache.size() == 5);
  }
  CachedRun again(dir.path);
  auto second = again.engine.loglikelihood(requests, nullptr);
  CHECK(again.inner.loglikelihood_calls.empty());  // not even an empty call
  CHECK(again.engine.stats().hits == 5);
  CHECK(again.engine.stats().misses == 0);
  CHECK(again.engine.stats().stored == 0);
  const auto expected = truth(requests);
  REQUIRE(second.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    check_equal(first[i], expected[i]);
    check_equal(second[i], expected[i]);
  }
  CHECK(again.engine.describe_json() == R"({"fake": true})");
}

TEST_CASE("result cache: only new requests reach the engine, in their order; answers merge in request order") {
  TempDir dir("result-cache");
  { CachedRun(dir.path).engine.loglikelihood(mc_requests({"b", "d"}), nullptr); }

  CachedRun run(dir.path);
  const auto requests = mc_requests({"a", "b", "c", "d", "e"});
  RecordingProgress progress;
  auto results = run.engine.loglikelihood(requests, &progress);
  REQUIRE(run.inner.loglikelihood_calls.size() == 1);
  const auto& sent = run.inner.loglikelihood_calls[0];
  REQUIRE(sent.size() == 3);
  CHECK(sent[0].context == requests[0].context);
  CHECK(sent[1].context == requests[2].context);
  CHECK(sent[2].context == requests[4].context);
  CHECK(run.engine.stats().hits == 2);
  CHECK(run.engine.stats().misses == 3);
  CHECK(run.engine.stats().stored == 3);

  const auto expected = truth(requests);
  REQUIRE(results.size() == 5);
  for (size_t i = 0; i < 5; ++i) check_equal(results[i], expected[i]);
  // The caller's progress hears of every request once, under its own index, and sees the engine's
  // own advance() calls (counting the 3 misses only).
  REQUIRE(progress.finished_ll.size() == 5);
  for (size_t i = 0; i < 5; ++i) check_equal(progress.finished_ll[i], expected[i]);
  REQUIRE(progress.advances.size() == 3);
  CHECK(progress.advances.back() == std::array<size_t, 3>{3, 3, 30});
}

TEST_CASE("result cache: generation results round-trip, keyed by stop strings and token limit") {
  TempDir dir("result-cache");
  std::vector<GenerationRequest> requests = {{"Q: 1+1?", {"\n\n"}, 256}, {"Q: 2+2?", {}, 32}};
  std::vector<GenerationResult> first;
  { first = CachedRun(dir.path).engine.generate_until(requests, nullptr); }

  CachedRun run(dir.path);
  std::vector<GenerationRequest> changed = requests;
  changed.push_back({"Q: 1+1?", {"\n\n", "Q:"}, 256});  // another stop list
  changed.push_back({"Q: 1+1?", {"\n\n"}, 255});        // another token limit
  auto results = run.engine.generate_until(changed, nullptr);
  CHECK(run.engine.stats().hits == 2);
  REQUIRE(run.inner.generation_calls.size() == 1);
  CHECK(run.inner.generation_calls[0].size() == 2);
  for (size_t i = 0; i < 2; ++i) check_equal(results[i], first[i]);
  CHECK(results[0].text.size() == std::string("answer to Q: 1+1?").size() + 3);
  // A loglikelihood request never answers from a generation entry (different kind, different key).
  CHECK(run.engine.loglikelihood({{"Q: 1+1?", "\n\n"}}, nullptr).size() == 1);
  CHECK(run.engine.stats().hits == 2);
}

TEST_CASE("result cache: a non-finite log-likelihood is never stored; failures name the caller's request") {
  TempDir dir("result-cache");
  { CachedRun(dir.path).engine.loglikelihood(mc_requests({"a", "c"}), nullptr); }  // two hits for later
  const auto requests = mc_requests({"a", "b", "c", "d"});                         // misses: b (1) and d (3)

  SECTION("NaN reported through finished()") {
    CachedRun run(dir.path);
    run.inner.non_finite_for = "Question d";
    try {
      run.engine.loglikelihood(requests, nullptr);
      FAIL("a NaN log-likelihood was accepted");
    } catch (const RequestError& e) {
      CHECK(e.request_index == 3);  // the caller's index, not the inner engine's 1
      CHECK_THAT(e.what(), Contains("nan"));
    }
    CHECK(run.cache.size() == 3);  // a, c and b; never d
  }
  SECTION("NaN from an engine that does not report finished()") {
    CachedRun run(dir.path);
    run.inner.report_finished = false;
    run.inner.non_finite_for = "Question b";
    CHECK_THROWS_AS(run.engine.loglikelihood(requests, nullptr), RequestError);
    CHECK(run.cache.size() == 2);  // nothing of this call: the NaN is caught before any is stored
  }
  SECTION("an inner engine's failing request is mapped to the caller's index") {
    CachedRun run(dir.path);
    run.inner.request_error_at = 1;  // the second miss: d
    try {
      run.engine.loglikelihood(requests, nullptr);
      FAIL("the engine's failure was lost");
    } catch (const RequestError& e) {
      CHECK(e.request_index == 3);
      CHECK(std::string(e.what()) == "out of memory");
    }
  }
}

TEST_CASE("result cache: an engine that does not report finished() still has its results stored") {
  TempDir dir("result-cache");
  {
    CachedRun run(dir.path);
    run.inner.report_finished = false;
    run.engine.loglikelihood(mc_requests({"a", "b"}), nullptr);
    CHECK(run.engine.stats().stored == 2);
  }
  CachedRun again(dir.path);
  again.engine.loglikelihood(mc_requests({"a", "b"}), nullptr);
  CHECK(again.engine.stats().hits == 2);
}

// ---- identity ----

TEST_CASE("result cache: results of another model, dtype, device or harness version are never reused") {
  TempDir dir("result-cache");
  const auto requests = mc_requests({"a", "b", "c"});
  const CacheIdentity base = test_identity();
  { CachedRun(dir.path, base.canonical()).engine.loglikelihood(requests, nullptr); }

  std::vector<std::pair<std::string, CacheIdentity>> others;
  auto vary = [&](const std::string& what, auto change) {
    CacheIdentity other = base;
    change(other);
    others.emplace_back(what, other);
  };
  vary("weights", [](CacheIdentity& id) { id.weights_fingerprint = std::string(64, 'f'); });
  vary("tokenizer", [](CacheIdentity& id) { id.tokenizer_sha256 = std::string(64, 'f'); });
  vary("config", [](CacheIdentity& id) { id.config_sha256 = std::string(64, 'f'); });
  vary("dtype", [](CacheIdentity& id) { id.dtype = "bfloat16"; });
  vary("device", [](CacheIdentity& id) { id.device_kind = "cuda"; });
  vary("max_length", [](CacheIdentity& id) { id.max_length = 512; });
  vary("harness version", [](CacheIdentity& id) { id.harness_version = "0.1.0+000000000000"; });
  for (const auto& [what, identity] : others) {
    INFO("another " << what);
    CachedRun run(dir.path, identity.canonical());
    run.engine.loglikelihood(requests, nullptr);
    CHECK(run.engine.stats().hits == 0);
    CHECK(run.inner.requests_seen() == 3);
  }
  // Each identity keeps its own entries in the one file: the original still hits.
  CachedRun original(dir.path, base.canonical());
  original.engine.loglikelihood(requests, nullptr);
  CHECK(original.engine.stats().hits == 3);
  CHECK(original.cache.size() == 3 * (others.size() + 1));
}

TEST_CASE("result cache: the identity comes from the engine description, without batch size or device index") {
  nlohmann::json description = {{"weights_fingerprint", "w"},
                                {"tokenizer", {{"kind", "spm"}, {"sha256", "t"}}},
                                {"device", "cuda:1"},
                                {"dtype", "bfloat16"},
                                {"batch_size", 8},
                                {"prefix_sharing", true},
                                {"max_length", 0}};
  const CacheIdentity identity = CacheIdentity::from_description(description);
  CHECK(identity.weights_fingerprint == "w");
  CHECK(identity.tokenizer_sha256 == "t");
  CHECK(identity.device_kind == "cuda");
  CHECK(identity.dtype == "bfloat16");
  CHECK(identity.harness_version == current_harness_version());
  CHECK_THAT(identity.harness_version, Contains("+"));

  nlohmann::json rebatched = description;
  rebatched["batch_size"] = 1;
  rebatched["prefix_sharing"] = false;
  rebatched["device"] = "cuda:0";
  CHECK(CacheIdentity::from_description(rebatched).canonical() == identity.canonical());

  nlohmann::json missing = description;
  missing.erase("weights_fingerprint");
  CHECK_THAT(error_of([&] { CacheIdentity::from_description(missing); }), Contains("weights_fingerprint"));
  nlohmann::json no_tokenizer_hash = description;
  no_tokenizer_hash["tokenizer"].erase("sha256");
  CHECK_THAT(error_of([&] { CacheIdentity::from_description(no_tokenizer_hash); }), Contains("sha256"));
}

TEST_CASE("result cache: request keys tell apart every field, including where one ends") {
  const std::string id = test_identity().canonical();
  CHECK(request_key(id, LoglikelihoodRequest{"ab", "c"}) != request_key(id, LoglikelihoodRequest{"a", "bc"}));
  CHECK(request_key(id, LoglikelihoodRequest{"a", "b"}) == request_key(id, LoglikelihoodRequest{"a", "b"}));
  CHECK(request_key(id, LoglikelihoodRequest{"a", "b"}) != request_key(id + " ", LoglikelihoodRequest{"a", "b"}));
  CHECK(request_key(id, GenerationRequest{"q", {"a", "b"}, 8}) != request_key(id, GenerationRequest{"q", {"ab"}, 8}));
  CHECK(request_key(id, GenerationRequest{"q", {"a"}, 8}) != request_key(id, GenerationRequest{"q", {"a"}, 9}));
  CHECK(request_key(id, GenerationRequest{"q", {}, 8}) != request_key(id, GenerationRequest{"q", {""}, 8}));
  // Bytes are hashed as they are: invalid UTF-8 does not collapse onto a replacement character.
  CHECK(request_key(id, LoglikelihoodRequest{"\xff", "x"}) != request_key(id, LoglikelihoodRequest{"\xfe", "x"}));
}

TEST_CASE("result cache: rolling requests have keys of their own and round-trip, answered once") {
  const std::string id = test_identity().canonical();
  // The same string as a rolling text and as a continuation after an empty context: different numbers
  // (windows of the whole text vs one truncated request), so never the same key.
  CHECK(request_key(id, RollingLoglikelihoodRequest{"some text"}) !=
        request_key(id, LoglikelihoodRequest{"", "some text"}));
  CHECK(request_key(id, RollingLoglikelihoodRequest{"a"}) != request_key(id, RollingLoglikelihoodRequest{"b"}));

  TempDir dir("result-cache");
  const std::vector<RollingLoglikelihoodRequest> texts = {{"first text"}, {"second text"}};
  std::vector<LoglikelihoodResult> first;
  {
    CachedRun run(dir.path);
    run.engine.loglikelihood(mc_requests({"x"}), nullptr);  // a loglikelihood row beside the rolling ones
    first = run.engine.loglikelihood_rolling(texts, nullptr);
    CHECK(run.inner.rolling_calls.size() == 1);
    CHECK(run.engine.stats().stored == 3);
  }
  CachedRun again(dir.path);
  RecordingProgress progress;
  const auto second = again.engine.loglikelihood_rolling({texts[1], {"third text"}, texts[0]}, &progress);
  REQUIRE(again.inner.rolling_calls.size() == 1);
  REQUIRE(again.inner.rolling_calls[0].size() == 1);
  CHECK(again.inner.rolling_calls[0][0].text == "third text");
  CHECK(again.engine.stats().hits == 2);
  REQUIRE(second.size() == 3);
  check_equal(second[0], first[1]);
  check_equal(second[2], first[0]);
  CHECK(second[1].logprob == fake_logprob("", "third text"));
  CHECK(progress.finished_ll.size() == 3);
}

// ---- a run that dies midway ----

TEST_CASE("result cache: results finished before the engine died are reused by the next run") {
  TempDir dir("result-cache");
  const auto requests = mc_requests({"a", "b", "c", "d", "e", "f"});
  {
    CachedRun run(dir.path);
    run.inner.fail_after = 4;
    CHECK_THROWS_WITH(run.engine.loglikelihood(requests, nullptr), "engine died");
    CHECK(run.engine.stats().stored == 4);
  }
  CachedRun resumed(dir.path);
  auto results = resumed.engine.loglikelihood(requests, nullptr);
  CHECK(resumed.engine.stats().hits == 4);
  CHECK(resumed.engine.stats().misses == 2);
  REQUIRE(resumed.inner.loglikelihood_calls.size() == 1);
  REQUIRE(resumed.inner.loglikelihood_calls[0].size() == 2);
  CHECK(resumed.inner.loglikelihood_calls[0][0].context == requests[4].context);
  CHECK(resumed.inner.loglikelihood_calls[0][1].context == requests[5].context);
  const auto expected = truth(requests);
  for (size_t i = 0; i < requests.size(); ++i) check_equal(results[i], expected[i]);
}

// ---- damaged and foreign files ----

TEST_CASE("result cache: a file of garbage bytes is refused with an error naming it, and left untouched") {
  TempDir dir("result-cache");
  const fs::path file = dir.path / ResultCache::kFileName;
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage += static_cast<char>((i * 7919 + 13) % 251);
  write_bytes(file, garbage);
  const std::string error = error_of([&] { ResultCache cache(dir.path); });
  CHECK_THAT(error, Contains(file.string()));
  CHECK_THAT(error, Contains("--no-cache"));
  CHECK(read_bytes(file) == garbage);
}

TEST_CASE("result cache: another program's SQLite database or another schema version is refused") {
  TempDir dir("result-cache");
  const fs::path file = dir.path / ResultCache::kFileName;
  SECTION("a foreign database") {
    raw_sql(file, "CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos VALUES(1, 'cat');");
    const std::string error = error_of([&] { ResultCache cache(dir.path); });
    CHECK_THAT(error, Contains(file.string()));
    CHECK_THAT(error, Contains("not a gemma-eval cache"));
  }
  SECTION("a newer schema") {
    { ResultCache cache(dir.path); }
    raw_sql(file, "UPDATE meta SET value='99' WHERE name='schema_version'");
    const std::string error = error_of([&] { ResultCache cache(dir.path); });
    CHECK_THAT(error, Contains(file.string()));
    CHECK_THAT(error, Contains("schema version 99"));
  }
  SECTION("an empty file is a fresh cache") {
    write_bytes(file, "");
    ResultCache cache(dir.path);
    CHECK(cache.size() == 0);
  }
}

TEST_CASE("result cache: a damaged entry is ignored with a warning and recomputed") {
  TempDir dir("result-cache");
  const auto requests = mc_requests({"a", "b", "c"});
  { CachedRun(dir.path).engine.loglikelihood(requests, nullptr); }
  // A changed digit in one stored value (its checksum no longer matches).
  raw_sql(dir.path / ResultCache::kFileName,
          "UPDATE results SET value = replace(value, '\"logprob\":-', '\"logprob\":-1') WHERE rowid = "
          "(SELECT min(rowid) FROM results)");
  std::vector<std::string> warnings;
  ResultCache::Options options;
  options.warn = [&](const std::string& message) { warnings.push_back(message); };
  CachedRun run(dir.path, test_identity().canonical(), options);
  auto results = run.engine.loglikelihood(requests, nullptr);
  CHECK(run.engine.stats().hits == 2);
  CHECK(run.engine.stats().misses == 1);
  CHECK(run.cache.rejected() == 1);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Contains((dir.path / ResultCache::kFileName).string()));
  CHECK_THAT(warnings[0], Contains("checksum"));
  const auto expected = truth(requests);
  for (size_t i = 0; i < requests.size(); ++i) check_equal(results[i], expected[i]);
  // The recomputed result replaced the damaged one.
  CachedRun after(dir.path);
  after.engine.loglikelihood(requests, nullptr);
  CHECK(after.engine.stats().hits == 3);
}

TEST_CASE("result cache: bytes overwritten anywhere in the file give an error or the right numbers, never wrong ones") {
  TempDir dir("result-cache");
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) names.push_back("item " + std::to_string(i) + std::string(40, 'x'));
  const auto requests = mc_requests(names);
  const auto expected = truth(requests);
  { CachedRun(dir.path).engine.loglikelihood(requests, nullptr); }  // closing checkpoints the WAL
  const fs::path file = dir.path / ResultCache::kFileName;
  REQUIRE_FALSE(fs::exists(dir.path / (std::string(ResultCache::kFileName) + "-wal")));
  const std::string pristine = read_bytes(file);
  REQUIRE(pristine.size() > 16 * 4096);
  size_t refused = 0, recomputed = 0;
  for (size_t offset = 0; offset < pristine.size(); offset += 1531) {
    INFO("garbage at byte " << offset);
    std::string damaged = pristine;
    for (size_t i = offset; i < std::min(damaged.size(), offset + 64); ++i) damaged[i] = static_cast<char>(i * 31 + 7);
    write_bytes(file, damaged);
    ResultCache::Options quiet;
    quiet.warn = [](const std::string&) {};
    try {
      CachedRun run(dir.path, test_identity().canonical(), quiet);
      auto results = run.engine.loglikelihood(requests, nullptr);
      REQUIRE(results.size() == expected.size());
      for (size_t i = 0; i < expected.size(); ++i) check_equal(results[i], expected[i]);
      recomputed += run.engine.stats().misses > 0;
    } catch (const gemma::Error& e) {
      CHECK_THAT(e.what(), Contains(file.string()));
      ++refused;
    }
    fs::remove(dir.path / (std::string(ResultCache::kFileName) + "-wal"));
    fs::remove(dir.path / (std::string(ResultCache::kFileName) + "-shm"));
  }
  // Both outcomes occur: the test exercises the row checks as well as SQLite's own.
  CHECK(refused > 0);
  CHECK(recomputed > 0);
}

// ---- failures ----

TEST_CASE("result cache: a failed write is an error naming the file") {
  TempDir dir("result-cache");
  ResultCache::Options impatient;
  impatient.busy_timeout_ms = 50;
  CachedRun run(dir.path, test_identity().canonical(), impatient);
  // Another connection holds the write lock for the whole call (as a stuck second run would).
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open((dir.path / ResultCache::kFileName).c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const std::string error = error_of([&] { run.engine.loglikelihood(mc_requests({"a"}), nullptr); });
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK_THAT(error, Contains((dir.path / ResultCache::kFileName).string()));
  CHECK_THAT(error, Contains("storing a result"));
}

TEST_CASE("result cache: a cache folder that cannot be created is an error naming it") {
  TempDir dir("result-cache");
  write_bytes(dir.path / "file", "not a folder");
  CHECK_THAT(error_of([&] { ResultCache cache(dir.path / "file" / "cache"); }),
             Contains((dir.path / "file" / "cache").string()));
}

// ---- values ----

TEST_CASE("result cache: values round-trip exactly; anything else is rejected") {
  for (double logprob : {-1.2345678901234567e-5, -0.1, -1e-320, -0.0, -123456.789012345678,
                         -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()}) {
    LoglikelihoodResult result;
    result.logprob = logprob;
    result.is_greedy = true;
    result.context_tokens = 2147483647;
    result.continuation_tokens = 3;
    result.truncated = true;
    auto back = decode_loglikelihood_result(encode_result(result));
    REQUIRE(back);
    check_equal(*back, result);
    CHECK(std::signbit(back->logprob) == std::signbit(logprob));
  }
  LoglikelihoodResult nan_result;
  nan_result.logprob = std::numeric_limits<double>::quiet_NaN();
  auto nan_back = decode_loglikelihood_result(encode_result(nan_result));
  REQUIRE(nan_back);
  CHECK(std::isnan(nan_back->logprob));

  for (const std::string text : {std::string("plain"), std::string("caf\xc3\xa9"), std::string("cut \xe2\x82"),
                                 std::string("nul\0byte", 8), std::string()}) {
    GenerationResult result;
    result.text = text;
    result.generated_tokens = 7;
    auto back = decode_generation_result(encode_result(result));
    REQUIRE(back);
    check_equal(*back, result);
  }

  const std::string good = encode_result(LoglikelihoodResult{});
  CHECK(decode_loglikelihood_result(good));
  for (const std::string bad :
       {std::string(""), std::string("[]"), std::string("{"), good.substr(0, good.size() - 1),
        std::string(R"({"logprob": "-1", "is_greedy": false, "context_tokens": 0, "continuation_tokens": 0, )"
                    R"("truncated": false})"),
        std::string(
            R"({"logprob": -1, "is_greedy": 0, "context_tokens": 0, "continuation_tokens": 0, "truncated": false})"),
        std::string(R"({"logprob": -1, "is_greedy": false, "context_tokens": 1.5, "continuation_tokens": 0, )"
                    R"("truncated": false})"),
        std::string(R"({"logprob": -1, "is_greedy": false, "context_tokens": 99999999999, "continuation_tokens": 0, )"
                    R"("truncated": false})"),
        std::string(R"({"logprob": -1, "is_greedy": false, "context_tokens": 0, "truncated": false})"),
        std::string(R"({"logprob": -1, "is_greedy": false, "context_tokens": 0, "continuation_tokens": 0, )"
                    R"("truncated": false, "x": 1})")}) {
    INFO(bad);
    CHECK_FALSE(decode_loglikelihood_result(bad));
  }
  CHECK_FALSE(decode_generation_result(good));
  CHECK_FALSE(decode_generation_result(
      R"({"text_hex": "abc", "generated_tokens": 1, "hit_max_tokens": false, "truncated": false})"));
  CHECK_FALSE(decode_generation_result(
      R"({"text_hex": "zz", "generated_tokens": 1, "hit_max_tokens": false, "truncated": false})"));
}
