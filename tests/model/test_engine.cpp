// The request engine: lm-eval's pair tokenization, prefix sharing that changes no number, left
// truncation, and generation cut at stop strings.
#include "model_fixtures.h"  // first: see the note there

#include "engine/model_engine.h"
#include "model/model_files.h"

using namespace gemma;
using namespace gemma::test;
using gemma::evals::LoglikelihoodRequest;

namespace {

const ModelFiles& tiny_text_files() {
  static ModelFiles files = open_model_files(tiny_text_dir().string());
  return files;
}

evals::ModelEngine engine(bool share, int batch_size = 4, int max_length = 0) {
  evals::ModelEngineOptions options;
  options.prefix_sharing = share;
  options.batch_size = batch_size;
  options.max_length = max_length;
  return evals::ModelEngine(tiny_text_model(), tiny_text_files(), options);
}

std::vector<LoglikelihoodRequest> multiple_choice_requests() {
  std::vector<LoglikelihoodRequest> requests;
  for (std::string context : {"Question: What is 2 + 2?\nAnswer:", "The capital of France is",
                              "The quick brown fox jumps over the lazy dog. It was"})
    for (std::string choice : {" 4", " Paris", " very happy to see the river again.", " B", " a sunny afternoon"})
      requests.push_back({context, choice});
  return requests;
}

}  // namespace

TEST_CASE("encode_pair tokenizes like lm-eval and matches the fixture ids", "[engine]") {
  auto inputs = read_json(tiny_text_dir() / "inputs.json");
  const auto& tokenizer = *tiny_text_files().tokenizer;
  for (const auto& pair : inputs["continuation_pairs"]) {
    auto encoded = evals::encode_pair(tokenizer, pair["context_text"], pair["continuation_text"]);
    CHECK(encoded.context == pair["context_ids"].get<std::vector<int>>());
    CHECK(encoded.continuation == pair["continuation_ids"].get<std::vector<int>>());
  }
  // Trailing whitespace of the context moves into the continuation.
  auto moved = evals::encode_pair(tokenizer, "Answer: ", "A");
  auto plain = evals::encode_pair(tokenizer, "Answer:", " A");
  CHECK(moved.context == plain.context);
  CHECK(moved.continuation == plain.continuation);
  CHECK(plain.context.front() == 2);
  CHECK(std::count(plain.context.begin(), plain.context.end(), 2) == 1);
}

TEST_CASE("engine log-likelihoods equal the reference continuation pairs", "[engine][parity]") {
  auto inputs = read_json(tiny_text_dir() / "inputs.json");
  auto manifest = read_json(tiny_text_dir() / "expected" / "manifest.json");
  std::vector<LoglikelihoodRequest> requests;
  for (const auto& pair : inputs["continuation_pairs"])
    requests.push_back({pair["context_text"], pair["continuation_text"]});
  auto e = engine(true);
  auto results = e.loglikelihood(requests, nullptr);
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& expected = manifest["continuation_pairs"][i];
    CHECK(results[i].logprob == Approx(expected["sum_logprob"].get<double>()).margin(1e-3));
    CHECK(results[i].is_greedy == expected["is_greedy"].get<bool>());
  }
}

TEST_CASE("prefix sharing gives the same numbers with fewer tokens", "[engine]") {
  auto requests = multiple_choice_requests();
  auto shared = engine(true, 2);
  auto separate = engine(false, 3);
  auto a = shared.loglikelihood(requests, nullptr);
  auto b = separate.loglikelihood(requests, nullptr);
  REQUIRE(a.size() == requests.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(requests[i].context << " |" << requests[i].continuation);
    CHECK(a[i].logprob == Approx(b[i].logprob).margin(1e-4));
    CHECK(a[i].is_greedy == b[i].is_greedy);
    CHECK(a[i].continuation_tokens == b[i].continuation_tokens);
  }
  CHECK(shared.counters().forward_tokens < separate.counters().forward_tokens);
}

TEST_CASE("over-long contexts are cut from the left like lm-eval", "[engine]") {
  LoglikelihoodRequest request{"one two three four five six seven eight nine ten eleven twelve", " thirteen"};
  auto full = engine(true).loglikelihood({request}, nullptr).front();
  REQUIRE_FALSE(full.truncated);
  const int max_length = full.context_tokens + full.continuation_tokens - 4;
  auto cut = engine(true, 4, max_length).loglikelihood({request}, nullptr).front();
  CHECK(cut.truncated);
  CHECK(cut.context_tokens + cut.continuation_tokens == max_length + 1);
  // The same numbers as scoring the kept tokens directly.
  auto pair = evals::encode_pair(*tiny_text_files().tokenizer, request.context, request.continuation);
  std::vector<int> all = pair.context;
  all.insert(all.end(), pair.continuation.begin(), pair.continuation.end());
  std::vector<int> kept(all.end() - (max_length + 1), all.end());
  auto log_probs = torch::log_softmax(full_logits(tiny_text_model(), kept).to(torch::kFloat64), 1);
  double expected = 0;
  const int64_t n = static_cast<int64_t>(pair.continuation.size());
  for (int64_t j = 0; j < n; ++j)
    expected += log_probs[static_cast<int64_t>(kept.size()) - n - 1 + j][pair.continuation[j]].item<double>();
  CHECK(cut.logprob == Approx(expected).margin(1e-4));
}

TEST_CASE("generate_until stops at stop strings and at the token limit", "[engine][generation]") {
  auto e = engine(true, 2);
  std::vector<evals::GenerationRequest> requests = {
      {"The capital of France is", {}, 6}, {"Once upon a time", {}, 4}, {"The capital of France is", {}, 6}};
  auto free_run = e.generate_until(requests, nullptr);
  CHECK(free_run[0].hit_max_tokens);
  CHECK(free_run[0].generated_tokens == 6);
  CHECK(free_run[0].text == free_run[2].text);
  REQUIRE(free_run[0].text.size() > 2);
  // Stop at a piece of what it generates: the text ends before it.
  std::string stop = free_run[0].text.substr(free_run[0].text.size() / 2, 2);
  auto stopped = e.generate_until({{"The capital of France is", {stop}, 6}}, nullptr).front();
  CHECK(stopped.text == free_run[0].text.substr(0, free_run[0].text.find(stop)));
  CHECK_FALSE(stopped.hit_max_tokens);
}

TEST_CASE("request identities depend on exactly the tokens and settings", "[engine]") {
  const auto& tokenizer = *tiny_text_files().tokenizer;
  auto a = evals::encode_pair(tokenizer, "Answer:", " A");
  auto b = evals::encode_pair(tokenizer, "Answer: ", "A");  // the same tokens after lm-eval's split
  auto c = evals::encode_pair(tokenizer, "Answer:", " B");
  CHECK(evals::loglikelihood_request_id(a) == evals::loglikelihood_request_id(b));
  CHECK(evals::loglikelihood_request_id(a) != evals::loglikelihood_request_id(c));
  CHECK(evals::loglikelihood_request_id(a).size() == 64);
  std::vector<int> prompt = {2, 818, 5279};
  auto g = evals::generation_request_id(prompt, {"\n\n"}, 256);
  CHECK(g == evals::generation_request_id(prompt, {"\n\n"}, 256));
  CHECK(g != evals::generation_request_id(prompt, {"\n\n"}, 128));
  CHECK(g != evals::generation_request_id(prompt, {"\n", "\n"}, 256));
  CHECK(g != evals::generation_request_id({2, 818}, {"\n\n"}, 256));
}
