// Reasoning and math task adapters (evals/tasks/reasoning.h): rendered prompts against the SHA-256 of the prompts
// lm-eval renders (lm_eval/api/task.py::fewshot_context@4e7e0d47), answer extraction against vectors run through
// lm-eval's BBH / Minerva MATH code (lm_eval/tasks/{bbh,minerva_math}/), loaders on the real data (counts per the
// MANIFESTs) and bad rows naming file and line.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>
#include "tests/support/task_fixtures.h"

#include "common/error.h"
#include "common/sha256.h"
#include "evals/filters.h"
#include "evals/tasks/reasoning.h"
#include "scorers/exact_match.h"
#include "scorers/math_answer.h"
#include "tests/support/temp_dir.h"

using namespace gemma;
using namespace gemma::evals;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const fs::path kData = gemma::test::kSharedData;

using gemma::test::find_task;
using gemma::test::tasks_named;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string load_error(const std::function<DocSplit(const fs::path&)>& load, const fs::path& dir) {
  try {
    load(dir);
  } catch (const gemma::Error& e) {
    return e.what();
  }
  FAIL("expected a gemma::Error");
  return "";
}

FilterOutcome apply_filter(const TaskSpec& t, size_t pipeline, const std::string& response) {
  return CompiledFilterPipeline(t.filters.at(pipeline)).apply(response);
}

}  // namespace

// -------------------------------------------------------------- BBH (lm-eval lm_eval/tasks/bbh/cot_fewshot/*@4e7e0d47)

TEST_CASE("bbh: 27 CoT few-shot tasks with lm-eval's settings", "[tasks][bbh]") {
  const auto tasks = tasks_named({"bbh_cot_fewshot"});
  REQUIRE(tasks.size() == 27);
  CHECK(tasks.front().name == "bbh_cot_fewshot_boolean_expressions");
  CHECK(tasks.back().name == "bbh_cot_fewshot_word_sorting");
  for (const TaskSpec& t : tasks) {
    CHECK(t.groups == std::vector<std::string>{"bbh_cot_fewshot"});
    CHECK(t.output_type == OutputType::GenerateUntil);
    CHECK(t.default_shots == 3);
    CHECK(t.sampler == ShotSampler::FirstN);
    CHECK(t.target_delimiter.empty());
    CHECK(t.fewshot_delimiter == "\n\n");
    CHECK(t.until == std::vector<std::string>{"</s>", "Q", "\n\n"});
    CHECK(t.max_gen_toks == 1024);
    REQUIRE(t.filters.size() == 1);
    CHECK(t.filters[0].name == "get-answer");
    REQUIRE(t.metrics.size() == 1);
    CHECK(t.metrics[0].name == "exact_match");
    CHECK_FALSE(t.metrics[0].exact_match.ignore_case);
    CHECK_FALSE(t.metrics[0].exact_match.ignore_punctuation);
  }
}

TEST_CASE("bbh: boolean_expressions renders lm-eval's prompt", "[tasks][bbh]") {
  const auto all = tasks_named({"bbh_cot_fewshot"});
  const TaskSpec& t = find_task(all, "bbh_cot_fewshot_boolean_expressions");
  const DocSplit shots = t.load_fewshot(kData);
  REQUIRE(shots.docs.size() == 3);
  const std::string prompt =
      gemma::test::render_prompt(t, shots.docs, Doc{{"input", "True and not False is"}, {"target", "True"}});
  CHECK(prompt.size() == 1836);
  CHECK(sha256_hex(prompt) == "afb78585eca5edbda8cc739aca92761335167bd06b6762d4e58bb49fc86d0af7");
  const std::string tail = "So the answer is True.\n\nQ: True and not False is\nA: Let's think step by step.\n";
  CHECK(prompt.compare(prompt.size() - tail.size(), tail.size(), tail) == 0);
  CHECK(prompt.rfind("Evaluate the result of a random Boolean expression.\n\nQ: not ( ( not not True ) ) is\n", 0) ==
        0);
}

