// The torch-free pieces of perplexity tasks (evals/perplexity.h): lm-eval's rolling windows, worked out
// by hand from lm_eval/utils.py::get_rolling_token_windows and make_disjoint_window; count_words and
// count_bytes as lm-eval's task.py computes them; the perplexity, weighted_perplexity and bits_per_byte
// aggregations of lm_eval/api/metrics.py.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "common/error.h"
#include "evals/aggregation.h"
#include "evals/evaluator.h"
#include "evals/perplexity.h"
#include "evals/task_registry.h"
#include "tests/support/temp_dir.h"

using namespace gemma::evals;

namespace {

using Ids = std::vector<int>;

Ids one_to(int n) {
  Ids ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), 1);
  return ids;
}

std::vector<std::pair<Ids, Ids>> pairs(const std::vector<TokenWindow>& windows) {
  std::vector<std::pair<Ids, Ids>> out;
  for (const TokenWindow& w : windows) out.emplace_back(w.context, w.continuation);
  return out;
}

using Expected = std::vector<std::pair<Ids, Ids>>;

}  // namespace

TEST_CASE("rolling windows: lm-eval's get_rolling_token_windows + make_disjoint_window, by hand", "[perplexity]") {
  const int prefix = 0;
  SECTION("shorter than the window: one window after the prefix token") {
    CHECK(pairs(rolling_token_windows({1, 2, 3}, prefix, 5)) == Expected{{{0}, {1, 2, 3}}});
  }
  SECTION("exactly one window") {
    CHECK(pairs(rolling_token_windows(one_to(4), prefix, 4)) == Expected{{{0}, {1, 2, 3, 4}}});
  }
  SECTION("an exact multiple: each later window's context is the token before it") {
    CHECK(pairs(rolling_token_windows(one_to(8), prefix, 4)) == Expected{{{0}, {1, 2, 3, 4}}, {{4}, {5, 6, 7, 8}}});
  }
  SECTION("a short last window keeps as much earlier text as fills max_seq_len inputs") {
    // Last window: input tokens[10-4-1 : 9] = [6,7,8,9], predicted [9,10] -> context [6,7,8].
    CHECK(pairs(rolling_token_windows(one_to(10), prefix, 4)) ==
          Expected{{{0}, {1, 2, 3, 4}}, {{4}, {5, 6, 7, 8}}, {{6, 7, 8}, {9, 10}}});
  }
  SECTION("max_seq_len 1: one token predicted per window, after the token before it") {
    CHECK(pairs(rolling_token_windows({1, 2, 3}, prefix, 1)) == Expected{{{0}, {1}}, {{1}, {2}}, {{2}, {3}}});
  }
  SECTION("context_len 2: later windows predict max_seq_len - 1 tokens") {
    // pred_len 3; second window: input tokens[7-5 : 6] = [3,4,5,6], predicted [5,6,7] -> context [3,4].
    CHECK(pairs(rolling_token_windows(one_to(7), prefix, 4, 2)) == Expected{{{0}, {1, 2, 3, 4}}, {{3, 4}, {5, 6, 7}}});
  }
  SECTION("no tokens, no windows") { CHECK(rolling_token_windows({}, prefix, 4).empty()); }
  SECTION("context_len outside 1..max_seq_len is refused") {
    CHECK_THROWS_WITH(rolling_token_windows({1}, prefix, 4, 0), Catch::Contains("context_len"));
    CHECK_THROWS_WITH(rolling_token_windows({1}, prefix, 4, 5), Catch::Contains("context_len"));
  }
}

TEST_CASE("rolling windows: every token is predicted once, after the tokens before it, within max_seq_len",
          "[perplexity]") {
  for (int max_len : {1, 2, 3, 7, 16}) {
    for (int n : {1, 2, 5, 15, 16, 17, 50}) {
      const Ids tokens = one_to(n);
      Ids predicted;
      for (const TokenWindow& w : rolling_token_windows(tokens, 0, max_len)) {
        INFO("n " << n << ", max_seq_len " << max_len);
        REQUIRE(!w.context.empty());
        CHECK(w.context.size() + w.continuation.size() - 1 <= static_cast<size_t>(max_len));  // the model's input
        // The context is the text right before the continuation (the prefix token before the first one).
        const int first = w.continuation.front();
        CHECK(w.context.back() == first - 1);
        for (size_t i = 0; i < w.context.size(); ++i)
          CHECK(w.context[i] == first - static_cast<int>(w.context.size() - i));
        predicted.insert(predicted.end(), w.continuation.begin(), w.continuation.end());
      }
      CHECK(predicted == tokens);
    }
  }
}

