// Task adapters and the registry: rendered prompt pieces against the lm-eval task configs (lm_eval/tasks/@4e7e0d47)
// and the SHA-256 of prompts lm-eval renders (lm_eval/api/task.py::fewshot_context), the TaskSpec settings the
// evaluator relies on, and name resolution.
#include <catch2/catch.hpp>

#include "tests/support/task_fixtures.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "common/error.h"
#include "common/python_text.h"
#include "common/sha256.h"
#include "evals/aggregation.h"
#include "evals/task_registry.h"
#include "evals/tasks/hellaswag.h"
#include "evals/tasks/text.h"

using namespace gemma;
using namespace gemma::evals;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const fs::path& kData = gemma::test::kSharedData;
const fs::path& kSamples = gemma::test::kBundledSamples;

const TaskSpec& task(const std::string& name) { return gemma::test::task_named(name); }

std::string error_of(const std::string& name) {
  try {
    resolve_tasks(name);
  } catch (const gemma::Error& e) {
    return e.what();
  }
  FAIL("expected a gemma::Error for " << name);
  return "";
}

}  // namespace

// -------------------------------------- HellaSwag (lm-eval lm_eval/tasks/hellaswag/{hellaswag.yaml,utils.py}@4e7e0d47)

TEST_CASE("hellaswag: preprocess vectors", "[tasks][hellaswag]") {
  using tasks::hellaswag_preprocess;
  CHECK(hellaswag_preprocess("How to make tea [title] Boil water. [step] Pour it.") ==
        "How to make tea. Boil water. Pour it.");
  // strip first; "[...]" removed lazily; then ONE pass of "  " -> " " (four spaces become two).
  CHECK(hellaswag_preprocess("  a [x] [y]  b \n") == "a  b");
  CHECK(hellaswag_preprocess("a    b") == "a  b");
  // Python's re "." stops at a newline, so a bracket pair spanning lines stays.
  CHECK(hellaswag_preprocess("x [a\nb] y [c] z") == "x [a\nb] y z");
}

TEST_CASE("hellaswag: query, choices and gold of a processed doc", "[tasks][hellaswag]") {
  const Doc row = {
      {"activity_label", "Removing ice from car"},
      {"ctx_a",
       "Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles."},
      {"ctx_b", "then"},
      {"endings", {", the man adds wax.", "[step] Pour  it.", " c ", "d"}},
      {"label", "3"},
  };
  const Doc doc = tasks::hellaswag_process_doc(row, {"x.jsonl", 1});
  const TaskSpec& t = task("hellaswag");
  CHECK(t.doc_to_text(doc) ==
        "Removing ice from car: Then, the man writes over the snow covering the window of a car, and a woman "
        "wearing winter clothes smiles. Then");
  // Markers are removed after the strip, so "[step] Pour  it." keeps a leading space, as in lm-eval.
  CHECK(t.doc_to_choice(doc) == std::vector<std::string>{", the man adds wax.", " Pour it.", "c", "d"});
  CHECK(t.doc_to_gold(doc) == 3);
  CHECK(t.doc_to_target(doc) == "d");
  CHECK(doc.at("activity_label") == "Removing ice from car");  // the published fields stay

  // capitalize() lowers the rest: "They Walk" -> "They walk" (sample val row 3).
  const DocSplit val = t.load_eval(kSamples);
  CHECK(t.doc_to_text(val.docs.at(0)) == t.doc_to_text(doc));
  CHECK(t.doc_to_text(val.docs.at(3)) ==
        "Walking the dog: A woman clips a leash onto the collar of a small dog. They walk");
  // A WikiHow row: markers gone, double space collapsed, empty ctx_b leaves a trailing-space-free query.
  CHECK(t.doc_to_text(val.docs.at(2)) ==
        "Home and Garden: How to repot a plant. Choose a bigger pot. Pick a pot a few centimetres wider than the "
        "old one.");
  CHECK(t.doc_to_choice(val.docs.at(2)).at(2) ==
        " Loosen the roots. Gently tease the root ball apart before placing it in fresh soil.");
}