TEST_CASE("bbh: descriptions and shots come from the cot-prompts files", "[tasks][bbh]") {
  const auto all = tasks_named({"bbh_cot_fewshot"});
  for (const TaskSpec& t : all) {
    const std::string subtask = t.name.substr(std::string("bbh_cot_fewshot_").size());
    std::ifstream in(kData / "bbh" / "cot-prompts" / (subtask + ".txt"), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t body = text.find("-----\n") + 6;
    CHECK(t.description == text.substr(body, text.find("\n\nQ: ") + 2 - body));
    const DocSplit shots = t.load_fewshot(kData);
    REQUIRE(shots.docs.size() == 3);
    for (const Doc& shot : shots.docs) {
      // Every exemplar's chain of thought ends in an answer the get-answer filter extracts.
      CHECK(tasks::bbh_extract_answer(shot.at("target").get<std::string>()).has_value());
      CHECK(shot.at("target").get<std::string>().rfind("Let's think", 0) == std::string::npos);
    }
  }
  // snarks' description runs over two paragraphs (lm-eval's YAML keeps both).
  CHECK_THAT(find_task(all, "bbh_cot_fewshot_snarks").description,
             Contains("sarcastic.\n\nAccording to Cambridge University Dictionary"));
}

TEST_CASE("bbh: loaders read all 6511 test examples", "[tasks][bbh]") {
  size_t total = 0;
  for (const TaskSpec& t : tasks_named({"bbh_cot_fewshot"})) {
    const DocSplit split = t.load_eval(kData);
    REQUIRE(split.files.size() == 1);
    CHECK(split.files[0].rows == split.docs.size());
    total += split.docs.size();
    if (t.name == "bbh_cot_fewshot_causal_judgement") CHECK(split.docs.size() == 187);
    if (t.name == "bbh_cot_fewshot_penguins_in_a_table") CHECK(split.docs.size() == 146);
    if (t.name == "bbh_cot_fewshot_snarks") CHECK(split.docs.size() == 178);
    if (t.name == "bbh_cot_fewshot_boolean_expressions") {
      CHECK(split.docs.size() == 250);
      CHECK(split.files[0].sha256 == "ea6c754ec005e2d3f2d085d349a740f593b5764f32ea4638ffed4cfc0061b12a");
      CHECK(t.doc_to_text(split.docs[0]) == "Q: not ( True ) and ( True ) is\nA: Let's think step by step.\n");
      CHECK(t.doc_to_references(split.docs[0]) == std::vector<std::string>{"False"});
    }
  }
  CHECK(total == 6511);
}

TEST_CASE("bbh: get-answer extraction vectors", "[tasks][bbh]") {
  using tasks::bbh_extract_answer;
  CHECK(bbh_extract_answer("A and B are False. So the answer is False.") == "False");
  CHECK(bbh_extract_answer("So the answer is (C).") == "(C)");
  CHECK(bbh_extract_answer("So the answer is 24") == "2");  // the quirk: the last character goes
  CHECK_FALSE(bbh_extract_answer("I do not know."));
  CHECK_FALSE(bbh_extract_answer("So The Answer Is (A)."));  // case-sensitive
  CHECK(bbh_extract_answer("the answer is \nthe answer is (B).\nthe answer is (C).") == "(B)");
  CHECK(bbh_extract_answer("the answer is x") == "");    // one character: an empty match, not invalid
  CHECK(bbh_extract_answer("the answer is ü.") == "ü");  // the lookahead takes a code point

  const auto all = tasks_named({"bbh_cot_fewshot"});
  const TaskSpec& t = all.front();
  CHECK(apply_filter(t, 0, "So the answer is True.").text == "True");
  const FilterOutcome none = apply_filter(t, 0, "no idea");
  CHECK(none.text == "[invalid]");
  CHECK(none.fell_back);
}

TEST_CASE("bbh: bad data fails naming the file", "[tasks][bbh]") {
  const auto all = tasks_named({"bbh_cot_fewshot"});
  const TaskSpec& t = all.front();
  test::TempDir dir;
  const fs::path examples = dir.path / "bbh" / "bbh" / "boolean_expressions.json";
  write_file(examples, R"({"examples": [{"input": "a", "target": "b"}, {"input": "c"}]})");
  CHECK_THAT(load_error(t.load_eval, dir.path),
             Contains("boolean_expressions.json:1: examples[1]: field \"target\": missing"));
  write_file(examples, R"({"examples": [{"input": 3, "target": "b"}]})");
  CHECK_THAT(load_error(t.load_eval, dir.path), Contains("examples[0]: field \"input\": expected a string"));
  write_file(examples, R"({"rows": []})");
  CHECK_THAT(load_error(t.load_eval, dir.path), Contains("boolean_expressions.json:1: field \"examples\""));
  write_file(examples, "{not json");
  CHECK_THAT(load_error(t.load_eval, dir.path), Contains("boolean_expressions.json:1: not valid JSON"));

  const fs::path prompts = dir.path / "bbh" / "cot-prompts" / "boolean_expressions.txt";
  write_file(prompts, "canary\n-----\nDescribe.\n\nQ: x\nA: Let's think step by step.\nSo the answer is y.");
  CHECK_THAT(load_error(t.load_fewshot, dir.path), Contains("boolean_expressions.txt: expected 3 exemplars, found 1"));
  write_file(prompts, "canary\n-----\nDescribe.\n\nQ: x\nA: y");
  CHECK_THAT(load_error(t.load_fewshot, dir.path), Contains("boolean_expressions.txt: exemplar 1"));
  CHECK_THAT(load_error(t.load_eval, dir.path / "missing"), Contains("boolean_expressions.json"));
}

// -------------------------------------- MATH / Minerva (lm-eval lm_eval/tasks/minerva_math/{*.yaml,utils.py}@4e7e0d47)

TEST_CASE("minerva_math: 7 subjects with lm-eval's settings", "[tasks][math]") {
  const auto tasks = tasks_named({"minerva_math"});
  REQUIRE(tasks.size() == 7);
  for (const TaskSpec& t : tasks) {
    CHECK(t.name.rfind("minerva_math_", 0) == 0);
    CHECK(t.groups == std::vector<std::string>{"minerva_math"});
    CHECK(t.default_shots == 4);
    CHECK(t.sampler == ShotSampler::FirstN);
    CHECK(t.target_delimiter == " ");
    CHECK(t.until == std::vector<std::string>{"Problem:"});
    REQUIRE(t.filters.size() == 1);
    CHECK(t.filters[0].name == "none");
    REQUIRE(t.metrics.size() == 1);
    CHECK(t.metrics[0].name == "exact_match");
    CHECK(t.metrics[0].variant == "sympy is_equiv (parse_latex + simplify, on GiNaC)");
  }
}

TEST_CASE("minerva_math: the 4 Minerva shots render lm-eval's prompt", "[tasks][math]") {
  const auto all = tasks_named({"minerva_math"});
  const TaskSpec& t = all.front();
  const DocSplit shots = t.load_fewshot(fs::path("/nonexistent"));  // needs no data
  REQUIRE(shots.docs.size() == 4);
  const std::string prompt =
      gemma::test::render_prompt(t, shots.docs, Doc{{"problem", "What is $1+1$?"}, {"answer", "2"}});
  CHECK(prompt.size() == 1826);
  CHECK(sha256_hex(prompt) == "422b974c9e62454aaa40d45cd0746349284d80ac596fe830b18df85aeadfbb6c");
  CHECK(prompt.rfind("Problem:\nFind the domain of the expression  $\\frac{\\sqrt{x-2}}{\\sqrt{5-x}}$.}\n\nSolution: "
                     "The expressions",
                     0) == 0);
  const std::string tail = "I hope it is correct.\n\nProblem:\nWhat is $1+1$?\n\nSolution:";
  CHECK(prompt.compare(prompt.size() - tail.size(), tail.size(), tail) == 0);
}

TEST_CASE("minerva_math: loaders read the 5000 test problems", "[tasks][math]") {
  const std::vector<size_t> expected = {1187, 474, 479, 903, 540, 871, 546};  // MANIFEST subject counts
  const auto tasks = tasks_named({"minerva_math"});
  size_t total = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const DocSplit split = tasks[i].load_eval(kData);
    CHECK(split.docs.size() == expected[i]);
    CHECK(split.files.size() == split.docs.size());
    total += split.docs.size();
  }
  CHECK(total == 5000);
  const DocSplit algebra = tasks[0].load_eval(kData);
  const Doc& first = algebra.docs.at(0);  // algebra/1.json: "... the graph has $\boxed{2}$ vertical asymptotes."
  CHECK(fs::path(algebra.files.at(0).path).filename() == "1.json");
  CHECK(first.at("answer") == "2");
  CHECK(tasks[0].doc_to_references(first) == std::vector<std::string>{"2"});
  CHECK(tasks[0].doc_to_target(first) == "2");
  CHECK(tasks[0].doc_to_text(first).rfind("Problem:\nHow many vertical asymptotes", 0) == 0);
}