TEST_CASE("count_words is len(re.split(r'\\s+', text)); count_bytes is the UTF-8 length", "[perplexity]") {
  CHECK(count_words("") == 1);
  CHECK(count_words("word") == 1);
  CHECK(count_words("two words") == 2);
  CHECK(count_words(" a b ") == 4);  // empty pieces at both ends count
  CHECK(count_words("a \n\t b\r\nc") == 3);
  CHECK(count_words("a\u00a0b\u3000c") == 3);  // Python's \s includes NBSP and the ideographic space
  CHECK(count_words("a\u200bb") == 1);         // a zero-width space is not whitespace
  CHECK(count_bytes("h\u00e9") == 3);
}

TEST_CASE("perplexity aggregations are lm-eval's", "[perplexity]") {
  CHECK(perplexity({-1.0, -3.0}) == Approx(std::exp(2.0)).epsilon(1e-15));
  CHECK(weighted_perplexity({{-4.0, 2.0}, {-2.0, 2.0}}) == Approx(std::exp(1.5)).epsilon(1e-15));
  CHECK(bits_per_byte({{-3.0 * std::log(2.0), 2.0}, {-std::log(2.0), 2.0}}) == Approx(1.0).epsilon(1e-15));
  CHECK_THROWS_WITH(weighted_perplexity({}), Catch::Contains("at least one"));
}

TEST_CASE("loglikelihood metrics: names, directions and aggregations; others are refused", "[perplexity]") {
  CHECK(loglikelihood_metric("perplexity").aggregation == MetricAggregation::Perplexity);
  CHECK(loglikelihood_metric("perplexity").bootstrap_iters == 100000);
  CHECK_FALSE(loglikelihood_metric("perplexity").higher_is_better);
  CHECK(loglikelihood_metric("acc").aggregation == MetricAggregation::Mean);
  CHECK(loglikelihood_metric("acc").higher_is_better);
  CHECK(loglikelihood_metric("word_perplexity").aggregation == MetricAggregation::WeightedPerplexity);
  CHECK(loglikelihood_metric("byte_perplexity").aggregation == MetricAggregation::WeightedPerplexity);
  CHECK(loglikelihood_metric("bits_per_byte").aggregation == MetricAggregation::BitsPerByte);
  CHECK_FALSE(loglikelihood_metric("bits_per_byte").higher_is_better);
  CHECK_THROWS_WITH(loglikelihood_metric("acc_norm"), Catch::Contains("word_perplexity"));
}

namespace {

DocRecord rolling_record(int64_t id, const std::string& text, double loglikelihood) {
  DocRecord record;
  record.doc_id = id;
  record.prompt = text;
  record.loglikelihoods = {loglikelihood};
  record.is_greedy = {false};
  return record;
}

TaskSpec rolling_spec() {
  TaskSpec task;
  task.name = "toy_rolling";
  task.output_type = OutputType::LoglikelihoodRolling;
  task.load_eval = [](const std::filesystem::path&) { return DocSplit{}; };
  task.doc_to_target = [](const Doc&) { return std::string(); };
  task.metrics = {loglikelihood_metric("word_perplexity"), loglikelihood_metric("byte_perplexity"),
                  loglikelihood_metric("bits_per_byte")};
  return task;
}

}  // namespace

TEST_CASE("rolling records aggregate over words and bytes of their texts, without stderr", "[perplexity]") {
  const TaskSpec task = rolling_spec();
  // 3 words / 11 bytes and 2 words / 7 bytes.
  std::vector<DocRecord> docs = {rolling_record(0, "one two thr", -12.0), rolling_record(1, "four, 5", -6.0)};
  std::map<std::string, size_t> invalid;
  rescore_records(task, docs, invalid);
  CHECK(docs[0].metrics.at("word_perplexity,none") == -12.0);  // per doc: the log-likelihood, as lm-eval's
  CHECK(docs[1].metrics.at("bits_per_byte,none") == -6.0);     // (ll, count) pairs carry it
  const std::vector<MetricValue> values = aggregate_task_metrics(task, docs);
  REQUIRE(values.size() == 3);
  CHECK(values[0].metric == "word_perplexity");
  CHECK(values[0].value == Approx(std::exp(18.0 / 5.0)).epsilon(1e-14));
  CHECK(values[1].value == Approx(std::exp(18.0 / 18.0)).epsilon(1e-14));
  CHECK(values[2].value == Approx(18.0 / 18.0 / std::log(2.0)).epsilon(1e-14));
  for (const MetricValue& value : values) {
    CHECK_FALSE(value.stderr_value.has_value());  // lm-eval: "N/A"
    CHECK_FALSE(value.higher_is_better);
    CHECK(value.filter == "none");
  }
}

