// The generic evaluator against a fake Engine: deterministic loglikelihoods from a hash of the
// request strings, canned generations. Checks the requests it sends, the scores it derives from the
// answers, --limit, the lm-eval shot stream, stderrs, group aggregation and its failure modes.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/sha256.h"
#include "evals/evaluator.h"
#include "evals/perplexity.h"
#include "scorers/multiple_choice.h"

using namespace gemma::evals;

namespace {

// ---- a fake engine ----

double fake_logprob(const std::string& context, const std::string& continuation) {
  const std::string digest = gemma::sha256_hex(context + '\x1f' + continuation);
  return -static_cast<double>(std::stoul(digest.substr(0, 6), nullptr, 16) % 10000) / 1000.0 - 0.01;
}

class FakeEngine : public Engine {
 public:
  std::map<std::string, std::string> generations;  // question text found in the context -> response
  std::vector<LoglikelihoodRequest> loglikelihood_requests;
  std::vector<GenerationRequest> generation_requests;
  std::vector<RollingLoglikelihoodRequest> rolling_requests;
  int loglikelihood_calls = 0, generation_calls = 0, rolling_calls = 0;
  bool drop_one_result = false;
  std::string non_finite_for;  // contexts containing it get a NaN log-likelihood
  long request_error_at = -1;  // >= 0: the engine fails on this request of its call (RequestError)

  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                 EngineProgress*) override {
    ++loglikelihood_calls;
    loglikelihood_requests.insert(loglikelihood_requests.end(), requests.begin(), requests.end());
    std::vector<LoglikelihoodResult> results;
    for (const LoglikelihoodRequest& request : requests) {
      if (request_error_at == static_cast<long>(results.size()))
        throw RequestError(results.size(), "out of memory running a batch");
      LoglikelihoodResult result;
      result.logprob = fake_logprob(request.context, request.continuation);
      if (!non_finite_for.empty() && request.context.find(non_finite_for) != std::string::npos)
        result.logprob = std::nan("");
      result.is_greedy = result.logprob > -3.0;
      result.truncated = request.context.find("TRUNCATE") != std::string::npos;
      results.push_back(result);
    }
    if (drop_one_result) results.pop_back();
    return results;
  }

  std::vector<GenerationResult> generate_until(const std::vector<GenerationRequest>& requests,
                                               EngineProgress*) override {
    ++generation_calls;
    generation_requests.insert(generation_requests.end(), requests.begin(), requests.end());
    std::vector<GenerationResult> results;
    for (const GenerationRequest& request : requests) {
      if (request_error_at == static_cast<long>(results.size()))
        throw RequestError(results.size(), "the logits after 3 generated tokens are not finite");
      GenerationResult result;
      for (const auto& [question, response] : generations)
        if (request.context.size() >= question.size() &&
            request.context.compare(request.context.size() - question.size(), question.size(), question) == 0)
          result.text = response;
      result.hit_max_tokens = result.text.find("MAX") != std::string::npos;
      results.push_back(result);
    }
    return results;
  }

  // The text's log-likelihood: -0.5 per byte (so each test knows the sum), NaN for texts holding
  // non_finite_for.
  std::vector<LoglikelihoodResult> loglikelihood_rolling(const std::vector<RollingLoglikelihoodRequest>& requests,
                                                         EngineProgress*) override {
    ++rolling_calls;
    rolling_requests.insert(rolling_requests.end(), requests.begin(), requests.end());
    std::vector<LoglikelihoodResult> results;
    for (const RollingLoglikelihoodRequest& request : requests) {
      if (request_error_at == static_cast<long>(results.size()))
        throw RequestError(results.size(), "out of memory running a batch");
      LoglikelihoodResult result;
      result.logprob = -0.5 * static_cast<double>(request.text.size());
      if (!non_finite_for.empty() && request.text.find(non_finite_for) != std::string::npos)
        result.logprob = std::nan("");
      result.continuation_tokens = static_cast<int>(request.text.size());
      results.push_back(result);
    }
    return results;
  }

  std::string describe_json() const override { return "{}"; }
};

// ---- small tasks ----

MetricSpec named(const std::string& name) {
  MetricSpec metric;
  metric.name = name;
  return metric;
}

Doc mc_doc(const std::string& question, std::vector<std::string> choices, int label) {
  Doc doc;
  doc["q"] = question;
  doc["choices"] = std::move(choices);
  doc["label"] = label;
  return doc;
}

DocSplit split(const std::string& name, std::vector<Doc> docs, const std::string& file) {
  DocSplit result;
  result.name = name;
  result.files.push_back({file, "0123", docs.size()});
  result.docs = std::move(docs);
  return result;
}