TEST_CASE("minerva_math: extraction and scoring", "[tasks][math]") {
  const auto all = tasks_named({"minerva_math"});
  const TaskSpec& t = all.front();
  const auto score = [&](const std::string& generation, const std::string& reference) {
    const FilterOutcome outcome = apply_filter(t, 0, generation);
    return t.metrics[0].score(outcome.text, {reference});
  };
  CHECK(apply_filter(t, 0, " So $x=5$.\nFinal Answer: The final answer is $5$. I hope it is correct.").text == "5");
  CHECK(score("Final Answer: The final answer is $\\dfrac{1}{2}$. I hope it is correct.", "\\frac{1}{2}") == 1.0);
  CHECK(score("Final Answer: The final answer is $0.5$. I hope it is correct.", "\\frac{1}{2}") == 1.0);
  CHECK(score("Final Answer: The final answer is $x = 10,000$. ", "10000") == 1.0);
  CHECK(score("Final Answer: The final answer is $7$. I hope it is correct.", "8") == 0.0);
  // lm-eval's is_equiv: algebra decides, and what parse_latex cannot parse is never equal.
  CHECK(score("Final Answer: The final answer is $(x+1)^2$. I hope it is correct.", "x^2+2x+1") == 1.0);
  CHECK(score("Final Answer: The final answer is $(2,5)$. I hope it is correct.", "(2,5)") == 0.0);
  // Cut inside the sentinel sentence: no ". I hope it is correct." can be completed.
  CHECK(score("Final Answer: The final answer is $5$. I hope", "5") == 0.0);
  const FilterOutcome invalid = apply_filter(t, 0, "The answer is \\boxed{5}.");
  CHECK(invalid.text == "[invalidanswer]");
  CHECK(invalid.fell_back);
  CHECK(t.metrics[0].score(invalid.text, {"5"}) == 0.0);
}

TEST_CASE("minerva_math: bad problem files fail naming the file", "[tasks][math]") {
  const auto all = tasks_named({"minerva_math"});
  const TaskSpec& t = all.front();  // algebra
  test::TempDir dir;
  const fs::path folder = dir.path / "math" / "MATH" / "test" / "algebra";
  write_file(folder / "1.json", R"({"problem": "p", "level": "Level 1", "type": "Algebra"})");
  CHECK_THAT(load_error(t.load_eval, dir.path), Contains("1.json:1: field \"solution\": missing"));
  write_file(folder / "1.json", R"({"problem": "p", "level": "Level 1", "type": "Algebra", "solution": "no box"})");
  CHECK_THAT(load_error(t.load_eval, dir.path), Contains("1.json:1: field \"solution\": no closed \\boxed"));
  write_file(folder / "1.json",
             R"({"problem": "p", "level": "Level 1", "type": "Algebra", "solution": "$\\boxed{3}$"})");
  CHECK(t.load_eval(dir.path).docs.at(0).at("answer") == "3");
  write_file(folder / "notes.json", "{}");
  CHECK_THAT(load_error(t.load_eval, dir.path), Contains("notes.json: expected <number>.json"));
  CHECK_THAT(load_error(t.load_eval, dir.path / "nowhere"), Contains("no such MATH subject folder"));
}

// ------------------------------------------------------------- MGSM (lm-eval lm_eval/tasks/mgsm/native_cot/*@4e7e0d47)

TEST_CASE("mgsm: 11 native-CoT tasks with lm-eval's settings", "[tasks][mgsm]") {
  const auto tasks = tasks_named({"mgsm_cot_native"});
  REQUIRE(tasks.size() == 11);
  REQUIRE(tasks::mgsm_languages().size() == 11);
  for (size_t i = 0; i < tasks.size(); ++i) {
    const TaskSpec& t = tasks[i];
    const auto& language = tasks::mgsm_languages()[i];
    CHECK(t.name == std::string("mgsm_native_cot_") + language.code);
    CHECK(t.groups == std::vector<std::string>{"mgsm_cot_native"});
    CHECK(t.default_shots == 0);
    CHECK_FALSE(t.load_fewshot);
    CHECK(t.until == std::vector<std::string>{language.question, "</s>", "<|im_end|>"});
    REQUIRE(t.filters.size() == 2);
    CHECK(t.filters[0].name == "strict-match");
    CHECK(t.filters[1].name == "flexible-extract");
    CHECK(t.metrics.at(0).exact_match.ignore_case);
    CHECK(t.metrics.at(0).exact_match.ignore_punctuation);
  }
}

TEST_CASE("mgsm: en renders lm-eval's train and test docs", "[tasks][mgsm]") {
  const auto all = tasks_named({"mgsm_cot_native"});
  const TaskSpec& en = find_task(all, "mgsm_native_cot_en");
  const Doc train = {{"question",
                      "Question: Roger has 5 tennis balls. He buys 2 more cans of tennis balls. Each can has 3 "
                      "tennis balls. How many tennis balls does he have now?"},
                     {"answer",
                      "Step-by-Step Answer: Roger started with 5 balls. 2 cans of 3 tennis balls each is 6 "
                      "tennis balls. 5 + 6 = 11. The answer is 11."},
                     {"answer_number", "11"}};
  CHECK(
      en.doc_to_text(train) ==
      "Question: Roger has 5 tennis balls. He buys 2 more cans of tennis balls. Each can has 3 tennis balls. How many "
      "tennis balls does he have now?\nStep-by-Step Answer:");
  CHECK(en.doc_to_target(train) ==
        "Roger started with 5 balls. 2 cans of 3 tennis balls each is 6 tennis balls. 5 + 6 = 11. The answer is 11.");
  const Doc test = {{"question", "Janet has 2 cats. How many cats?"}, {"answer", nullptr}, {"answer_number", "2"}};
  CHECK(en.doc_to_text(test) == "Question: Janet has 2 cats. How many cats?\nStep-by-Step Answer:");
  CHECK(en.doc_to_target(test) == "2");
  // The answer lead is sliced by code points: "Schritt-für-Schritt-Antwort:" has a 2-byte "ü".
  const TaskSpec& de = find_task(all, "mgsm_native_cot_de");
  CHECK(de.doc_to_target(Doc{{"question", "Frage: q"}, {"answer", "Schritt-für-Schritt-Antwort: Weil 5."}}) ==
        "Weil 5.");
  CHECK(de.doc_to_text(test) == "Frage: Janet has 2 cats. How many cats?\nSchritt-für-Schritt-Antwort:");
}

