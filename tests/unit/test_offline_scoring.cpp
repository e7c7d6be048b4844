// evals/offline_scoring.h (`gemma-eval score`) with the text benchmarks' metrics: corpus chrF with lm-eval's
// bootstrap stderr, SQuAD and DROP (two values each), Minerva MATH equivalence, pass@1 through the
// sandbox, and --filter applying a task's own extraction (extracted answers and invalid count reported).
#include <catch2/catch.hpp>

#include <fstream>

#include "common/error.h"
#include "evals/evaluator.h"
#include "evals/offline_scoring.h"
#include "evals/task_registry.h"
#include "tests/support/temp_dir.h"

using namespace gemma;
using namespace gemma::evals;
using gemma::test::TempDir;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Pair {
  std::string prediction;
  std::vector<std::string> references;
};

// Writes predictions.jsonl and references.jsonl (ids 0..n-1) and scores them.
nlohmann::ordered_json score(const TempDir& dir, const std::string& metric, const std::vector<Pair>& pairs,
                             const std::string& filter = "", bool allow_code = false) {
  std::ofstream predictions(dir.path / "predictions.jsonl"), references(dir.path / "references.jsonl");
  for (size_t i = 0; i < pairs.size(); ++i) {
    predictions << json{{"id", i}, {"prediction", pairs[i].prediction}}.dump() << "\n";
    references << json{{"id", i}, {"references", pairs[i].references}}.dump() << "\n";
  }
  predictions.close();
  references.close();
  return score_offline({metric, dir.path / "predictions.jsonl", dir.path / "references.jsonl", filter, allow_code});
}

}  // namespace

TEST_CASE("offline chrF is sacrebleu's corpus score with lm-eval's bootstrap stderr", "[offline][chrf]") {
  TempDir dir("offline-chrf");
  // lm-eval lm_eval/api/metrics.py::stderr_for_metric@4e7e0d47: the 4-item corpus, (reference, prediction).
  const std::vector<Pair> corpus = {
      {"The cat is sitting on the mat.", {"The cat sat on the mat."}},
      {"Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.",
       {"Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."}},
      {"Today it rains.", {"It is raining today."}},
      {"I like green apples.", {"I like green apples."}},
  };
  const auto out = score(dir, "chrf", corpus);
  CHECK(out["metric"] == "chrf");
  CHECK(out["score"].get<double>() == Approx(64.05547892453941).epsilon(1e-12));
  CHECK(out["stderr"].get<double>() == Approx(10.412333919817026).epsilon(1e-12));
  CHECK(out["n"] == 4);
  CHECK_THAT(out["signature"].get<std::string>(), Catch::Contains("nc:6|nw:0"));
  const auto plus = score(dir, "chrf++", corpus);
  CHECK_THAT(plus["signature"].get<std::string>(), Catch::Contains("nw:2"));
  CHECK(plus["score"].get<double>() < out["score"].get<double>());  // word bigrams of these pairs match less
}

TEST_CASE("offline SQuAD and DROP report exact match and F1", "[offline][qa]") {
  TempDir dir("offline-qa");
  const auto squad = score(dir, "squad", {{"the Denver Broncos", {"Denver Broncos"}}, {"Broncos", {"Denver Broncos"}}});
  CHECK(squad["scores"]["exact_match"].get<double>() == Approx(0.5));
  CHECK(squad["scores"]["f1"].get<double>() == Approx((1.0 + 2.0 / 3.0) / 2));
  CHECK(squad["variant"] == "max");
  // lm-eval's XQuAD scores against the first reference only.
  const auto first = score(dir, "squad:first", {{"Paris", {"London", "Paris"}}});
  CHECK(first["scores"]["exact_match"] == 0.0);
  CHECK(score(dir, "squad", {{"Paris", {"London", "Paris"}}})["scores"]["exact_match"] == 1.0);
  // A DROP reference is one gold answer: a JSON array of its spans, or plain text.
  // One span of a two-span gold: EM 0, F1 (1 + 0) / 2 per lm-eval's bag alignment.
  const auto drop = score(dir, "drop", {{"Jets", {"Jets"}}, {"Titans", {"[\"Titans\",\"Jets\"]"}}});
  CHECK(drop["scores"]["exact_match"].get<double>() == Approx(0.5));
  CHECK(drop["scores"]["f1"].get<double>() == Approx(0.75));
  CHECK_THROWS_WITH(score(dir, "squad:best", {{"a", {"a"}}}), Catch::Contains("unknown variant \"best\""));
}

