// The task-specific answer checks in scorers/ (choice_answer.h, count_answer.h, spatial_answer.h,
// eclektic.h, chrf.h's mean_group_chrf, math_answer.h's agieval_math_correct) and their registry entries:
// each entry scores as its function does, and each task that names it reports the entry's value.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "evals/aggregation.h"
#include "evals/evaluator.h"
#include "evals/task_registry.h"
#include "scorers/choice_answer.h"
#include "scorers/chrf.h"
#include "scorers/count_answer.h"
#include "scorers/eclektic.h"
#include "scorers/math_answer.h"
#include "scorers/metric_registry.h"
#include "scorers/spatial_answer.h"
#include "tests/support/temp_dir.h"

using namespace gemma;
using namespace gemma::scorers;
using Catch::Contains;

namespace {

struct Item {
  std::string prediction;
  std::vector<std::string> references;
  double expected;
};

double entry_score(const std::string& key, const Item& item) {
  return metric_registry().find(key).score(MetricDoc(), item.prediction, item.references, {}).front().second;
}

// The entry `key` gives `expected` on every item, and so does every named task's metric bound to it.
void check_entry(const std::string& key, const std::vector<std::string>& tasks, const std::vector<Item>& items) {
  for (const Item& item : items) {
    INFO(key << " on \"" << item.prediction << "\"");
    CHECK(entry_score(key, item) == item.expected);
  }
  for (const std::string& name : tasks) {
    const evals::TaskSpec& task = *evals::resolve_tasks(name).front();
    INFO(name);
    REQUIRE(task.metrics.size() == 1);
    CHECK(task.metrics[0].registry_key == key);
    for (const Item& item : items) CHECK(task.metrics[0].score(item.prediction, item.references) == item.expected);
  }
}

// Canned generations in request order.
class CannedEngine : public evals::Engine {
 public:
  explicit CannedEngine(std::vector<std::string> responses) : responses_(std::move(responses)) {}
  std::vector<evals::LoglikelihoodResult> loglikelihood(const std::vector<evals::LoglikelihoodRequest>&,
                                                        evals::EngineProgress*) override {
    FAIL("generation tasks make no loglikelihood requests");
    return {};
  }
  std::vector<evals::GenerationResult> generate_until(const std::vector<evals::GenerationRequest>& batch,
                                                      evals::EngineProgress*) override {
    std::vector<evals::GenerationResult> results(batch.size());
    for (auto& result : results) result.text = next_ < responses_.size() ? responses_[next_++] : "";
    return results;
  }
  std::vector<evals::LoglikelihoodResult> loglikelihood_rolling(const std::vector<evals::RollingLoglikelihoodRequest>&,
                                                                evals::EngineProgress*) override {
    FAIL("generation tasks make no loglikelihood_rolling requests");
    return {};
  }
  std::string describe_json() const override { return "{}"; }

 private:
  std::vector<std::string> responses_;
  size_t next_ = 0;
};

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// What `gemma-eval rescore` does with a run's samples: every per-doc value recomputed from the records
// alone (the generation and the references in `target`), then aggregated; each must equal the run's.
void check_rescore_reproduces(const evals::TaskSpec& task, const evals::TaskResult& run) {
  std::vector<evals::DocRecord> docs = run.docs;
  for (evals::DocRecord& doc : docs) {
    doc.metrics.clear();
    doc.extracted.clear();
  }
  std::map<std::string, size_t> invalid_by_filter;
  evals::rescore_records(task, docs, invalid_by_filter);
  const std::vector<evals::MetricValue> again = evals::aggregate_task_metrics(task, docs, invalid_by_filter);
  REQUIRE(again.size() == run.metrics.size());
  for (size_t i = 0; i < again.size(); ++i) {
    INFO(task.name << " " << run.metrics[i].metric);
    CHECK(again[i].metric == run.metrics[i].metric);
    CHECK(again[i].value == run.metrics[i].value);
    CHECK(again[i].stderr_value == run.metrics[i].stderr_value);
  }
  for (size_t d = 0; d < docs.size(); ++d) CHECK(docs[d].metrics == run.docs[d].metrics);
}

std::string eclektic_ref(const std::string& answer, const std::string& q_id, const std::string& lang,
                         const std::string& original_lang) {
  return nlohmann::json{{"answer", answer}, {"q_id", q_id}, {"lang", lang}, {"original_lang", original_lang}}.dump();
}

}  // namespace