TEST_CASE("mgsm: loaders read 250 problems per language", "[tasks][mgsm]") {
  for (const TaskSpec& t : tasks_named({"mgsm_cot_native"})) {
    const DocSplit split = t.load_eval(kData);
    CHECK(split.docs.size() == 250);
    CHECK(split.files.at(0).rows == 250);
  }
  const auto all = tasks_named({"mgsm_cot_native"});
  const TaskSpec& en = find_task(all, "mgsm_native_cot_en");
  const DocSplit split = en.load_eval(kData);
  CHECK(split.files.at(0).sha256 == "50021d0f28cc957edcb44e7806425b1c7fbd648ddcb9e0a8ec689d10e57d40fa");
  CHECK(split.docs.at(0).at("question").get<std::string>().rfind("Janet\xE2\x80\x99s ducks lay 16 eggs per day.", 0) ==
        0);
  CHECK(en.doc_to_references(split.docs.at(0)) == std::vector<std::string>{"18"});
  // Four answers carry thousands separators in the TSVs; lm-eval's answer_number is the integer.
  size_t separated = 0;
  for (const Doc& doc : split.docs)
    separated += doc.at("answer_number") == "2125" || doc.at("answer_number") == "114200";
  CHECK(separated == 2);
}

TEST_CASE("mgsm: strict and flexible extraction", "[tasks][mgsm]") {
  const auto all = tasks_named({"mgsm_cot_native"});
  const auto strict = [&](const std::string& name, const std::string& response) {
    return apply_filter(find_task(all, name), 0, response).text;
  };
  CHECK(strict("mgsm_native_cot_en", "5 + 6 = 11. The answer is 11.") == "11.");  // "." is in the class
  CHECK(strict("mgsm_native_cot_de", "Die Antwort lautet 1,250.") == "1,250.");
  CHECK(strict("mgsm_native_cot_ja", "16 - 3 - 4 = 9。答えは18です。") == "18");
  CHECK(strict("mgsm_native_cot_zh", "所以答案是 18。") == "18");
  CHECK(strict("mgsm_native_cot_bn", "The answer is 7") == "7");
  CHECK(strict("mgsm_native_cot_ru", "Ответ — 42.") == "42.");
  CHECK(strict("mgsm_native_cot_fr", "The answer is 3.") == "[invalid]");  // native pattern only
  const TaskSpec& en = find_task(all, "mgsm_native_cot_en");
  CHECK(apply_filter(en, 1, "So 18 - 2 = 16 eggs per day, 16 * 2 = $32").text == "$32");
  // EM ignores case and punctuation: "1,250." matches the integer reference.
  CHECK(scorers::exact_match("2,125.", {"2125"}, en.metrics.at(0).exact_match) == 1.0);
}

TEST_CASE("mgsm: bad rows fail naming file and line", "[tasks][mgsm]") {
  const auto all = tasks_named({"mgsm_cot_native"});
  const TaskSpec& en = find_task(all, "mgsm_native_cot_en");
  test::TempDir dir;
  write_file(dir.path / "mgsm" / "mgsm_en.tsv", "q one\t3\nq two\tmany\n");
  CHECK_THAT(load_error(en.load_eval, dir.path),
             Contains("mgsm_en.tsv:2: field \"answer_number\": expected an integer"));
  write_file(dir.path / "mgsm" / "mgsm_en.tsv", "q one\t3\nno tab here\n");
  CHECK_THAT(load_error(en.load_eval, dir.path), Contains("mgsm_en.tsv:2: expected 2 tab-separated columns"));
  write_file(dir.path / "mgsm" / "mgsm_en.tsv", "q\t1\t2\n");
  CHECK_THAT(load_error(en.load_eval, dir.path), Contains("mgsm_en.tsv:1:"));
  write_file(dir.path / "mgsm" / "mgsm_en.tsv", "q one\t1,000\n");
  CHECK(en.load_eval(dir.path).docs.at(0).at("answer_number") == "1000");
  CHECK_THAT(load_error(en.load_eval, dir.path / "missing"), Contains("mgsm_en.tsv"));
}

// ---------------------------------------------------------------- AGIEval (lm-eval lm_eval/tasks/agieval/*@4e7e0d47)

TEST_CASE("agieval: 21 subsets in lm-eval's groups with the CSV's shot counts", "[tasks][agieval]") {
  const auto tasks = tasks_named({"agieval"});
  REQUIRE(tasks.size() == 21);
  size_t english = 0;
  for (const TaskSpec& t : tasks) {
    CHECK(t.name.rfind("agieval_", 0) == 0);
    REQUIRE(t.groups.size() == 2);
    CHECK(t.groups[1] == "agieval");
    english += t.groups[0] == "agieval_en";
    CHECK(t.sampler == ShotSampler::FirstN);
    if (t.name == "agieval_gaokao_geography") {  // its demonstrations merge the options: 0-shot
      CHECK(t.default_shots == 0);
      CHECK_FALSE(t.load_fewshot);
      continue;
    }
    // The card's "3-5-shot": every demonstration the CSV holds for the dataset.
    CHECK(t.load_fewshot(kData).docs.size() == static_cast<size_t>(t.default_shots));
    CHECK(t.default_shots >= 3);
    CHECK(t.default_shots <= 5);
  }
  CHECK(english == 10);
  const TaskSpec& math = find_task(tasks, "agieval_math");
  CHECK(math.output_type == OutputType::GenerateUntil);
  CHECK(math.until == std::vector<std::string>{"Q:"});
  CHECK(math.metrics.at(0).name == "acc");
  const TaskSpec& lsat = find_task(tasks, "agieval_lsat_ar");
  CHECK(lsat.output_type == OutputType::MultipleChoice);
  REQUIRE(lsat.metrics.size() == 2);
  CHECK(lsat.metrics[1].name == "acc_norm");
}