std::vector<Doc> mc_docs(const std::string& prefix, size_t count) {
  std::vector<Doc> docs;
  docs.reserve(count);
  for (size_t i = 0; i < count; ++i)
    docs.push_back(
        mc_doc(prefix + " " + std::to_string(i), {"red", "green apple", "blue sky", "x"}, static_cast<int>(i % 4)));
  return docs;
}

// A HellaSwag-like task: eval on "validation", shots from a 39 905-doc "train" split, the eval doc
// handed to the sampler (lm-eval draws n+1 because neither split is configured).
TaskSpec mc_task(size_t eval_docs, size_t pool_docs = 39905) {
  TaskSpec task;
  task.name = "toy_mc";
  task.groups = {"toy_group"};
  task.output_type = OutputType::MultipleChoice;
  task.sampler_gets_eval_doc = true;
  task.load_eval = [eval_docs](const std::filesystem::path&) {
    return split("validation", mc_docs("val", eval_docs), "val.jsonl");
  };
  task.load_fewshot = [pool_docs](const std::filesystem::path&) {
    return split("train", mc_docs("train", pool_docs), "train.jsonl");
  };
  task.doc_to_text = [](const Doc& doc) { return "Question: " + doc["q"].get<std::string>() + "\nAnswer:"; };
  task.doc_to_choice = [](const Doc& doc) { return doc["choices"].get<std::vector<std::string>>(); };
  task.doc_to_gold = [](const Doc& doc) { return doc["label"].get<int>(); };
  task.metrics = {named("acc"), named("acc_norm")};
  return task;
}

Doc gsm_doc(const std::string& question, const std::string& answer) {
  Doc doc;
  doc["question"] = question;
  doc["answer"] = answer;
  return doc;
}

// A GSM8K-like generation task with lm-eval's two filter pipelines.
TaskSpec gsm_task() {
  TaskSpec task;
  task.name = "toy_gsm8k";
  task.output_type = OutputType::GenerateUntil;
  task.load_eval = [](const std::filesystem::path&) {
    return split("test",
                 {gsm_doc("What is 3+4?", "3+4=7\n#### 7"), gsm_doc("What is 6+6?", "#### 12"),
                  gsm_doc("What is 1+1?", "#### 2"), gsm_doc("What is 2+2?", "#### 4")},
                 "test.jsonl");
  };
  task.load_fewshot = [](const std::filesystem::path&) {
    std::vector<Doc> docs;
    for (int i = 0; i < 7473; ++i) docs.push_back(gsm_doc("train " + std::to_string(i), "#### " + std::to_string(i)));
    return split("train", std::move(docs), "train.jsonl");
  };
  task.doc_to_text = [](const Doc& doc) { return "Question: " + doc["question"].get<std::string>() + "\nAnswer:"; };
  task.doc_to_target = [](const Doc& doc) { return doc["answer"].get<std::string>(); };
  task.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc["answer"].get<std::string>()}; };
  task.until = {"Question:", "</s>", "<|im_end|>"};
  task.max_gen_toks = 64;
  FilterStep strict{FilterStep::Kind::Regex, R"(#### (\-?[0-9\.\,]+))", 0, "[invalid]"};
  FilterStep flexible{FilterStep::Kind::Regex, R"((-?[$0-9.,]{2,})|(-?[0-9]+))", -1, "[invalid]"};
  FilterStep take_first{FilterStep::Kind::TakeFirst, "", 0, "[invalid]"};
  task.filters = {{"strict-match", {strict, take_first}}, {"flexible-extract", {flexible, take_first}}};
  MetricSpec exact_match = named("exact_match");
  exact_match.exact_match.ignore_case = true;
  exact_match.exact_match.regexes_to_ignore = {",", R"(\$)", "(?s).*#### ", R"(\.$)"};
  task.metrics = {exact_match};
  return task;
}

void set_canned_generations(FakeEngine& engine) {
  engine.generations = {{"What is 3+4?\nAnswer:", " 3+4 = 7\n#### 7"},
                        {"What is 6+6?\nAnswer:", " The answer is 12."},
                        {"What is 1+1?\nAnswer:", " I do not know"},
                        {"What is 2+2?\nAnswer:", " 2+2 is MAX"}};
}

const MetricValue& metric(const TaskResult& result, const std::string& name, const std::string& filter = "none") {
  for (const MetricValue& value : result.metrics)
    if (value.metric == name && value.filter == filter) return value;
  FAIL("no metric " << name << "," << filter);
  throw std::logic_error("unreachable");
}