TEST_CASE("offline MATH uses Minerva's extraction through --filter and counts invalid answers", "[offline][math]") {
  TempDir dir("offline-math");
  const auto out =
      score(dir, "math",
            {{"So x = 1/2.\nFinal Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", {"\\frac{1}{2}"}},
             {"Final Answer: The final answer is $3$. I hope it is correct.", {"4"}},
             {"I am not sure.", {"4"}}},
            "minerva-math");
  CHECK(out["score"].get<double>() == Approx(1.0 / 3));
  CHECK(out["filter"] == "minerva-math");
  CHECK(out["invalid"] == 1);
  REQUIRE(out["extracted"].size() == 3);
  CHECK(out["extracted"][0]["id"] == "0");
  CHECK(out["extracted"][0]["extracted"] == "\\frac{1}{2}");
  CHECK(out["extracted"][1]["extracted"] == "3");
}

TEST_CASE("offline MATH defaults to lm-eval's sympy is_equiv; minerva-norm stays selectable", "[offline][math]") {
  TempDir dir("offline-math-variants");
  // Identical tuples do not parse for sympy (lm-eval: 0); only algebra matches (x+1)^2.
  const std::vector<Pair> pairs = {{"(2,5)", {"(2,5)"}}, {"(x+1)^2", {"x^2+2x+1"}}};
  const auto sympy = score(dir, "math", pairs);
  CHECK(sympy["variant"] == "sympy");
  CHECK(sympy["score"].get<double>() == Approx(0.5));
  CHECK(score(dir, "math:sympy", pairs)["score"].get<double>() == Approx(0.5));
  const auto strings = score(dir, "math:minerva-norm", pairs);
  CHECK(strings["variant"] == "minerva-norm");
  CHECK(strings["score"].get<double>() == Approx(0.5));  // the tuple matches as a string, the square does not
  CHECK(score(dir, "math:minerva-norm", {{"(2,5)", {"(2,5)"}}})["score"] == 1.0);
  CHECK(score(dir, "math", {{"(2,5)", {"(2,5)"}}})["score"] == 0.0);
  CHECK_THROWS_WITH(score(dir, "math:strings", pairs), Catch::Contains("unknown variant \"strings\""));
}

TEST_CASE("offline --filter takes a task's pipeline by short name or TASK:PIPELINE", "[offline][filter]") {
  TempDir dir("offline-filter");
  const std::vector<Pair> pairs = {{"She has 3 + 4 = 7 apples.\n#### 7", {"#### 7"}},
                                   {"The answer is 12", {"#### 12"}}};
  const auto strict = score(dir, "exact_match", pairs, "gsm8k-strict");
  CHECK(strict["extracted"][0]["extracted"] == "7");
  CHECK(strict["extracted"][1]["extracted"] == "[invalid]");
  CHECK(strict["invalid"] == 1);
  const auto flexible = score(dir, "exact_match", pairs, "gsm8k:flexible-extract");
  CHECK(flexible["extracted"][1]["extracted"] == "12");
  CHECK(flexible["invalid"] == 0);
  const auto bbh = score(dir, "exact_match", {{"Let's think. So the answer is (B).", {"(B)"}}}, "bbh");
  CHECK(bbh["extracted"][0]["extracted"] == "(B)");
  CHECK(bbh["score"] == 1.0);
  CHECK_THROWS_WITH(score(dir, "em", pairs, "gsm8k:loose"),
                    Catch::Contains("no filter pipeline \"loose\"") && Catch::Contains("strict-match"));
  CHECK_THROWS_WITH(score(dir, "em", pairs, "nonsense"),
                    Catch::Contains("--filter nonsense") && Catch::Contains("gsm8k-strict"));
}