TEST_CASE("agieval: queries are AGIEval's zero-shot prompts", "[tasks][agieval]") {
  const auto tasks = tasks_named({"agieval"});
  test::TempDir dir;
  write_file(
      dir.path / "agieval" / "v1" / "lsat-ar.jsonl",
      R"({"passage": "Six runners race.", "question": "Who wins?", "options": ["(A)Ann", "(B)Bo"], "label": "B", )"
      R"("answer": null, "other": null})"
      "\n");
  const TaskSpec& lsat = find_task(tasks, "agieval_lsat_ar");
  const Doc doc = lsat.load_eval(dir.path).docs.at(0);
  CHECK(lsat.doc_to_text(doc) ==
        "Six runners race.Q: Who wins? Answer Choices: (A)Ann (B)Bo\nA: Among A through B, the answer is");
  CHECK(lsat.doc_to_choice(doc) == std::vector<std::string>{"(A)Ann", "(B)Bo"});
  CHECK(lsat.doc_to_gold(doc) == 1);
  CHECK(lsat.doc_to_target(doc) == "(B)Bo");

  write_file(dir.path / "agieval" / "v1" / "logiqa-zh.jsonl",
             R"({"passage": null, "question": "谁？", "options": ["(A)甲", "(B)乙", "(C)丙", "(D)丁"], "label": "C"})"
             "\n");
  const TaskSpec& logiqa = find_task(tasks, "agieval_logiqa_zh");
  CHECK(logiqa.doc_to_text(logiqa.load_eval(dir.path).docs.at(0)) ==
        "问题：谁？ 选项：(A)甲 (B)乙 (C)丙 (D)丁\n答案：从A到D, 我们应选择");

  write_file(dir.path / "agieval" / "v1" / "math.jsonl",
             R"({"passage": null, "question": "What is $1+1$?", "options": null, "label": null, "answer": "2"})"
             "\n");
  const TaskSpec& math = find_task(tasks, "agieval_math");
  const Doc cloze = math.load_eval(dir.path).docs.at(0);
  CHECK(math.doc_to_text(cloze) == "Q: What is $1+1$?\nA: The answer is");
  CHECK(math.doc_to_references(cloze) == std::vector<std::string>{"2"});
}

TEST_CASE("agieval: several correct options count the argmax when it is any of them", "[tasks][agieval]") {
  const auto tasks = tasks_named({"agieval"});
  test::TempDir dir;
  write_file(dir.path / "agieval" / "v1" / "jec-qa-kd.jsonl",
             R"({"passage": null, "question": "哪些正确？", )"
             R"("options": ["(A)甲", "(B)乙", "(C)丙", "(D)丁"], "label": ["B", "D"]})"
             "\n"
             R"({"passage": null, "question": "哪个？", "options": ["(A)甲", "(B)乙"], "label": ["E"]})"
             "\n");
  const TaskSpec& jec = find_task(tasks, "agieval_jec_qa_kd");
  CHECK(jec.groups.front() == "agieval_cn");
  CHECK_THAT(gemma::test::error_of([&] { jec.load_eval(dir.path); }),
             Contains("jec-qa-kd.jsonl:2") && Contains("label"));
  write_file(dir.path / "agieval" / "v1" / "jec-qa-kd.jsonl",
             R"({"passage": null, "question": "哪些正确？", )"
             R"("options": ["(A)甲", "(B)乙", "(C)丙", "(D)丁"], "label": ["B", "D"]})"
             "\n");
  const Doc doc = jec.load_eval(dir.path).docs.at(0);
  CHECK(jec.doc_to_golds(doc) == std::vector<int>{1, 3});
  CHECK(jec.doc_to_gold(doc) == 1);  // what a shot shows
  CHECK(jec.doc_to_target(doc) == "(B)乙");
  // The real data: 520 of jec-qa-kd's 1000 rows have several correct options.
  const auto real = jec.load_eval(kData).docs;
  CHECK(real.size() == 1000);
  CHECK(std::count_if(real.begin(), real.end(), [&](const Doc& d) { return jec.doc_to_golds(d).size() > 1; }) == 520);
  // Line 212 lists no correct option: kept, and scored 0 whatever the model picks (as lm-eval does).
  CHECK(jec.doc_to_golds(real.at(211)).empty());
  CHECK(find_task(tasks, "agieval_gaokao_physics").load_fewshot(kData).docs.size() == 5);
}

TEST_CASE("agieval: loaders read the v1 files and the CSV demonstrations", "[tasks][agieval]") {
  const std::vector<std::pair<const char*, size_t>> counts = {{"agieval_aqua_rat", 254},
                                                              {"agieval_gaokao_english", 306},
                                                              {"agieval_logiqa_en", 651},
                                                              {"agieval_lsat_ar", 230},
                                                              {"agieval_lsat_lr", 510},
                                                              {"agieval_lsat_rc", 269},
                                                              {"agieval_math", 1000},
                                                              {"agieval_sat_en", 206},
                                                              {"agieval_sat_en_without_passage", 206},
                                                              {"agieval_sat_math", 220},
                                                              {"agieval_gaokao_biology", 210},
                                                              {"agieval_gaokao_chemistry", 207},
                                                              {"agieval_gaokao_chinese", 246},
                                                              {"agieval_gaokao_geography", 199},
                                                              {"agieval_gaokao_history", 235},
                                                              {"agieval_gaokao_mathcloze", 118},
                                                              {"agieval_logiqa_zh", 651}};
  const auto tasks = tasks_named({"agieval"});
  for (const auto& [name, rows] : counts) CHECK(find_task(tasks, name).load_eval(kData).docs.size() == rows);

  const TaskSpec& sat_math = find_task(tasks, "agieval_sat_math");
  const Doc first = sat_math.load_eval(kData).docs.at(0);  // MANIFEST's example row, label D
  CHECK(sat_math.doc_to_text(first).rfind(
            "Q: If $\\frac{x-1}{3}=k$ and $k=3$, what is the value of $x ?$ Answer Choices: (A)2 (B)4", 0) == 0);
  CHECK(sat_math.doc_to_gold(first) == 3);

  // Demonstrations: Python literals with escapes; sat-en-without-passage drops sat-en's passages.
  const DocSplit with_passage = find_task(tasks, "agieval_sat_en").load_fewshot(kData);
  const DocSplit without = find_task(tasks, "agieval_sat_en_without_passage").load_fewshot(kData);
  REQUIRE(with_passage.docs.size() == 3);
  REQUIRE(without.docs.size() == 3);
  CHECK(with_passage.docs[0].at("query").get<std::string>().rfind("Solar panel installations", 0) == 0);
  CHECK(without.docs[0].at("query").get<std::string>().rfind("Q: ", 0) == 0);
  const DocSplit history = find_task(tasks, "agieval_gaokao_history").load_fewshot(kData);
  CHECK_THAT(history.docs.at(0).at("query").get<std::string>(), Contains("\xE3\x80\x80"));  // '\u3000' decoded
  const DocSplit math = find_task(tasks, "agieval_math").load_fewshot(kData);
  REQUIRE(math.docs.size() == 4);
  CHECK(math.docs[0].at("answer").get<std::string>().rfind("[2,5", 0) == 0);
}