TEST_CASE("perplexity of loglikelihood docs: exp(-mean ll) with lm-eval's bootstrap stderr; acc is is_greedy",
          "[perplexity]") {
  TaskSpec task = rolling_spec();
  task.output_type = OutputType::Loglikelihood;
  task.doc_to_text = [](const Doc&) { return std::string(); };
  task.metrics = {loglikelihood_metric("perplexity"), loglikelihood_metric("acc")};
  const std::vector<double> lls = {-2.5, -7.25, -1.0, -4.5, -3.125};
  std::vector<DocRecord> docs;
  for (size_t i = 0; i < lls.size(); ++i) {
    docs.push_back(rolling_record(static_cast<int64_t>(i), "ctx", lls[i]));
    docs.back().continuations = {" word"};
    docs.back().is_greedy = {i % 2 == 0};
  }
  std::map<std::string, size_t> invalid;
  rescore_records(task, docs, invalid);
  const std::vector<MetricValue> values = aggregate_task_metrics(task, docs);
  REQUIRE(values.size() == 2);
  // Python: math.exp(-mean(xs)) and lm-eval's bootstrap_stderr(perplexity, xs, iters=100000) (chunks of
  // 1000 resamples, chunk i drawing with random.Random(i).choices(xs, k=len(xs)); sample_stddev).
  CHECK(values[0].value == Approx(39.44865685720052).epsilon(1e-14));
  REQUIRE(values[0].stderr_value.has_value());
  CHECK(*values[0].stderr_value == Approx(80.34679303475475).epsilon(1e-12));
  CHECK_FALSE(values[0].higher_is_better);
  CHECK(values[1].metric == "acc");
  CHECK(values[1].value == Approx(0.6));
  CHECK(values[1].stderr_value.has_value());
}

TEST_CASE("log-likelihood task specs with foreign metrics are refused naming the metrics there are", "[perplexity]") {
  TaskSpec task = rolling_spec();
  task.metrics.push_back(loglikelihood_metric("perplexity"));
  CHECK_THROWS_WITH(check_task_spec(task), Catch::Contains("perplexity\" is not a metric of output_type "
                                                           "loglikelihood_rolling"));
  task = rolling_spec();
  task.metrics[0].aggregation = MetricAggregation::Mean;
  CHECK_THROWS_WITH(check_task_spec(task), Catch::Contains("weighted_perplexity"));
  task = rolling_spec();
  task.doc_to_target = nullptr;
  CHECK_THROWS_WITH(check_task_spec(task), Catch::Contains("doc_to_target"));
  task = rolling_spec();
  task.output_type = OutputType::MultipleChoice;
  task.doc_to_choice = [](const Doc&) { return std::vector<std::string>{}; };
  task.doc_to_gold = [](const Doc&) { return 0; };
  task.doc_to_text = [](const Doc&) { return std::string(); };
  task.metrics = {loglikelihood_metric("bits_per_byte")};
  CHECK_THROWS_WITH(check_task_spec(task), Catch::Contains("only metrics of output_type loglikelihood"));
}

TEST_CASE("text_perplexity reads one document per .txt file, in file-name order", "[perplexity][tasks]") {
  const TaskSpec& task = *resolve_tasks("text_perplexity").front();
  CHECK(task.output_type == OutputType::LoglikelihoodRolling);
  gemma::test::TempDir dir("text-perplexity");
  const std::filesystem::path folder = dir.path / "text_perplexity";
  CHECK_THROWS_WITH(task.load_eval(dir.path), Catch::Contains(folder.string()) && Catch::Contains("one UTF-8 .txt"));
  std::filesystem::create_directories(folder);
  CHECK_THROWS_WITH(task.load_eval(dir.path), Catch::Contains("holds no .txt files"));
  auto write = [&](const char* name, const std::string& text) { std::ofstream(folder / name) << text; };
  write("b.txt", "second text\n");
  write("a.txt", "first\ttext");
  write("notes.md", "not a document");
  const DocSplit split = task.load_eval(dir.path);
  REQUIRE(split.docs.size() == 2);
  CHECK(task.doc_to_target(split.docs[0]) == "first\ttext");
  CHECK(task.doc_to_target(split.docs[1]) == "second text\n");
  REQUIRE(split.files.size() == 2);
  CHECK(split.files[1].path == (folder / "b.txt").string());
  CHECK(split.files[1].rows == 1);
  write("c.txt", "\xff\xfe");
  CHECK_THROWS_WITH(task.load_eval(dir.path), Catch::Contains("c.txt is not valid UTF-8"));
}