std::vector<int64_t> first_n(const std::vector<int64_t>& ids, size_t n) { return {ids.begin(), ids.begin() + n}; }

const std::vector<int64_t> kHellaswagDoc0Draw{28883, 7657, 490, 5940, 38156, 2288, 5500, 6450, 23241, 15519, 1142};
const std::vector<int64_t> kHellaswagDoc1Draw{2019, 1038, 22681, 31735, 30379, 9735, 5982, 11999, 7498, 958, 32970};

EvalOptions with_shots(int shots) {
  EvalOptions options;
  options.shots = shots;
  return options;
}

}  // namespace

TEST_CASE("evaluator: multiple choice sends one request per choice, in one engine call") {
  FakeEngine engine;
  const TaskResult result = evaluate_task(mc_task(5), "unused", engine, with_shots(0));
  CHECK(engine.loglikelihood_calls == 1);
  REQUIRE(engine.loglikelihood_requests.size() == 5 * 4);
  CHECK(engine.loglikelihood_requests[0].context == "Question: val 0\nAnswer:");
  CHECK(engine.loglikelihood_requests[0].continuation == " red");
  CHECK(engine.loglikelihood_requests[5].context == "Question: val 1\nAnswer:");
  CHECK(engine.loglikelihood_requests[5].continuation == " green apple");

  CHECK(result.task == "toy_mc");
  CHECK(result.shots == 0);
  CHECK(result.docs_total == 5);
  CHECK(result.doc_ids == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(result.data_files.size() == 1);  // no shot split is read for 0 shots
  REQUIRE(result.docs.size() == 5);
  const DocRecord& doc1 = result.docs[1];
  CHECK(doc1.prompt == "Question: val 1\nAnswer:");
  CHECK(doc1.target == 1);
  CHECK(doc1.continuations == std::vector<std::string>{" red", " green apple", " blue sky", " x"});
  CHECK(doc1.loglikelihoods[2] == fake_logprob("Question: val 1\nAnswer:", " blue sky"));
}

TEST_CASE("evaluator: the it profile sends prompts rendered by EvalOptions::chat_renderer") {
  FakeEngine engine;
  EvalOptions options = with_shots(0);
  options.profile = Profile::It;
  options.chat_renderer = [](const std::vector<gemma::ChatMessage>& messages, bool add_generation_prompt) {
    std::string text = "<bos>";
    for (const gemma::ChatMessage& message : messages) text += "<" + message.role + ">" + message.content;
    return text + (add_generation_prompt ? "<gen>" : "");
  };
  evaluate_task(mc_task(2), "unused", engine, options);
  REQUIRE(engine.loglikelihood_requests.size() == 2 * 4);
  CHECK(engine.loglikelihood_requests[0].context == "<user>Question: val 0\nAnswer:<gen>");
  CHECK(engine.loglikelihood_requests[0].continuation == "red");  // no target delimiter under a chat template
  // Without one, the built-in Gemma 3 template.
  FakeEngine builtin_engine;
  options.chat_renderer = nullptr;
  evaluate_task(mc_task(1), "unused", builtin_engine, options);
  CHECK(builtin_engine.loglikelihood_requests[0].context ==
        "<start_of_turn>user\nQuestion: val 0\nAnswer:<end_of_turn>\n<start_of_turn>model\n");
}

TEST_CASE("evaluator: acc and acc_norm follow from the logged loglikelihoods; stderr is closed form") {
  FakeEngine engine;
  const TaskResult result = evaluate_task(mc_task(12), "unused", engine, with_shots(0));
  std::vector<double> acc, acc_norm;
  for (const DocRecord& doc : result.docs) {
    const auto& lls = doc.loglikelihoods;
    const size_t best = std::max_element(lls.begin(), lls.end()) - lls.begin();
    const std::vector<double> lengths{3, 11, 8, 1};  // "red", "green apple", "blue sky", "x"
    size_t best_norm = 0;
    for (size_t i = 1; i < lls.size(); ++i)
      if (lls[i] / lengths[i] > lls[best_norm] / lengths[best_norm]) best_norm = i;
    acc.push_back(best == doc.target.get<size_t>() ? 1.0 : 0.0);
    acc_norm.push_back(best_norm == doc.target.get<size_t>() ? 1.0 : 0.0);
    CHECK(doc.metrics.at("acc,none") == acc.back());
    CHECK(doc.metrics.at("acc_norm,none") == acc_norm.back());
  }
  auto mean_and_stderr = [](const std::vector<double>& values) {
    double sum = 0, squares = 0;
    for (double v : values) sum += v;
    const double mean = sum / values.size();
    for (double v : values) squares += (v - mean) * (v - mean);
    return std::make_pair(mean, std::sqrt(squares / (values.size() - 1)) / std::sqrt(double(values.size())));
  };
  const auto [acc_mean, acc_stderr] = mean_and_stderr(acc);
  CHECK(metric(result, "acc").value == Approx(acc_mean).epsilon(1e-15));
  CHECK(*metric(result, "acc").stderr_value == Approx(acc_stderr).epsilon(1e-12));
  const auto [norm_mean, norm_stderr] = mean_and_stderr(acc_norm);
  CHECK(metric(result, "acc_norm").value == Approx(norm_mean).epsilon(1e-15));
  CHECK(*metric(result, "acc_norm").stderr_value == Approx(norm_stderr).epsilon(1e-12));
  CHECK(metric(result, "acc").filter == "none");
  CHECK(metric(result, "acc").invalid == 0);

  EvalOptions single = with_shots(0);
  single.limit = 1;
  CHECK_FALSE(metric(evaluate_task(mc_task(12), "unused", engine, single), "acc").stderr_value.has_value());
}

TEST_CASE("evaluator: shots are lm-eval's Random(1234) stream, consumed doc after doc") {
  FakeEngine engine;
  const TaskResult result = evaluate_task(mc_task(3), "unused", engine, with_shots(10));
  REQUIRE(result.docs.size() == 3);
  CHECK(result.docs[0].shot_ids == first_n(kHellaswagDoc0Draw, 10));
  CHECK(result.docs[1].shot_ids == first_n(kHellaswagDoc1Draw, 10));
  CHECK(result.data_files.size() == 2);
  // train 28883 has label 3 -> "x", train 7657 label 1 -> "green apple"; shots are joined by the few-shot delimiter.
  const std::string& prompt = result.docs[0].prompt;
  CHECK(prompt.rfind("Question: train 28883\nAnswer: x\n\nQuestion: train 7657\nAnswer: green apple\n\n", 0) == 0);
  const std::string ending = "\n\nQuestion: val 0\nAnswer:";
  REQUIRE(prompt.size() > ending.size());
  CHECK(prompt.substr(prompt.size() - ending.size()) == ending);
  CHECK(engine.loglikelihood_requests.front().context == prompt);
}

TEST_CASE("evaluator: --limit keeps the first docs or a seeded random subset in doc order") {
  FakeEngine engine;
  EvalOptions first = with_shots(0);
  first.limit = 3;
  const TaskResult limited = evaluate_task(mc_task(20), "unused", engine, first);
  CHECK(limited.doc_ids == std::vector<int64_t>{0, 1, 2});
  CHECK(limited.docs_total == 20);
  CHECK(limited.docs.size() == 3);

  EvalOptions random = with_shots(0);
  random.limit = 4;
  random.limit_mode = LimitMode::Random;
  random.limit_seed = 0;
  // sorted(random.Random(0).sample(range(20), 4)) in CPython
  const TaskResult sampled = evaluate_task(mc_task(20), "unused", engine, random);
  CHECK(sampled.doc_ids == std::vector<int64_t>{1, 8, 12, 13});
  CHECK(sampled.docs[0].doc_id == 1);
  CHECK(sampled.docs[0].prompt == "Question: val 1\nAnswer:");

  // The shot RNG walks the selected docs in ascending order: the first selected doc gets the first draw.
  random.shots = 10;
  random.limit = 2;
  const TaskResult with_shot_stream = evaluate_task(mc_task(20), "unused", engine, random);
  CHECK(with_shot_stream.docs[0].shot_ids == first_n(kHellaswagDoc0Draw, 10));
  CHECK(with_shot_stream.docs[1].shot_ids == first_n(kHellaswagDoc1Draw, 10));

  EvalOptions over = with_shots(0);
  over.limit = 100;
  CHECK(evaluate_task(mc_task(5), "unused", engine, over).doc_ids.size() == 5);
  EvalOptions zero = with_shots(0);
  zero.limit = 0;
  CHECK_THROWS_AS(evaluate_task(mc_task(5), "unused", engine, zero), gemma::Error);
}

TEST_CASE("evaluator: the eval doc is excluded by doc id on the same split, by content otherwise") {
  FakeEngine engine;
  // Every doc identical: content equality would drop every draw, doc-id equality only the doc itself.
  auto identical_docs = [] { return std::vector<Doc>(100, mc_doc("same", {"a", "b"}, 0)); };
  TaskSpec same_split = mc_task(1);
  same_split.load_eval = [&](const std::filesystem::path&) { return split("train", identical_docs(), "train.jsonl"); };
  same_split.load_fewshot = same_split.load_eval;
  EvalOptions options = with_shots(3);
  options.limit = 1;
  CHECK(evaluate_task(same_split, "unused", engine, options).docs[0].shot_ids.size() == 3);

  TaskSpec other_split = same_split;
  other_split.load_eval = [](const std::filesystem::path&) {
    return split("validation", {mc_doc("same", {"a", "b"}, 0)}, "val.jsonl");
  };
  CHECK(evaluate_task(other_split, "unused", engine, options).docs[0].shot_ids.empty());
}

TEST_CASE("evaluator: generation with GSM8K filters, [invalid] counts and per-filter metrics") {
  FakeEngine engine;
  set_canned_generations(engine);
  const TaskResult result = evaluate_task(gsm_task(), "unused", engine, with_shots(8));
  CHECK(engine.generation_calls == 1);
  REQUIRE(engine.generation_requests.size() == 4);
  const GenerationRequest& first = engine.generation_requests[0];
  CHECK(first.until == std::vector<std::string>{"Question:", "</s>", "<|im_end|>"});
  CHECK(first.max_gen_toks == 64);
  CHECK(first.context.rfind("Question: train 6374\nAnswer: #### 6374\n\nQuestion: train 3610\n", 0) == 0);
  CHECK(result.docs[0].shot_ids == std::vector<int64_t>{6374, 3610, 957, 61, 742, 7462, 6610, 4769});

  REQUIRE(result.docs.size() == 4);
  CHECK(result.docs[0].extracted.at("strict-match") == "7");
  CHECK(result.docs[1].extracted.at("strict-match") == "[invalid]");
  CHECK(result.docs[1].extracted.at("flexible-extract") == "12.");
  CHECK(result.docs[1].metrics.at("exact_match,flexible-extract") == 1.0);
  CHECK(result.docs[2].extracted.at("flexible-extract") == "[invalid]");
  CHECK(result.docs[0].target == "3+4=7\n#### 7");
  CHECK(result.docs[0].generated == " 3+4 = 7\n#### 7");
  CHECK(result.docs[0].until.size() == 3);

  const MetricValue& strict = metric(result, "exact_match", "strict-match");
  CHECK(strict.value == 0.25);
  CHECK(strict.invalid == 3);
  const MetricValue& flexible = metric(result, "exact_match", "flexible-extract");
  CHECK(flexible.value == 0.5);  // "7" and "12." count; "2+2 is MAX" extracts "2" against "4"
  CHECK(flexible.invalid == 1);
  CHECK(result.metrics.front().filter == "strict-match");  // pipelines in the task's order
  CHECK(result.max_token_hits == 1);
  CHECK(result.truncated_requests == 0);
}

TEST_CASE("evaluator: prompt fingerprints hash the exact context strings") {
  FakeEngine engine;
  const TaskResult result = evaluate_task(mc_task(3), "unused", engine, with_shots(0));
  CHECK(result.first_prompt_sha256 == gemma::sha256_hex("Question: val 0\nAnswer:"));
  std::string all;
  for (int i = 0; i < 3; ++i) all += "Question: val " + std::to_string(i) + "\nAnswer:" + std::string(1, '\0');
  CHECK(result.all_prompts_sha256 == gemma::sha256_hex(all));
}

TEST_CASE("evaluator: multiple-input tasks score one context per choice with a shared continuation") {
  TaskSpec task;
  task.name = "toy_winogrande";
  task.output_type = OutputType::MultipleChoice;
  task.multiple_inputs = true;
  task.load_eval = [](const std::filesystem::path&) {
    Doc doc;
    doc["sentence"] = "Sarah was a much better surgeon than Maria so _ always got the harder cases.";
    return split("validation", {doc}, "dev.jsonl");
  };
  task.doc_to_choice = [](const Doc&) {
    return std::vector<std::string>{"Sarah was a much better surgeon than Maria so Sarah",
                                    "Sarah was a much better surgeon than Maria so Maria"};
  };
  task.doc_to_gold = [](const Doc&) { return 0; };
  task.doc_to_target = [](const Doc&) { return std::string("always got the harder cases."); };
  task.metrics = {named("acc")};
  FakeEngine engine;
  const TaskResult result = evaluate_task(task, "unused", engine, with_shots(0));
  REQUIRE(engine.loglikelihood_requests.size() == 2);
  CHECK(engine.loglikelihood_requests[1].context == "Sarah was a much better surgeon than Maria so Maria");
  CHECK(engine.loglikelihood_requests[1].continuation == " always got the harder cases.");
  const DocRecord& doc = result.docs[0];
  CHECK(doc.prompt == engine.loglikelihood_requests[0].context);
  const double expected = doc.loglikelihoods[0] >= doc.loglikelihoods[1] ? 1.0 : 0.0;
  CHECK(doc.metrics.at("acc,none") == expected);
}

TEST_CASE("evaluator: the it profile uses the chat template and drops the choice delimiter") {
  FakeEngine engine;
  EvalOptions options = with_shots(0);
  options.profile = Profile::It;
  options.limit = 1;
  evaluate_task(mc_task(2), "unused", engine, options);
  REQUIRE(engine.loglikelihood_requests.size() == 4);
  CHECK(engine.loglikelihood_requests[0].context ==
        "<start_of_turn>user\nQuestion: val 0\nAnswer:<end_of_turn>\n<start_of_turn>model\n");
  CHECK(engine.loglikelihood_requests[0].continuation == "red");
}

TEST_CASE("evaluator: truncation is counted and doc records can be dropped") {
  FakeEngine engine;
  TaskSpec task = mc_task(3);
  task.doc_to_text = [](const Doc& doc) {
    const std::string q = doc["q"].get<std::string>();
    return q == "val 1" ? "TRUNCATE " + q : q;
  };
  EvalOptions options = with_shots(0);
  options.keep_doc_records = false;
  const TaskResult result = evaluate_task(task, "unused", engine, options);
  CHECK(result.docs.empty());
  CHECK(result.doc_ids.size() == 3);
  CHECK(result.truncated_requests == 4);
  CHECK(metric(result, "acc").stderr_value.has_value());
}

TEST_CASE("evaluator: failures are errors that name the task") {
  FakeEngine engine;
  TaskSpec no_shots = mc_task(3);
  no_shots.load_fewshot = nullptr;
  CHECK_THROWS_WITH(evaluate_task(no_shots, "unused", engine, with_shots(2)),
                    Catch::Contains("toy_mc") && Catch::Contains("few-shot split"));
  CHECK_NOTHROW(evaluate_task(no_shots, "unused", engine, with_shots(0)));

  TaskSpec bad_metric = mc_task(3);
  bad_metric.metrics = {named("bleu")};
  CHECK_THROWS_WITH(evaluate_task(bad_metric, "unused", engine, with_shots(0)), Catch::Contains("bleu"));

  TaskSpec bad_filter = gsm_task();
  bad_filter.filters[0].steps[0].pattern = "(?<=the answer is )(.*)";
  FakeEngine untouched;
  CHECK_THROWS_WITH(evaluate_task(bad_filter, "unused", untouched, with_shots(0)), Catch::Contains("strict-match"));
  CHECK(untouched.generation_calls == 0);  // no model time spent on a task that cannot be scored

  FakeEngine lossy;
  lossy.drop_one_result = true;
  CHECK_THROWS_WITH(evaluate_task(mc_task(3), "unused", lossy, with_shots(0)), Catch::Contains("12 requests"));

  TaskSpec empty = mc_task(0);
  CHECK_THROWS_AS(evaluate_task(empty, "unused", engine, with_shots(0)), gemma::Error);
  CHECK_THROWS_AS(evaluate_task(mc_task(3), "unused", engine, with_shots(-1)), gemma::Error);
}

TEST_CASE("evaluator: a non-finite log-likelihood or a failed request stops the task naming the doc") {
  SECTION("a NaN log-likelihood is never scored") {
    FakeEngine engine;
    engine.non_finite_for = "val 2";
    CHECK_THROWS_WITH(evaluate_task(mc_task(3), "unused", engine, with_shots(0)),
                      Catch::Contains("task toy_mc: doc 2") && Catch::Contains("nan"));
  }
  SECTION("the engine's failing request is named by its doc (4 choices per doc: request 5 is doc 1)") {
    FakeEngine engine;
    engine.request_error_at = 5;
    CHECK_THROWS_WITH(evaluate_task(mc_task(3), "unused", engine, with_shots(0)),
                      Catch::Contains("task toy_mc: doc 1: out of memory"));
  }
  SECTION("a generation that failed is named by its doc") {
    FakeEngine engine;
    set_canned_generations(engine);
    engine.request_error_at = 2;
    CHECK_THROWS_WITH(evaluate_task(gsm_task(), "unused", engine, with_shots(0)),
                      Catch::Contains("task toy_gsm8k: doc 2: the logits after 3 generated tokens are not finite"));
  }
}

namespace {

TaskResult fake_task_result(const std::string& name, std::vector<std::string> groups, size_t docs, double acc,
                            std::optional<double> stderr_value) {
  TaskResult result;
  result.task = name;
  result.groups = std::move(groups);
  for (size_t i = 0; i < docs; ++i) result.doc_ids.push_back(static_cast<int64_t>(i));
  MetricValue value;
  value.metric = "acc";
  value.filter = "none";
  value.value = acc;
  value.stderr_value = stderr_value;
  result.metrics.push_back(value);
  return result;
}

}  // namespace

TEST_CASE("evaluator: groups are document-weighted over leaf tasks with pooled stderr") {
  // Per-doc scores [1,0,1] and [0,0,1,1,1]: stderrs 0.33333333333333337 and 0.24494897427831783.
  std::vector<TaskResult> tasks{
      fake_task_result("mmlu_anatomy", {"mmlu_stem", "mmlu"}, 3, 2.0 / 3.0, 0.33333333333333337),
      fake_task_result("mmlu_law", {"mmlu_humanities", "mmlu"}, 5, 0.6, 0.24494897427831783)};
  MetricValue only_in_first;
  only_in_first.metric = "acc_norm";
  only_in_first.filter = "none";
  tasks[0].metrics.push_back(only_in_first);

  const std::vector<GroupResult> groups = aggregate_groups(tasks);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].group == "mmlu_stem");
  CHECK(groups[1].group == "mmlu");
  CHECK(groups[2].group == "mmlu_humanities");
  const GroupResult& mmlu = groups[1];
  CHECK(mmlu.tasks == std::vector<std::string>{"mmlu_anatomy", "mmlu_law"});
  REQUIRE(mmlu.metrics.size() == 1);  // acc_norm is not reported by every member
  CHECK(mmlu.metrics[0].metric == "acc");
  CHECK(mmlu.metrics[0].value == Approx(0.625).epsilon(1e-15));
  CHECK(*mmlu.metrics[0].stderr_value == Approx(0.19720265943665388).epsilon(1e-15));
  CHECK(mmlu.aggregation == "document-weighted mean over 2 subtasks (lm-eval weight_by_size)");
  CHECK(groups[0].metrics.size() == 2);  // a one-task group keeps all of its metrics
  CHECK(groups[0].metrics[0].value == Approx(2.0 / 3.0));

  tasks[1].metrics[0].stderr_value.reset();  // a member with N/A stderr makes the group's N/A
  CHECK_FALSE(aggregate_groups(tasks)[1].metrics[0].stderr_value.has_value());
  CHECK(aggregate_groups({fake_task_result("alone", {}, 4, 0.5, 0.1)}).empty());
}