TEST_CASE("ai2d: lmms-eval's letter extraction, then exact_match ignoring case and punctuation", "[scorers][choice]") {
  CHECK(ai2d_extract("  B. root") == "B");
  CHECK(ai2d_extract("\tC.") == "C");
  CHECK(ai2d_extract("b. root") == "b. root");  // only a capital letter followed by "." is taken
  CHECK(ai2d_extract("The answer is D") == "The answer is D");
  CHECK(ai2d_extract("B") == "B");
  check_entry("exact_match:lmms_ai2d", {"ai2d"},
              {{"  B. root", {"B"}, 1.0}, {"a", {"A"}, 1.0}, {"The answer is D", {"D"}, 0.0}, {"b.", {"B"}, 1.0}});
  // lm-eval's exact_match options apply after the extraction; the entry's defaults are the task's.
  const Metric& entry = metric_registry().find("exact_match:lmms_ai2d");
  CHECK(entry.options.at("ignore_case") == true);
  CHECK(entry.options.at("ignore_punctuation") == true);
  const Metric strict = metric_registry().find("exact_match:lmms_ai2d", {{"ignore_case", false}});
  CHECK(strict.score(MetricDoc(), "a", {"A"}, {}).front().second == 0.0);
  CHECK(strict.score(MetricDoc(), " A. leaf", {"A"}, {}).front().second == 1.0);
}

TEST_CASE("realworldqa: lmms-eval's extract_mcq_answer for a letter answer, plain match otherwise",
          "[scorers][choice]") {
  CHECK(extract_mcq_answer("The answer is (B).") == "B");
  CHECK(extract_mcq_answer("I think C: the lamp") == "C");  // "C:" outranks the bare "I"
  CHECK(extract_mcq_answer("A") == "A");
  CHECK(extract_mcq_answer("  ") == "");
  CHECK(extract_mcq_answer("no letter here") == "");
  CHECK(extract_mcq_answer("答案是B") == "B");
  check_entry("exact_match:lmms_realworldqa", {"realworldqa"},
              {{"The answer is (B).", {"B"}, 1.0},
               {"B", {"A"}, 0.0},
               {"I think C: the lamp", {"C"}, 1.0},
               {"3.", {"3"}, 1.0},
               {"left", {"Left"}, 1.0},
               {"left side", {"Left"}, 0.0}});
}

TEST_CASE("blink: the filtered leading letter against the gold letter", "[scorers][choice]") {
  check_entry("blink_acc", {"blink_art_style", "blink_visual_similarity"},
              {{"b", {"B"}, 1.0}, {"D", {"D"}, 1.0}, {"B", {"A"}, 0.0}, {"[invalid]", {"A"}, 0.0}, {"", {"A"}, 0.0}});
}

TEST_CASE("counting: big_vision's number words, lmms-eval's stripped comparison", "[scorers][count]") {
  CHECK(number_word_to_numeral("Three") == "3");
  CHECK(number_word_to_numeral("NONE") == "0");
  CHECK(number_word_to_numeral("twenty") == "20");
  CHECK(number_word_to_numeral("twenty-one") == "twenty-one");
  CHECK(number_word_to_numeral(" three") == " three");  // the whole text is looked up
  check_entry("acc:big_vision_tallyqa", {"tallyqa_simple", "tallyqa_complex"},
              {{"Three", {"3"}, 1.0}, {"none", {"0"}, 1.0}, {" 4", {"4"}, 0.0}, {"2", {"two"}, 1.0}});
  check_entry("acc:big_vision_countbenchqa", {"countbenchqa_bv"},
              {{" seven\n", {"7"}, 1.0}, {"7", {"7"}, 1.0}, {"6", {"7"}, 0.0}});
  check_entry("acc:lmms_countbenchqa", {"countbenchqa"},
              {{" 7 ", {"7"}, 1.0}, {"seven", {"7"}, 0.0}, {"7.", {"7"}, 0.0}});
}

TEST_CASE("spatialsense and remi: EvalAI-normalised answers [inferred]", "[scorers][spatial]") {
  CHECK(first_normalized_word("Yes, it is.") == "yes");
  CHECK(first_normalized_word("  ") == "");
  check_entry("acc:spatialsense", {"spatialsense"},
              {{"Yes.", {"yes"}, 1.0}, {"Yes, it is.", {"no"}, 0.0}, {"no", {"yes"}, 0.0}, {"No", {"no"}, 1.0}});
  check_entry("acc:remi", {"remi"},
              {{"12.55", {"12.5"}, 1.0},
               {"second.", {"The second"}, 1.0},
               {"102", {"100"}, 0.0},
               {"100.9", {"100"}, 1.0},
               {"abc", {"100"}, 0.0}});
}