TEST_CASE("python string helpers", "[tasks][text]") {
  CHECK(tasks::py_capitalize("then") == "Then");
  CHECK(tasks::py_capitalize("tHE DOG") == "The dog");
  CHECK(tasks::py_capitalize("\xC3\xA9lan") == "\xC3\x89lan");  // élan -> Élan
  CHECK(tasks::py_capitalize("") == "");
  CHECK(gemma::replace_all("a    b", "  ", " ") == "a  b");
  CHECK(gemma::replace_all("xx", "x", "yy") == "yyyy");
}

// ---------------------- WinoGrande (lm-eval lm_eval/tasks/winogrande/{default.yaml,preprocess_winogrande.py}@4e7e0d47)

TEST_CASE("winogrande: contexts, shared target, gold", "[tasks][winogrande]") {
  const TaskSpec& t = task("winogrande");
  CHECK(t.multiple_inputs);
  const Doc doc = {{"sentence", "Sarah was a much better surgeon than Maria so _ always got the harder cases."},
                   {"option1", "Sarah"},
                   {"option2", "Maria"},
                   {"answer", "1"}};
  CHECK(t.doc_to_choice(doc) == std::vector<std::string>{"Sarah was a much better surgeon than Maria so Sarah",
                                                         "Sarah was a much better surgeon than Maria so Maria"});
  CHECK(t.doc_to_target(doc) == "always got the harder cases.");
  CHECK(t.doc_to_gold(doc) == 0);
  CHECK(t.doc_to_text(doc) == "Sarah was a much better surgeon than Maria so Sarah");

  Doc second = doc;
  second["answer"] = "2";
  CHECK(t.doc_to_gold(second) == 1);
  CHECK(t.doc_to_text(second) == "Sarah was a much better surgeon than Maria so Maria");
  // A shot renders as gold context + " " + target + "\n\n".
  CHECK(gemma::test::render_prompt(t, {second}, doc) ==
        "Sarah was a much better surgeon than Maria so Maria always got the harder cases.\n\n"
        "Sarah was a much better surgeon than Maria so Sarah");

  const DocSplit dev = t.load_eval(kSamples);
  CHECK(dev.docs.at(0).at("sentence") == doc.at("sentence"));
  CHECK(t.doc_to_target(dev.docs.at(0)) == "always got the harder cases.");
}

// ---------------------------------------------------------------- templates on real first rows

TEST_CASE("boolq: template on the first validation row", "[tasks][boolq]") {
  const TaskSpec& t = task("boolq");
  const Doc doc = t.load_eval(kData).docs.at(0);
  const std::string passage = doc.at("passage");
  CHECK(passage.rfind("Ethanol fuel -- All biomass", 0) == 0);
  CHECK(t.doc_to_text(doc) == passage + "\nQuestion: does ethanol take more energy make that produces?\nAnswer:");
  CHECK(t.doc_to_choice(doc) == std::vector<std::string>{"no", "yes"});
  CHECK(t.doc_to_gold(doc) == 0);
  CHECK(t.doc_to_target(doc) == "no");
}