TEST_CASE("agieval: bad rows and demonstrations fail naming file and line", "[tasks][agieval]") {
  const auto tasks = tasks_named({"agieval"});
  const TaskSpec& lsat = find_task(tasks, "agieval_lsat_ar");
  test::TempDir dir;
  const fs::path rows = dir.path / "agieval" / "v1" / "lsat-ar.jsonl";
  write_file(rows, R"({"passage": "", "question": "q", "options": ["(A)x", "(B)y"], "label": "A"})"
                   "\n"
                   R"({"passage": "", "question": "q", "options": ["(A)x", "(B)y"], "label": "E"})"
                   "\n");
  CHECK_THAT(load_error(lsat.load_eval, dir.path), Contains("lsat-ar.jsonl:2: field \"label\""));
  write_file(rows, R"({"passage": "", "options": ["(A)x"], "label": "A"})"
                   "\n");
  CHECK_THAT(load_error(lsat.load_eval, dir.path), Contains("lsat-ar.jsonl:1: field \"question\": missing"));

  const fs::path csv = dir.path / "agieval" / "few_shot_prompts.csv";
  write_file(csv,
             ",lsat-ar\nsample 1,\"{'passage': 'p', 'question': 'q', 'options': ['(A)x'], 'label': 'A'}\"\n"
             "explanation 1,because\nsample 2,\"{'passage': 'p', 'question': 'q'\"\n");
  CHECK_THAT(load_error(lsat.load_fewshot, dir.path), Contains("few_shot_prompts.csv:4: not a Python literal"));
  write_file(csv,
             ",lsat-ar\nsample 1,\"{'passage': 'p\\n\\'x\\'', 'question': 'q', 'options': ['(A)x'], 'label': 'A'}\"\n");
  const DocSplit demos = lsat.load_fewshot(dir.path);
  REQUIRE(demos.docs.size() == 1);
  CHECK(demos.docs[0].at("query").get<std::string>().rfind("p\n'x'Q: q", 0) == 0);
  write_file(csv, ",aqua-rat\n");
  CHECK_THAT(load_error(lsat.load_fewshot, dir.path), Contains("few_shot_prompts.csv:1: no column \"lsat-ar\""));
}

TEST_CASE("agieval: math answers as lm-eval normalises them", "[tasks][agieval][math]") {
  using scorers::agieval_is_equiv;
  using scorers::agieval_parse_math_answer;
  CHECK(agieval_is_equiv(std::string("\\boxed{10}"), std::string("10")));
  CHECK(agieval_is_equiv(std::string("$5$"), std::string("5")));
  CHECK(agieval_is_equiv(std::string("10\\%"), std::string("10")));
  CHECK(agieval_is_equiv(std::string("x = 3"), std::string("3")));
  CHECK(agieval_is_equiv(std::string("\\left(1,2\\right)"), std::string("(1,2)")));
  CHECK_FALSE(agieval_is_equiv(std::string("\\frac{1}{2}"), std::string("0.5")));  // parses to "2"
  CHECK_FALSE(agieval_is_equiv(std::string("1/2"), std::string("\\frac12")));
  CHECK(agieval_is_equiv(std::nullopt, std::nullopt));
  CHECK_FALSE(agieval_is_equiv(std::string("1"), std::nullopt));

  CHECK(agieval_parse_math_answer("so \\boxed{y = 4}") == "4");
  CHECK(agieval_parse_math_answer("\\boxed{4") == std::nullopt);
  CHECK(agieval_parse_math_answer("it is $x$ and $y = 7$.") == "7");  // last line span: "x$ and $y = 7"
  CHECK(agieval_parse_math_answer("so x = 12.") == "12");
  CHECK(agieval_parse_math_answer("x = 3\\n4") == "3");  // a literal backslash-n
  CHECK(agieval_parse_math_answer("about 3 apples, then 4.5") == "4.5");
  CHECK(agieval_parse_math_answer("12abc 7") == "7");             // no number runs into a word
  CHECK(agieval_parse_math_answer("答案是 5。") == "5");          // CJK punctuation is no \w
  CHECK(agieval_parse_math_answer("答案是5个") == std::nullopt);  // CJK letters are \w
  CHECK(agieval_parse_math_answer("no digits") == std::nullopt);

  const auto all = tasks_named({"agieval"});
  const TaskSpec& math = find_task(all, "agieval_math");
  CHECK(math.metrics[0].score(" $\\frac{3}{4}$", {"\\frac{3}{4}"}) == 1.0);
  CHECK(math.metrics[0].score(" 7", {"8"}) == 0.0);
}

// -------------------------------- MMLU-Pro (lm-eval lm_eval/tasks/mmlu_pro/{_default_template_yaml,utils.py}@4e7e0d47)

namespace {

// A row in the published TIGER-Lab/MMLU-Pro layout (one JSON object per line).
std::string mmlu_pro_row(int id, const std::string& category, const std::string& answer, int index,
                         const std::string& cot = "") {
  return Doc{{"question_id", id},
             {"question", "What is 2+2?"},
             {"options", {"3", " 4 ", "5", "6"}},
             {"answer", answer},
             {"answer_index", index},
             {"cot_content", cot},
             {"category", category},
             {"src", "ori_mmlu-elementary_mathematics"}}
             .dump() +
         "\n";
}

}  // namespace