// ---- the log-likelihood output types ----

namespace {

Doc text_doc(const std::string& context, const std::string& target) {
  Doc doc;
  doc["context"] = context;
  doc["target"] = target;
  return doc;
}

// A lambada-like task (output_type loglikelihood: the target carries its own leading space) or a
// wikitext-like one (loglikelihood_rolling over doc_to_target).
TaskSpec text_task(OutputType type) {
  TaskSpec task;
  task.name = type == OutputType::Loglikelihood ? "toy_lambada" : "toy_wikitext";
  task.output_type = type;
  task.load_eval = [](const std::filesystem::path&) {
    return split("test",
                 {text_doc("The cat sat on the", " mat"), text_doc("Dogs", " bark loudly"),
                  text_doc("Three words here", "  spaced  out ")},
                 "test.jsonl");
  };
  task.load_fewshot = task.load_eval;
  task.doc_to_text = [](const Doc& doc) { return doc["context"].get<std::string>(); };
  task.doc_to_target = [](const Doc& doc) { return doc["target"].get<std::string>(); };
  if (type == OutputType::Loglikelihood)
    task.metrics = {loglikelihood_metric("perplexity"), loglikelihood_metric("acc")};
  else
    task.metrics = {loglikelihood_metric("word_perplexity"), loglikelihood_metric("byte_perplexity"),
                    loglikelihood_metric("bits_per_byte")};
  return task;
}

}  // namespace