TEST_CASE("piqa: template on the first validation row", "[tasks][piqa]") {
  const TaskSpec& t = task("piqa");
  const Doc doc = t.load_eval(kData).docs.at(0);
  CHECK(t.doc_to_text(doc) == "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
  const auto choices = t.doc_to_choice(doc);
  REQUIRE(choices.size() == 2);
  CHECK(choices[0].rfind("Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper",
                         0) == 0);
  CHECK(choices[1].find("ripped jeans material") != std::string::npos);
  CHECK(t.doc_to_gold(doc) == 0);
}

TEST_CASE("arc: template, gold for letter and numeric labels", "[tasks][arc]") {
  const TaskSpec& t = task("arc_challenge");
  const DocSplit test = t.load_eval(kData);
  const Doc& first = test.docs.at(0);
  CHECK(t.doc_to_text(first) ==
        "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most "
        "likely effect of this increase in rotation?\nAnswer:");
  CHECK(t.doc_to_choice(first).size() == 4);
  CHECK(t.doc_to_gold(first) == 2);  // answerKey "C"
  CHECK(t.doc_to_target(first) == "Planetary days will become shorter.");

  // Row 44 labels its choices "1".."4" with answerKey "2": gold is the position (1), not the value.
  const Doc& numeric = test.docs.at(44);
  CHECK(numeric.at("id") == "NYSEDREGENTS_2008_8_34");
  CHECK(numeric.at("choices").at("label") == Doc({"1", "2", "3", "4"}));
  CHECK(t.doc_to_gold(numeric) == 1);
  CHECK(t.doc_to_target(numeric) == "Kinetic energy increases and potential energy decreases.");

  // Every doc's gold indexes its own choices (3- and 5-choice rows included).
  for (const Doc& doc : test.docs) {
    const int gold = t.doc_to_gold(doc);
    REQUIRE(gold >= 0);
    REQUIRE(gold < static_cast<int>(t.doc_to_choice(doc).size()));
  }
}

TEST_CASE("social_iqa: template and gold", "[tasks][siqa]") {
  const TaskSpec& t = task("social_iqa");
  const Doc doc = t.load_eval(kSamples).docs.at(2);
  CHECK(t.doc_to_text(doc) ==
        "Q: Jordan baked a cake for his friend's birthday and wrote her name on it in icing. How would Jordan's "
        "friend feel as a result?\nA:");
  CHECK(t.doc_to_choice(doc) == std::vector<std::string>{"ignored", "grateful", "angry"});
  CHECK(doc.at("label") == "2");
  CHECK(t.doc_to_gold(doc) == 1);
  CHECK(t.doc_to_target(doc) == "grateful");
}

// ---------------------------------------------------------------- MMLU (lm-eval lm_eval/tasks/mmlu/default/*@4e7e0d47;
// the prompt lm-eval renders (lm_eval/api/task.py::fewshot_context@4e7e0d47))

TEST_CASE("mmlu: template on a real row, description", "[tasks][mmlu]") {
  const TaskSpec& t = task("mmlu_abstract_algebra");
  const Doc doc = t.load_eval(kData).docs.at(0);
  CHECK(t.doc_to_text(doc) ==
        "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\n"
        "A. 0\nB. 4\nC. 2\nD. 6\nAnswer:");
  CHECK(t.doc_to_choice(doc) == std::vector<std::string>{"A", "B", "C", "D"});
  CHECK(t.doc_to_gold(doc) == 1);
  CHECK(t.doc_to_target(doc) == "B");
  CHECK(t.description == "The following are multiple choice questions (with answers) about abstract algebra.\n\n");
  CHECK(task("mmlu_high_school_us_history").description ==
        "The following are multiple choice questions (with answers) about high school us history.\n\n");
}

TEST_CASE("mmlu: the synthetic 1-shot prompt lm-eval renders", "[tasks][mmlu]") {
  const TaskSpec& t = task("mmlu_anatomy");
  const Doc shot = {{"question", "What is the largest organ of the human body?"},
                    {"subject", "anatomy"},
                    {"choices", {"Heart", "Skin", "Liver", "Brain"}},
                    {"answer", 1}};
  const Doc eval = {{"question", " Which bone is in the arm? "},
                    {"subject", "anatomy"},
                    {"choices", {"Femur", "Tibia", "Humerus", "Fibula"}},
                    {"answer", 2}};
  CHECK(t.doc_to_text(eval) == "Which bone is in the arm?\nA. Femur\nB. Tibia\nC. Humerus\nD. Fibula\nAnswer:");
  CHECK(gemma::test::render_prompt(t, {shot}, eval) ==
        "The following are multiple choice questions (with answers) about anatomy.\n\nWhat is the largest organ "
        "of the human body?\nA. Heart\nB. Skin\nC. Liver\nD. Brain\nAnswer: B\n\nWhich bone is in the arm?\nA. "
        "Femur\nB. Tibia\nC. Humerus\nD. Fibula\nAnswer:");
}

// ---------------------------------------------------------------- GSM8K (lm-eval
// lm_eval/tasks/gsm8k/{gsm8k.yaml,gsm8k-cot.yaml}@4e7e0d47; the prompt lm-eval renders
// (lm_eval/api/task.py::fewshot_context@4e7e0d47))

TEST_CASE("gsm8k: prompt, shot target, references, generation settings", "[tasks][gsm8k]") {
  const TaskSpec& t = task("gsm8k");
  CHECK(t.output_type == OutputType::GenerateUntil);
  const Doc doc = t.load_eval(kData).docs.at(0);
  const std::string question = doc.at("question");
  CHECK(t.doc_to_text(doc) == "Question: " + question + "\nAnswer:");
  CHECK(question.rfind("Janet\xE2\x80\x99s ducks lay 16 eggs per day.", 0) == 0);
  CHECK(t.doc_to_target(doc) == doc.at("answer").get<std::string>());  // the full worked answer
  CHECK(t.doc_to_references(doc) == std::vector<std::string>{doc.at("answer").get<std::string>()});
  CHECK(t.until == std::vector<std::string>{"Question:", "</s>", "<|im_end|>"});
  CHECK(t.max_gen_toks == 256);
  REQUIRE(t.filters.size() == 2);
  CHECK(t.filters[0].name == "strict-match");
  CHECK(t.filters[0].steps.at(0).pattern == "#### (\\-?[0-9\\.\\,]+)");
  CHECK(t.filters[1].name == "flexible-extract");
  CHECK(t.filters[1].steps.at(0).group_select == -1);
  REQUIRE(t.metrics.size() == 1);
  CHECK(t.metrics[0].name == "exact_match");
  CHECK(t.metrics[0].exact_match.ignore_case);
  CHECK_FALSE(t.metrics[0].exact_match.ignore_punctuation);
  CHECK(t.metrics[0].exact_match.regexes_to_ignore == std::vector<std::string>{",", "\\$", "(?s).*#### ", "\\.$"});
  // Every pattern must compile in RE2, which the filters and scorer use.
  for (const char* name : {"gsm8k", "gsm8k_cot"}) {
    for (const auto& pipeline : task(name).filters)
      for (const auto& step : pipeline.steps)
        if (step.kind == FilterStep::Kind::Regex) CHECK(RE2(step.pattern).ok());
    for (const auto& pattern : task(name).metrics[0].exact_match.regexes_to_ignore) CHECK(RE2(pattern).ok());
  }
}

TEST_CASE("gsm8k_cot: the 8 fixed exemplars render lm-eval's prompt", "[tasks][gsm8k]") {
  const TaskSpec& t = task("gsm8k_cot");
  CHECK(t.sampler == ShotSampler::FirstN);
  const DocSplit shots = t.load_fewshot(fs::path("/nonexistent"));  // needs no data
  REQUIRE(shots.docs.size() == 8);
  const Doc eval = {{"question", "Tom has 3 apples and buys 4 more. How many apples does he have?"},
                    {"answer", "#### 7"}};
  const std::string prompt = gemma::test::render_prompt(t, shots.docs, eval);
  CHECK(prompt.size() == 2210);
  CHECK(sha256_hex(prompt) == "37bb7e92c37cfeb3d7493edaa715567e553b40e2a2059285dc016e6539e14a31");
  const std::string tail =
      "23 - 15 is 8. The answer is 8.\n\nQ: Tom has 3 apples and buys 4 more. How many apples does he have?\nA:";
  CHECK(prompt.compare(prompt.size() - tail.size(), tail.size(), tail) == 0);
  CHECK(prompt.rfind("Q: There are 15 trees in the grove.", 0) == 0);

  // Dataset docs: the reference is answer.split('####')[-1].strip().
  const Doc real = t.load_eval(kData).docs.at(0);
  CHECK(t.doc_to_references(real) == std::vector<std::string>{"18"});
  CHECK(t.doc_to_target(Doc{{"question", "q"}, {"answer", "a #### b ####  42 "}}) == "42");
  CHECK(t.doc_to_target(Doc{{"question", "q"}, {"answer", "x #####5"}}) == "#5");  // Python's split
  CHECK(t.until == std::vector<std::string>{"Q:", "</s>", "<|im_end|>"});
  CHECK(t.filters.at(0).steps.at(0).pattern == "The answer is (\\-?[0-9\\.\\,]+).");
}

// ---------------------------------------------------------------- settings the evaluator relies on

TEST_CASE("tasks: shots, samplers, splits and metrics", "[tasks]") {
  struct Expect {
    const char* name;
    int shots;
    ShotSampler sampler;
    bool gets_eval_doc;
    std::vector<std::string> metrics;
  };
  const std::vector<Expect> expected = {
      {"hellaswag", 10, ShotSampler::Random, true, {"acc", "acc_norm"}},
      {"boolq", 0, ShotSampler::Random, true, {"acc"}},
      {"piqa", 0, ShotSampler::Random, true, {"acc", "acc_norm"}},
      {"social_iqa", 0, ShotSampler::Random, true, {"acc"}},
      {"arc_easy", 0, ShotSampler::Random, false, {"acc", "acc_norm"}},
      {"arc_challenge", 25, ShotSampler::Random, false, {"acc", "acc_norm"}},
      {"winogrande", 5, ShotSampler::Random, true, {"acc"}},
      {"mmlu_anatomy", 5, ShotSampler::FirstN, false, {"acc"}},
      {"gsm8k", 8, ShotSampler::Random, false, {"exact_match"}},
      {"gsm8k_cot", 8, ShotSampler::FirstN, false, {"exact_match"}},
      {"text_perplexity", 0, ShotSampler::Random, false, {"word_perplexity", "byte_perplexity", "bits_per_byte"}},
  };
  for (const auto& e : expected) {
    INFO(e.name);
    const TaskSpec& t = task(e.name);
    CHECK(t.default_shots == e.shots);
    CHECK(t.sampler == e.sampler);
    CHECK(t.sampler_gets_eval_doc == e.gets_eval_doc);
    std::vector<std::string> metrics;
    for (const auto& m : t.metrics) metrics.push_back(m.name);
    CHECK(metrics == e.metrics);
  }
  for (const TaskSpec& t : builtin_tasks()) {
    INFO(t.name);
    CHECK(static_cast<bool>(t.load_eval));
    // A loglikelihood_rolling task scores doc_to_target alone (lm-eval's construct_requests): no prompt.
    if (t.output_type != OutputType::LoglikelihoodRolling) CHECK(static_cast<bool>(t.doc_to_text));
    // lmms-eval's image tasks are zero-shot, with no shot split, and Gemma 3's wrapper drops the default
    // "\n\n" stop: generation ends at EOS or max_new_tokens.
    const bool image_task = static_cast<bool>(t.doc_to_images);
    if (image_task) {
      CHECK(t.default_shots == 0);
    } else {
      if (t.default_shots > 0) CHECK(static_cast<bool>(t.load_fewshot));  // WMT24++ has no shot split
      CHECK(static_cast<bool>(t.doc_to_target));
    }
    if (t.output_type == OutputType::MultipleChoice) {
      CHECK(static_cast<bool>(t.doc_to_choice));
      CHECK(static_cast<bool>(t.doc_to_gold));
    } else if (t.output_type == OutputType::GenerateUntil) {
      CHECK(static_cast<bool>(t.doc_to_references));
      if (!image_task) CHECK_FALSE(t.until.empty());
    } else {
      CHECK_NOTHROW(check_task_spec(t));  // the log-likelihood kinds: lm-eval's metrics of their kind only
    }
  }
}

// ---------------------------------------------------------------- registry

TEST_CASE("registry: MMLU groups follow lm-eval's categories", "[tasks][registry]") {
  const auto all = resolve_tasks("mmlu");
  REQUIRE(all.size() == 57);
  std::set<std::string> names;
  for (const TaskSpec* t : all) names.insert(t->name);
  CHECK(names.size() == 57);
  CHECK(resolve_tasks("mmlu_stem").size() == 19);
  CHECK(resolve_tasks("mmlu_humanities").size() == 13);
  CHECK(resolve_tasks("mmlu_social_sciences").size() == 12);
  CHECK(resolve_tasks("mmlu_other").size() == 13);
  // lm-eval's _mmlu.yaml order: stem, other, social_sciences, humanities; alphabetical inside.
  CHECK(all.front()->name == "mmlu_abstract_algebra");
  CHECK(all[19]->name == "mmlu_business_ethics");
  CHECK(all.back()->name == "mmlu_world_religions");
  CHECK(task("mmlu_anatomy").groups == std::vector<std::string>{"mmlu_stem", "mmlu"});
  CHECK(task("mmlu_econometrics").groups == std::vector<std::string>{"mmlu_social_sciences", "mmlu"});
  CHECK(task("mmlu_formal_logic").groups == std::vector<std::string>{"mmlu_humanities", "mmlu"});
  CHECK(task("mmlu_virology").groups == std::vector<std::string>{"mmlu_other", "mmlu"});
  CHECK(resolve_tasks("mmlu") == resolve_tasks("mmlu"));  // stable
}

// Every task and group `gemma-eval --list-tasks` prints, in its order, against the checked-in list: a
// task family whose registration went missing (a TaskRegistration deleted, or the task files no longer
// linked whole into this program) or any change of order (which would reorder every results file) fails
// here. After deliberately adding, renaming or removing a task, regenerate the list with
//   ./build/gemma-eval --list-tasks > tests/data/task_names.txt
// and check that its diff shows that change and nothing else.
TEST_CASE("registry: every task and group, in the checked-in order", "[tasks][registry]") {
  const fs::path golden = fs::path(GEMMA_TEST_SOURCE_DIR) / "tests" / "data" / "task_names.txt";
  std::ifstream in(golden);
  REQUIRE(in.good());
  std::vector<std::string> expected;
  for (std::string line; std::getline(in, line);) expected.push_back(line);
  const std::vector<std::string> actual = list_task_names(/*include_groups=*/true);
  size_t same = 0;
  while (same < expected.size() && same < actual.size() && expected[same] == actual[same]) ++same;
  INFO("first difference at line " << same + 1 << " of " << golden.string() << ": expected "
                                   << (same < expected.size() ? expected[same] : "(end of list)") << ", got "
                                   << (same < actual.size() ? actual[same] : "(end of list)"));
  CHECK(same == expected.size());
  CHECK(actual.size() == expected.size());
}

TaskSpec spec_named(const char* name) {
  TaskSpec t;
  t.name = name;
  return t;
}

std::vector<std::string> names_of(const std::vector<TaskSpec>& tasks) {
  std::vector<std::string> names;
  for (const TaskSpec& t : tasks) names.push_back(t.name);
  return names;
}

TEST_CASE("registry: families run in key order, not registration order; shared keys and names fail",
          "[tasks][registry]") {
  const TaskMaker a_and_b = [] { return std::vector<TaskSpec>{spec_named("a"), spec_named("b")}; };
  const SingleTaskMaker c = [] { return spec_named("c"); };
  const SingleTaskMaker a_again = [] { return spec_named("a"); };
  CHECK(names_of(make_registered_tasks({{300, nullptr, c}, {100, a_and_b, nullptr}})) ==
        std::vector<std::string>{"a", "b", "c"});
  CHECK(make_registered_tasks({}).empty());
  CHECK_THAT(gemma::test::error_of([&] {
               make_registered_tasks({{100, a_and_b, nullptr}, {100, nullptr, c}});
             }),
             Contains("share the order key 100"));
  CHECK_THAT(gemma::test::error_of([&] {
               make_registered_tasks({{200, nullptr, a_again}, {100, a_and_b, nullptr}});
             }),
             Contains("task \"a\" is registered twice (order keys 100 and 200)"));
}

TEST_CASE("registry: names, listing and unknown names", "[tasks][registry]") {
  const auto tasks_only = list_task_names(false);
  const auto with_groups = list_task_names(true);
  // The tasks first, in builtin_tasks() order, then the groups, sorted; no name twice.
  REQUIRE(with_groups.size() > tasks_only.size());
  CHECK(std::equal(tasks_only.begin(), tasks_only.end(), with_groups.begin()));
  CHECK(std::is_sorted(with_groups.begin() + tasks_only.size(), with_groups.end()));
  CHECK(std::set<std::string>(with_groups.begin(), with_groups.end()).size() == with_groups.size());
  for (const char* name :
       {"hellaswag", "boolq", "piqa", "social_iqa", "arc_easy", "arc_challenge", "winogrande", "gsm8k", "gsm8k_cot"})
    CHECK(resolve_tasks(name).at(0)->name == name);

  CHECK_THAT(error_of("mmlu_anatomyy"), Contains("unknown task or group \"mmlu_anatomyy\"") &&
                                            Contains("mmlu_anatomy") && Contains("--list-tasks"));
  CHECK_THAT(error_of("hellaswg"), Contains("did you mean: hellaswag"));
  CHECK_THAT(error_of("arc"), Contains("arc_easy") && Contains("arc_challenge"));
  const std::string none = error_of("qqqqqqqq");
  CHECK_THAT(none, Contains("--list-tasks"));
  CHECK_THAT(none, !Contains("did you mean"));
}