TEST_CASE("mmlu_pro: 14 category tasks with lm-eval's settings", "[tasks][mmlu_pro]") {
  const auto tasks = tasks_named({"mmlu_pro"});
  REQUIRE(tasks.size() == 14);
  const TaskSpec& cs = find_task(tasks, "mmlu_pro_computer_science");
  CHECK(cs.description ==
        "The following are multiple choice questions (with answers) about computer science. Think step by step and "
        "then finish your answer with \"the answer is (X)\" where X is the correct letter choice.\n");
  for (const TaskSpec& t : tasks) {
    CHECK(t.groups == std::vector<std::string>{"mmlu_pro"});
    CHECK(t.default_shots == 5);
    CHECK(t.sampler == ShotSampler::FirstN);
    CHECK(t.until == std::vector<std::string>{"Question:"});
    CHECK(t.max_gen_toks == 2048);
    CHECK(t.filters.at(0).name == "custom-extract");
    CHECK(t.metrics.at(0).exact_match.ignore_case);
    CHECK(t.metrics.at(0).exact_match.ignore_punctuation);
  }
}

TEST_CASE("mmlu_pro: shot and eval doc rendering as lm-eval's", "[tasks][mmlu_pro]") {
  const auto tasks = tasks_named({"mmlu_pro"});
  const TaskSpec& math = find_task(tasks, "mmlu_pro_math");
  const Doc shot = {{"question", "What is 2+2?"},
                    {"options", {"3", "4", "5", "6"}},
                    {"cot_content", "A: Let's think step by step. Basic arithmetic gives 4."}};
  const std::string user = math.doc_to_text(shot);
  CHECK(user == "Question:\nWhat is 2+2?\nOptions:\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer: Let's think step by step.");
  CHECK(math.doc_to_target(shot) == "Basic arithmetic gives 4.");
  const Doc eval = {{"question", "What is 3+3?"}, {"options", {" 6 ", "7"}}, {"answer", "A"}};
  CHECK(gemma::test::render_prompt(math, {shot}, eval) ==
        math.description + user +
            " Basic arithmetic gives 4.\n\nQuestion:\nWhat is 3+3?\nOptions:\nA. 6\nB. 7\n"
            "Answer: Let's think step by step.");
  CHECK(math.doc_to_references(eval) == std::vector<std::string>{"A"});
}

TEST_CASE("mmlu_pro: custom-extract vectors", "[tasks][mmlu_pro]") {
  const auto tasks = tasks_named({"mmlu_pro"});
  const TaskSpec& t = tasks.front();
  CHECK(apply_filter(t, 0, "... so the answer is (B).").text == "B");
  CHECK(apply_filter(t, 0, "The answer is C").text == "C");
  CHECK(apply_filter(t, 0, "answer is (J) and then answer is (A)").text == "J");
  CHECK(apply_filter(t, 0, "I think B").text == "[invalid]");
  CHECK(scorers::exact_match("b", {"B"}, t.metrics[0].exact_match) == 1.0);
}

TEST_CASE("mmlu_pro: loaders keep their category in both splits", "[tasks][mmlu_pro]") {
  const auto tasks = tasks_named({"mmlu_pro"});
  const TaskSpec& math = find_task(tasks, "mmlu_pro_math");
  const TaskSpec& cs = find_task(tasks, "mmlu_pro_computer_science");
  test::TempDir dir;
  write_file(
      dir.path / "mmlu_pro" / "test.jsonl",
      mmlu_pro_row(1, "math", "B", 1) + mmlu_pro_row(2, "computer science", "A", 0) + mmlu_pro_row(3, "math", "D", 3));
  write_file(dir.path / "mmlu_pro" / "validation.jsonl",
             mmlu_pro_row(10, "math", "B", 1, "A: Let's think step by step. Four. The answer is (B).") +
                 mmlu_pro_row(11, "computer science", "A", 0, "A: Let's think step by step. The answer is (A)."));
  const DocSplit test = math.load_eval(dir.path);
  REQUIRE(test.docs.size() == 2);
  CHECK(test.files.at(0).rows == 2);
  CHECK(math.doc_to_references(test.docs[1]) == std::vector<std::string>{"D"});
  CHECK(math.doc_to_text(test.docs[0]).find("B. 4\n") != std::string::npos);  // options are stripped
  CHECK(cs.load_eval(dir.path).docs.size() == 1);
  const DocSplit shots = math.load_fewshot(dir.path);
  REQUIRE(shots.docs.size() == 1);
  CHECK(math.doc_to_target(shots.docs[0]) == "Four. The answer is (B).");
}

TEST_CASE("mmlu_pro: bad rows fail naming file and line", "[tasks][mmlu_pro]") {
  const auto tasks = tasks_named({"mmlu_pro"});
  const TaskSpec& math = find_task(tasks, "mmlu_pro_math");
  test::TempDir dir;
  const fs::path file = dir.path / "mmlu_pro" / "test.jsonl";
  write_file(file, mmlu_pro_row(1, "math", "B", 1) + mmlu_pro_row(2, "math", "K", 1));
  CHECK_THAT(load_error(math.load_eval, dir.path), Contains("test.jsonl:2: field \"answer\""));
  write_file(file, mmlu_pro_row(1, "math", "B", 2));
  CHECK_THAT(load_error(math.load_eval, dir.path), Contains("test.jsonl:1: field \"answer_index\": does not match"));
  write_file(file, R"({"question": "q", "options": [], "answer": "A", "answer_index": 0, "category": "math"})"
                   "\n");
  CHECK_THAT(load_error(math.load_eval, dir.path), Contains("test.jsonl:1: field \"options\""));
  CHECK_THAT(load_error(math.load_eval, dir.path / "missing"), Contains("test.jsonl"));
}

// ----------------------------------------- GPQA (lm-eval lm_eval/tasks/gpqa/{n_shot,generative,cot_n_shot}/*@4e7e0d47)

namespace {

// Rows in the published gpqa_<config>.csv layout (a header row; the loader reads columns by name).
std::string gpqa_csv(const std::vector<std::array<std::string, 5>>& rows) {
  std::string csv =
      "Pre-Revision Question,Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,"
      "Incorrect Answer 3,Explanation,High-level domain\n";
  for (const auto& r : rows)
    csv += "old,\"" + r[0] + "\",\"" + r[1] + "\",\"" + r[2] + "\",\"" + r[3] + "\",\"" + r[4] + "\",because,Physics\n";
  return csv;
}

}  // namespace