TEST_CASE("agieval math: parse_math_answer + is_equiv through the registry", "[scorers][math]") {
  check_entry("acc:agieval_math", {"agieval_math", "agieval_gaokao_mathcloze"},
              {{"so \\boxed{10}", {"10"}, 1.0},
               {"so x = 12.", {"12"}, 1.0},
               {" $\\frac{3}{4}$", {"\\frac{3}{4}"}, 1.0},
               {"10\\%", {"10"}, 1.0},
               {"3", {"4"}, 0.0},
               {"3", {}, 0.0}});
}

TEST_CASE("eclektic: containment per doc, paired success and transfer over the corpus", "[scorers][eclektic]") {
  // q7 asked in its source language de, and in en and fr; q8 in en (source) and de.
  const std::vector<std::vector<std::string>> references = {{eclektic_ref("1901", "7", "de", "de")},
                                                            {eclektic_ref("1901", "7", "en", "de")},
                                                            {eclektic_ref("1901", "7", "fr", "de")},
                                                            {eclektic_ref("The Smith Brothers", "8", "en", "en")},
                                                            {eclektic_ref("Smith Brothers", "8", "de", "en")}};
  const std::vector<std::string> predictions = {"1901", "In 1901.", "en 1899", "Nobody", "Smith Brothers"};
  check_entry("correct:eclektic", {},
              {{"Es wurde 1901 gegründet.", references[0], 1.0},
               {"1910", references[0], 0.0},
               {"the smith brothers built it", references[3], 1.0}});
  // Target pairs: (7,en) both right, (7,fr) target wrong, (8,de) source wrong: overall 1/3; transfer 1/2.
  const Metric& overall = metric_registry().find("overall_success:eclektic");
  const Metric& transfer = metric_registry().find("transfer:eclektic");
  CHECK(overall.aggregation == Aggregation::kCorpus);
  CHECK(overall.bootstrap_iters == 0);
  CHECK(overall.corpus_score(predictions, references).score({0, 1, 2, 3, 4}) ==
        eclektic_overall_success(predictions, references));
  CHECK(eclektic_overall_success(predictions, references) == Approx(1.0 / 3));
  CHECK(transfer.corpus_score(predictions, references).score({0, 1, 2, 3, 4}) == Approx(0.5));
  CHECK(overall.corpus_score(predictions, references).score({0, 1, 0, 1}) == 1.0);  // a resample: repeats kept
  CHECK(overall.corpus_score(predictions, references).score({1}) == 0.0);           // no source doc, no pair
  const evals::TaskSpec& task = *evals::resolve_tasks("eclektic").front();
  REQUIRE(task.metrics.size() == 3);
  CHECK(task.metrics[0].registry_key == "correct:eclektic");
  CHECK(task.metrics[1].registry_key == "overall_success:eclektic");
  CHECK(task.metrics[1].corpus_score(predictions, references) == eclektic_overall_success(predictions, references));
  CHECK(task.metrics[2].corpus_score(predictions, references) == eclektic_transfer(predictions, references));
  CHECK_THROWS_WITH(overall.corpus_score({"x"}, {{"plain text"}}).score({0}),
                    Contains("eclektic reference without a string \"answer\""));
}

TEST_CASE("indicgenbench chrF: the mean over data files of corpus chrF", "[scorers][chrf]") {
  const auto ref = [](const std::string& target, const std::string& group) {
    return std::vector<std::string>{nlohmann::json{{"target", target}, {"group", group}}.dump()};
  };
  const std::vector<std::string> predictions = {"a cat sat on the mat", "dog", "Hello there."};
  const std::vector<std::vector<std::string>> references = {
      ref("a cat sat on a mat", "flores_en_hi"), ref("a dog", "flores_en_hi"), ref("Hello.", "flores_hi_en")};
  const double expected = (corpus_chrf({"a cat sat on the mat", "dog"}, {{"a cat sat on a mat"}, {"a dog"}}) +
                           corpus_chrf({"Hello there."}, {{"Hello."}})) /
                          2;
  CHECK(mean_group_chrf(predictions, references) == expected);
  const Metric& entry = metric_registry().find("chrf:indicgenbench");
  CHECK(entry.aggregation == Aggregation::kCorpus);
  CHECK(entry.bootstrap_iters == 0);
  CHECK(entry.corpus_score(predictions, references).score({0, 1, 2}) == expected);
  CHECK(entry.corpus_score(predictions, references).score({2}) == Approx(corpus_chrf({"Hello there."}, {{"Hello."}})));
  for (const char* name : {"indicgenbench_flores_in", "indicgenbench_crosssum_in"}) {
    const evals::TaskSpec& task = *evals::resolve_tasks(name).front();
    CHECK(task.metrics.at(0).registry_key == "chrf:indicgenbench");
    CHECK(task.metrics.at(0).corpus_score(predictions, references) == expected);
  }
  CHECK(mean_group_chrf({}, {}) == 0.0);
  CHECK_THROWS_WITH(mean_group_chrf({"x"}, {{"plain reference"}}), Contains("needs one {\"target\", \"group\"}"));
  CHECK_THROWS_WITH(mean_group_chrf({"x", "y"}, {ref("x", "g")}), Contains("2 predictions for 1 references"));
}