TEST_CASE("offline --filter gsm8k scores exact_match with the task's options, as rescore does", "[offline][filter]") {
  TempDir dir("offline-gsm8k");
  // lm-eval's gsm8k: doc_to_target is the whole worked answer, and exact_match (ignore_case,
  // regexes_to_ignore [",", "\\$", "(?s).*#### ", "\\.$"], each re.sub'd from prediction and reference
  // alike, in that order) strips the reasoning from the reference: "Some reasoning.\n#### 72" -> "72".
  const std::string reference = "Some reasoning.\n#### 72";
  const std::vector<Pair> pairs = {
      // strict "#### (\-?[0-9\.\,]+)" -> "72"; flexible (last of "(-?[$0-9.,]{2,})|(-?[0-9]+)") -> "72": 1, 1
      {"She sells 16 - 3 - 4 = 9 eggs.\n#### 72", {reference}},
      // strict: no "#### " -> "[invalid]": 0; flexible -> "$72." -> "\$" and "\.$" removed -> "72": 1
      {"The answer is $72.", {reference}},
      // strict and flexible -> "1,234" -> "," removed -> "1234"; the reference -> "1234": 1, 1
      {"#### 1,234", {"Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 1234"}},
      {"#### 71", {reference}},  // 0, 0
  };
  const auto strict = score(dir, "exact_match", pairs, "gsm8k-strict");
  CHECK(strict["score"].get<double>() == Approx(0.5));
  CHECK(strict["invalid"] == 1);
  CHECK(strict["extracted"][0]["extracted"] == "72");
  CHECK(strict["extracted"][2]["extracted"] == "1,234");
  CHECK_THAT(strict["scored_as"].get<std::string>(), Catch::Contains("task gsm8k metric exact_match"));
  const auto flexible = score(dir, "em", pairs, "gsm8k:flexible-extract");
  CHECK(flexible["score"].get<double>() == Approx(0.75));
  CHECK(flexible["invalid"] == 0);
  CHECK(flexible["extracted"][1]["extracted"] == "$72.");

  // `rescore` recomputes a run's samples with rescore_records and aggregate_task_metrics: the same
  // generations and targets as samples give the numbers `score` gave.
  std::vector<DocRecord> docs(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    docs[i].doc_id = static_cast<int64_t>(i);
    docs[i].generated = pairs[i].prediction;
    docs[i].target = pairs[i].references.front();
  }
  const TaskSpec& gsm8k = *resolve_tasks("gsm8k").front();
  std::map<std::string, size_t> invalid;
  rescore_records(gsm8k, docs, invalid);
  size_t compared = 0;
  for (const MetricValue& value : aggregate_task_metrics(gsm8k, docs, invalid)) {
    if (value.metric != "exact_match") continue;
    const auto& offline = value.filter == "strict-match" ? strict : flexible;
    INFO(value.filter);
    CHECK(offline["score"].get<double>() == value.value);
    REQUIRE(value.stderr_value.has_value());
    CHECK(offline["stderr"].get<double>() == *value.stderr_value);
    CHECK(offline["invalid"] == value.invalid);
    ++compared;
  }
  CHECK(compared == 2);

  // A metric the task does not score is the offline metric on the extracted answers.
  const auto f1 = score(dir, "f1", {{"#### 72", {"72"}}}, "gsm8k-strict");
  CHECK(f1["score"] == 1.0);
  CHECK_FALSE(f1.contains("scored_as"));
}

TEST_CASE("offline TASK:none scores a task without filters with its own metric and variant", "[offline][filter]") {
  TempDir dir("offline-vqav2");
  // vqav2_val scores lmms-eval's vqav2 variant: 10 x "2" accepts "two" (the prediction is normalised).
  const std::vector<Pair> pairs = {{"two", std::vector<std::string>(10, "2")}};
  const auto as_task = score(dir, "vqa", pairs, "vqav2_val:none");
  CHECK(as_task["score"] == 1.0);
  CHECK(as_task["variant"] == "lmms_vqav2");
  CHECK(as_task["invalid"] == 0);
  CHECK_THAT(as_task["scored_as"].get<std::string>(), Catch::Contains("task vqav2_val metric vqa_accuracy"));
  // Another variant would give another number than the task's: refused, naming the task's.
  CHECK_THROWS_WITH(score(dir, "vqa:official", pairs, "vqav2_val:none"), Catch::Contains("vqav2_val") &&
                                                                             Catch::Contains("variant lmms_vqav2") &&
                                                                             Catch::Contains(":official"));
  CHECK(score(dir, "vqa:official", pairs)["score"] == 0.0);  // without the filter it is the offline metric
  CHECK_THROWS_WITH(score(dir, "vqa", pairs, "vqav2_val:strict"), Catch::Contains("no filter pipeline \"strict\""));
}