TEST_CASE("evaluator: output_type loglikelihood scores doc_to_target after the prompt, one request per doc") {
  FakeEngine engine;
  const TaskResult result = evaluate_task(text_task(OutputType::Loglikelihood), "unused", engine, with_shots(0));
  REQUIRE(engine.loglikelihood_requests.size() == 3);
  CHECK(engine.loglikelihood_calls == 1);
  CHECK(engine.loglikelihood_requests[0].context == "The cat sat on the");
  CHECK(engine.loglikelihood_requests[0].continuation == " mat");  // no target_delimiter added
  REQUIRE(result.docs.size() == 3);
  std::vector<double> lls;
  double greedy = 0;
  for (size_t i = 0; i < 3; ++i) {
    const LoglikelihoodRequest& request = engine.loglikelihood_requests[i];
    const DocRecord& doc = result.docs[i];
    lls.push_back(fake_logprob(request.context, request.continuation));
    greedy += lls.back() > -3.0 ? 1 : 0;
    CHECK(doc.loglikelihoods == std::vector<double>{lls.back()});
    CHECK(doc.metrics.at("perplexity,none") == lls.back());
    CHECK(doc.continuations == std::vector<std::string>{request.continuation});
    CHECK(doc.target == request.continuation);
  }
  CHECK(metric(result, "perplexity").value == Approx(std::exp(-(lls[0] + lls[1] + lls[2]) / 3)).epsilon(1e-14));
  CHECK(metric(result, "perplexity").stderr_value.has_value());  // bootstrapped, as lm-eval does
  CHECK_FALSE(metric(result, "perplexity").higher_is_better);
  CHECK(metric(result, "acc").value == Approx(greedy / 3));

  // Shots show text, target_delimiter and target, as for every task.
  engine.loglikelihood_requests.clear();
  evaluate_task(text_task(OutputType::Loglikelihood), "unused", engine, with_shots(1));
  REQUIRE(engine.loglikelihood_requests.size() == 3);
  const std::string& shown = engine.loglikelihood_requests[0].context;
  CHECK(shown.size() > std::string("The cat sat on the").size());
  CHECK(shown.substr(shown.size() - 20) == "\n\nThe cat sat on the");
}