TEST_CASE("eclektic and indicgenbench: a run's corpus metrics, and rescore reproduces them", "[scorers][rescore]") {
  gemma::test::TempDir dir;
  write_file(dir.path / "eclektic" / "eclektic_main.jsonl",
             R"({"q_id": 7, "original_lang": "de", "lang": "de", "question": "Wann?", "answer": "1901"})"
             "\n"
             R"({"q_id": 7, "original_lang": "de", "lang": "en", "question": "When?", "answer": "1901"})"
             "\n"
             R"({"q_id": 7, "original_lang": "de", "lang": "fr", "question": "Quand ?", "answer": "1901"})"
             "\n"
             R"({"q_id": "8", "original_lang": "en", "lang": "en", "question": "Who?", "answer": "The Smith Brothers"})"
             "\n"
             R"({"q_id": "8", "original_lang": "en", "lang": "de", "question": "Wer?", "answer": "Smith Brothers"})"
             "\n");
  const evals::TaskSpec& eclektic = *evals::resolve_tasks("eclektic").front();
  CannedEngine engine({"1901", "In 1901.", "en 1899", "Nobody", "Smith Brothers"});
  const evals::TaskResult run = evals::evaluate_task(eclektic, dir.path, engine, {});
  REQUIRE(run.metrics.size() == 3);
  CHECK(run.metrics[0].value == Approx(3.0 / 5));  // correct: 1901 twice and the Smith Brothers
  CHECK(run.metrics[1].value == Approx(1.0 / 3));  // overall_success
  CHECK(run.metrics[2].value == Approx(0.5));      // transfer
  CHECK_FALSE(run.metrics[1].stderr_value);        // a corpus statistic without a bootstrap
  CHECK(run.metric_variants.at("overall_success") == "containment (approximate; paper: LLM judge)");
  check_rescore_reproduces(eclektic, run);

  const std::filesystem::path flores = dir.path / "indicgenbench" / "flores_in";
  write_file(
      flores / "flores_en_hi_test.json",
      R"({"examples": [{"source": "Hello.", "target": "a cat sat on a mat", "translation_direction": "enxx", )"
      R"("lang": "hi"}, {"source": "Dog.", "target": "a dog", "translation_direction": "enxx", "lang": "hi"}]})");
  write_file(flores / "flores_hi_en_test.json",
             R"({"examples": [{"source": "x", "target": "Hello.", "translation_direction": "xxen", "lang": "hi"}]})");
  const evals::TaskSpec& flores_in = *evals::resolve_tasks("indicgenbench_flores_in").front();
  CannedEngine flores_engine({"a cat sat on the mat", "dog", "Hello there."});
  const evals::TaskResult flores_run = evals::evaluate_task(flores_in, dir.path, flores_engine, {});
  REQUIRE(flores_run.metrics.size() == 1);
  CHECK(flores_run.metrics[0].value ==
        (corpus_chrf({"a cat sat on the mat", "dog"}, {{"a cat sat on a mat"}, {"a dog"}}) +
         corpus_chrf({"Hello there."}, {{"Hello."}})) /
            2);
  CHECK_FALSE(flores_run.metrics[0].stderr_value);
  check_rescore_reproduces(flores_in, flores_run);
}

TEST_CASE("single-answer metrics name themselves when a doc has no reference", "[scorers]") {
  for (const char* key : {"acc:big_vision_tallyqa", "acc:big_vision_countbenchqa", "acc:lmms_countbenchqa",
                          "acc:spatialsense", "acc:remi", "exact_match:lmms_realworldqa"}) {
    INFO(key);
    CHECK_THROWS_WITH(entry_score(key, {"2", {}, 0.0}), Catch::Contains("no reference answer"));
  }
}