TEST_CASE("offline pass@1 runs programs only when allowed and sandboxed", "[offline][code][sandbox]") {
  TempDir dir("offline-code");
  const std::vector<Pair> programs = {{"def add(a, b):\n    return a + b\n", {"assert add(2, 3) == 5"}},
                                      {"def add(a, b):\n    return a - b\n", {"assert add(2, 3) == 5"}},
                                      {"def add(a, b):\n    while True: pass\n", {"assert add(2, 3) == 5"}}};
  CHECK_THROWS_WITH(score(dir, "pass@1", programs), Catch::Contains("--allow-code-execution"));
  const auto out = score(dir, "pass@1", programs, "", /*allow_code=*/true);
  CHECK(out["score"].get<double>() == Approx(1.0 / 3));
  CHECK(out["n"] == 3);
}

TEST_CASE("offline single-task answer checks: item entries, and corpus entries over encoded references",
          "[offline][tasks]") {
  TempDir dir("offline-task-checks");
  const auto ai2d =
      score(dir, "exact_match:lmms_ai2d", {{"  B. root", {"B"}}, {"b.", {"B"}}, {"The answer is D", {"D"}}});
  CHECK(ai2d["metric"] == "exact_match");
  CHECK(ai2d["variant"] == "lmms_ai2d");
  CHECK(ai2d["score"].get<double>() == Approx(2.0 / 3));
  // With the task's pipeline the entry named is the task's own: its key is accepted, as is the plain name.
  const auto remi = score(dir, "acc:remi", {{"12.55", {"12.5"}}, {"102", {"100"}}}, "remi:none");
  CHECK(remi["score"] == 0.5);
  CHECK_THAT(remi["scored_as"].get<std::string>(), Catch::Contains("task remi metric acc"));
  CHECK(score(dir, "acc", {{"12.55", {"12.5"}}}, "remi:none")["score"] == 1.0);
  CHECK(score(dir, "acc", {{"12.55", {"12.5"}}})["score"] == 0.0);  // without it, the plain acc
  CHECK_THROWS_WITH(score(dir, "acc:spatialsense", {{"yes", {"yes"}}}, "remi:none"),
                    Catch::Contains("task remi scores acc its own way") && Catch::Contains(":spatialsense"));

  // ECLeKTic's pairs and IndicGenBench's files come from the references, as the tasks write them.
  const auto eclektic = [](const std::string& answer, const std::string& lang) {
    return json{{"answer", answer}, {"q_id", "7"}, {"lang", lang}, {"original_lang", "de"}}.dump();
  };
  const std::vector<Pair> pairs = {{"1901", {eclektic("1901", "de")}},
                                   {"In 1901.", {eclektic("1901", "en")}},
                                   {"en 1899", {eclektic("1901", "fr")}}};
  CHECK(score(dir, "overall_success:eclektic", pairs)["score"] == 0.5);
  CHECK(score(dir, "transfer:eclektic", pairs)["score"] == 0.5);
  CHECK(score(dir, "correct:eclektic", pairs)["score"].get<double>() == Approx(2.0 / 3));
  const auto group = [](const std::string& target, const std::string& file) {
    return json{{"target", target}, {"group", file}}.dump();
  };
  const auto chrf = score(dir, "chrf:indicgenbench", {{"Hello.", {group("Hello.", "flores_hi_en")}}});
  CHECK(chrf["score"] == Approx(100.0));
  CHECK_FALSE(chrf.contains("stderr"));
  CHECK_THROWS_WITH(score(dir, "chrf:indicgenbench", {{"Hello.", {"Hello."}}}),
                    Catch::Contains("--metric chrf:indicgenbench") && Catch::Contains("{\"target\", \"group\"}"));
}