TEST_CASE("evaluator: output_type loglikelihood_rolling scores doc_to_target alone, without prompt or shots") {
  FakeEngine engine;
  EvalOptions options = with_shots(5);  // ignored: lm-eval never shows a rolling request a prompt
  options.profile = Profile::It;        // nor a chat template
  const TaskResult result = evaluate_task(text_task(OutputType::LoglikelihoodRolling), "unused", engine, options);
  CHECK(engine.loglikelihood_calls == 0);
  CHECK(engine.rolling_calls == 1);
  REQUIRE(engine.rolling_requests.size() == 3);
  CHECK(engine.rolling_requests[0].text == " mat");
  CHECK(engine.rolling_requests[2].text == "  spaced  out ");
  CHECK(result.shots == 0);
  CHECK(result.data_files.size() == 1);  // no shot split read
  REQUIRE(result.docs.size() == 3);
  CHECK(result.docs[1].prompt == " bark loudly");
  CHECK(result.docs[1].shot_ids.empty());
  CHECK(result.docs[1].loglikelihoods == std::vector<double>{-0.5 * 12});
  CHECK(result.docs[1].metrics.at("word_perplexity,none") == -6.0);
  CHECK(result.first_prompt_sha256 == gemma::sha256_hex(" mat"));
  // Words (lm-eval's re.split count): " mat" 2, " bark loudly" 3, "  spaced  out " 4 = 9;
  // bytes 4 + 12 + 14 = 30; log-likelihood -0.5 per byte = -15.
  CHECK(metric(result, "word_perplexity").value == Approx(std::exp(15.0 / 9.0)).epsilon(1e-14));
  CHECK(metric(result, "byte_perplexity").value == Approx(std::exp(0.5)).epsilon(1e-14));
  CHECK(metric(result, "bits_per_byte").value == Approx(0.5 / std::log(2.0)).epsilon(1e-14));
  for (const MetricValue& value : result.metrics) CHECK_FALSE(value.stderr_value.has_value());
}

TEST_CASE("evaluator: a failed or non-finite rolling request names the task and the doc") {
  FakeEngine engine;
  engine.non_finite_for = "loudly";
  CHECK_THROWS_WITH(evaluate_task(text_task(OutputType::LoglikelihoodRolling), "unused", engine, with_shots(0)),
                    Catch::Contains("task toy_wikitext: doc 1: the log-likelihood is nan"));
  FakeEngine failing;
  failing.request_error_at = 2;
  CHECK_THROWS_WITH(evaluate_task(text_task(OutputType::LoglikelihoodRolling), "unused", failing, with_shots(0)),
                    Catch::Contains("task toy_wikitext: doc 2: out of memory"));
}