TEST_CASE("gpqa: multiple-choice and generative variants for 3 configs", "[tasks][gpqa]") {
  const auto tasks = tasks_named({"gpqa"});
  REQUIRE(tasks.size() == 6);
  for (const char* config : {"main", "diamond", "extended"}) {
    const TaskSpec& mc = find_task(tasks, std::string("gpqa_") + config + "_n_shot");
    const TaskSpec& gen = find_task(tasks, std::string("gpqa_") + config + "_generative_n_shot");
    CHECK(mc.output_type == OutputType::MultipleChoice);
    CHECK(gen.output_type == OutputType::GenerateUntil);
    for (const TaskSpec* t : {&mc, &gen}) {
      CHECK(t->default_shots == 5);
      CHECK(t->sampler == ShotSampler::Random);
      CHECK(t->sampler_gets_eval_doc);
      CHECK(t->groups == std::vector<std::string>{"gpqa"});
    }
    CHECK(mc.metrics.size() == 2);
    CHECK(gen.until == std::vector<std::string>{"</s>", "Question:", "<|im_end|>"});
    REQUIRE(gen.filters.size() == 2);
    CHECK(gen.filters[0].name == "strict-match");
    CHECK(gen.filters[1].name == "flexible-extract");
  }
}

TEST_CASE("gpqa: choices shuffled by random.Random(42) in file order", "[tasks][gpqa]") {
  const auto tasks = tasks_named({"gpqa"});
  const TaskSpec& mc = find_task(tasks, "gpqa_main_n_shot");
  test::TempDir dir;
  write_file(dir.path / "gpqa" / "gpqa_main.csv", gpqa_csv({{"Q0?", "r0", "w01", "w02", "w03"},
                                                            {"Q1?", "r1", "w11", "w12", "w13"},
                                                            {"Q2?", " r2 ", "w21", "w22", "w23"}}));
  const DocSplit split = mc.load_eval(dir.path);
  REQUIRE(split.docs.size() == 3);
  // Python: rng = random.Random(42); rng.shuffle([inc1, inc2, inc3, correct]) per doc.
  CHECK(split.docs[0].at("choices") == Doc{"w03", "w02", "r0", "w01"});
  CHECK(split.docs[1].at("choices") == Doc{"r1", "w13", "w11", "w12"});
  CHECK(split.docs[2].at("choices") == Doc{"w22", "r2", "w23", "w21"});
  CHECK(mc.doc_to_gold(split.docs[0]) == 2);
  CHECK(mc.doc_to_target(split.docs[0]) == "(C)");
  CHECK(mc.doc_to_text(split.docs[0]) == "Question: Q0?\nChoices:\n(A) w03\n(B) w02\n(C) r0\n(D) w01\nAnswer:");
  CHECK(mc.description ==
        "Here are some example questions from experts. Answer the final question yourself, following the format of "
        "the previous questions exactly.\n");

  const TaskSpec& gen = find_task(tasks, "gpqa_main_generative_n_shot");
  const Doc doc = gen.load_eval(dir.path).docs.at(1);
  CHECK(gen.doc_to_target(doc) == "The answer is (A).");
  CHECK(gen.doc_to_references(doc) == std::vector<std::string>{"(A)"});
}

TEST_CASE("gpqa: generative preprocessing of the answer texts", "[tasks][gpqa]") {
  const auto tasks = tasks_named({"gpqa"});
  test::TempDir dir;
  write_file(dir.path / "gpqa" / "gpqa_diamond.csv", gpqa_csv({{"Q?", "a [title] b", "c [x1] d", "e", ""}}));
  const Doc gen = find_task(tasks, "gpqa_diamond_generative_n_shot").load_eval(dir.path).docs.at(0);
  const auto choices = gen.at("choices").get<std::vector<std::string>>();
  CHECK(std::count(choices.begin(), choices.end(), "a.  b") == 0);
  CHECK(std::count(choices.begin(), choices.end(), "a. b") == 1);  // ". " then "  " -> " "
  CHECK(std::count(choices.begin(), choices.end(), "c d") == 1);   // "[x1]" removed
  CHECK(std::count(choices.begin(), choices.end(), " ") == 1);     // an empty cell is None -> " "
  const Doc mc = find_task(tasks, "gpqa_diamond_n_shot").load_eval(dir.path).docs.at(0);
  const auto raw = mc.at("choices").get<std::vector<std::string>>();
  CHECK(std::count(raw.begin(), raw.end(), "a [title] b") == 1);  // n_shot only strips
}

TEST_CASE("gpqa: strict and flexible extraction", "[tasks][gpqa]") {
  const auto tasks = tasks_named({"gpqa"});
  const TaskSpec& gen = find_task(tasks, "gpqa_main_generative_n_shot");
  CHECK(apply_filter(gen, 0, "Thus The answer is (B).").text == "(B)");
  CHECK(apply_filter(gen, 0, "the answer is (B).").text == "[invalid]");  // case-sensitive
  CHECK(apply_filter(gen, 1, "(A) looks wrong; I pick (C), final.").text == "(C)");
  CHECK(apply_filter(gen, 1, "Answer: B").text == "(B)");  // lm-eval mmlu_pro: ": B" -> "(B)"
  CHECK(apply_filter(gen, 1, "Answer:\n  D because").text == "(D)");
  const FilterOutcome none = apply_filter(gen, 1, "alpha");  // the choice-text step is not ported
  CHECK(none.text == "[invalid]");
  CHECK(none.fell_back);
  CHECK(scorers::exact_match("(b)", {"(B)"}, gen.metrics.at(0).exact_match) == 1.0);
}

TEST_CASE("gpqa: bad files fail naming file and line", "[tasks][gpqa]") {
  const auto tasks = tasks_named({"gpqa"});
  const TaskSpec& mc = find_task(tasks, "gpqa_main_n_shot");
  test::TempDir dir;
  write_file(dir.path / "gpqa" / "gpqa_main.csv",
             "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2\nq,a,b,c\n");
  CHECK_THAT(load_error(mc.load_eval, dir.path), Contains("gpqa_main.csv:1: no \"Incorrect Answer 3\" column"));
  write_file(dir.path / "gpqa" / "gpqa_main.csv", gpqa_csv({{"Q?", "r", "w1", "w2", "w3"}}) + "only,three,fields\n");
  CHECK_THAT(load_error(mc.load_eval, dir.path), Contains("gpqa_main.csv:3: expected 8 columns, got 3"));
  CHECK_THAT(load_error(mc.load_eval, dir.path / "missing"), Contains("gpqa_main.csv"));
}
