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

namespace {

// lm-eval's rolling windows restated for the check below (lm_eval/utils.py get_rolling_token_windows
// with context_len 1): tokens [s, s+m) are predicted together; the first window reads BOS and the text
// before them, a later one the max_length tokens ending just before its last token. The sum over
// windows of each token's log-probability, read from the model's logits of that input run alone.
double direct_rolling_logprob(const std::vector<int>& tokens, int bos, size_t max_length) {
  double total = 0;
  for (size_t s = 0; s < tokens.size();) {
    const size_t m = std::min(max_length, tokens.size() - s), end = s + m;
    std::vector<int> input;
    if (s == 0) {
      input.push_back(bos);
      input.insert(input.end(), tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(m - 1));
    } else {
      input.assign(tokens.begin() + static_cast<std::ptrdiff_t>(end - max_length - 1),
                   tokens.begin() + static_cast<std::ptrdiff_t>(end - 1));
    }
    REQUIRE(input.size() <= max_length);
    auto log_probs = torch::log_softmax(full_logits(tiny_text_model(), input).to(torch::kFloat64), 1);
    const size_t first = input.size() - m;  // the position whose logits predict tokens[s]
    for (size_t j = 0; j < m; ++j) total += log_probs[static_cast<int64_t>(first + j)][tokens[s + j]].item<double>();
    s = end;
  }
  return total;
}

}  // namespace

TEST_CASE("rolling log-likelihoods sum every token's log-probability over lm-eval's windows", "[engine][rolling]") {
  const auto& tokenizer = *tiny_text_files().tokenizer;
  const std::vector<std::string> texts = {
      "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many "
      "clips did Natalia sell altogether in April and May?\nNatalia sold 48/2 = 24 clips in May.",
      "Weng earns $12 an hour for babysitting.", "x"};
  const int max_length = 16;
  const std::vector<int> long_tokens = tokenizer.encode(texts[0]);
  REQUIRE(long_tokens.size() > 2 * max_length + 1);  // three windows or more, the last one short
  REQUIRE(long_tokens.size() % max_length != 0);

  std::vector<evals::RollingLoglikelihoodRequest> requests;
  for (const auto& text : texts) requests.push_back({text});
  auto rolling = engine(true, 2, max_length);
  const auto results = rolling.loglikelihood_rolling(requests, nullptr);
  REQUIRE(results.size() == texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    INFO(texts[i]);
    const std::vector<int> tokens = tokenizer.encode(texts[i]);
    CHECK(results[i].logprob ==
          Approx(direct_rolling_logprob(tokens, tokenizer.special().bos, max_length)).margin(1e-4));
    CHECK(results[i].continuation_tokens == static_cast<int>(tokens.size()));
    CHECK(results[i].context_tokens == 1);
    CHECK_FALSE(results[i].truncated);
  }

  SECTION("a text that fits one window scores as a continuation after an empty context") {
    const auto as_pair = engine(false, 1).loglikelihood({{"", texts[1]}}, nullptr).front();
    const auto whole = engine(false, 1).loglikelihood_rolling({requests[1]}, nullptr).front();
    CHECK(whole.logprob == Approx(as_pair.logprob).margin(1e-4));
    CHECK(whole.is_greedy == as_pair.is_greedy);
  }
  SECTION("batching and prefix sharing change no number") {
    const auto alone = engine(false, 1, max_length).loglikelihood_rolling(requests, nullptr);
    for (size_t i = 0; i < texts.size(); ++i) CHECK(alone[i].logprob == Approx(results[i].logprob).margin(1e-4));
  }
  SECTION("an empty text scores 0 without running the model; progress hears of every request") {
    struct Recording : evals::EngineProgress {
      std::vector<size_t> finished_requests;
      void advance(size_t, size_t, size_t) override {}
      void finished(size_t index, const evals::LoglikelihoodResult&) override { finished_requests.push_back(index); }
    } progress;
    auto e = engine(true, 2, max_length);
    const auto empty = e.loglikelihood_rolling({{""}, requests[2]}, &progress);
    CHECK(empty[0].logprob == 0.0);
    CHECK(empty[0].continuation_tokens == 0);
    std::sort(progress.finished_requests.begin(), progress.finished_requests.end());
    CHECK(progress.finished_requests == std::vector<size_t>{0, 1});
  }
}

TEST_CASE("rolling windows longer than a logits slice score every token once", "[engine][rolling]") {
  // The bundled sample text, ~1.7k tokens: windows of 600 tokens, each read in two slices of logits.
  std::ifstream in(std::filesystem::path(GEMMA_TEST_SOURCE_DIR) / "datasets" / "samples" / "text_perplexity" /
                   "03_long.txt");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto& tokenizer = *tiny_text_files().tokenizer;
  const std::vector<int> tokens = tokenizer.encode(text);
  const int max_length = 600;
  REQUIRE(tokens.size() > 2 * max_length);
  const auto result = engine(true, 4, max_length).loglikelihood_rolling({{text}}, nullptr).front();
  CHECK(result.logprob == Approx(direct_rolling_logprob(tokens, tokenizer.special().bos, max_length)).margin(1e-4));
  CHECK(result.continuation_tokens == static_cast<int>(tokens.size()));
}
