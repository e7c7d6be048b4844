// pass@k (HF evaluate metrics/code_eval (pass@k)) and the code tasks HumanEval (lm-eval
// lm_eval/tasks/humaneval/{humaneval.yaml,utils.py}@4e7e0d47) and MBPP (lm-eval
// lm_eval/tasks/mbpp/{mbpp.yaml,utils.py}@4e7e0d47): settings against lm-eval's YAML, the MBPP prompt against the
// SHA-256 of lm-eval's rendering, loaders on the real data, bad rows, and the pass@1 scorer running real reference
// solutions in the sandbox.
#include <catch2/catch.hpp>

#include "tests/support/task_fixtures.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "evals/tasks/code.h"
#include "scorers/pass_at_k.h"
#include "tests/support/temp_dir.h"

using namespace gemma;
using namespace gemma::evals;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const fs::path kData = gemma::test::kSharedData;
using gemma::test::task_named;

double score(const TaskSpec& t, const std::string& prediction, const Doc& doc) {
  REQUIRE(t.metrics.size() == 1);
  return t.metrics[0].score(prediction, t.doc_to_references(doc));
}

std::string load_error(const TaskSpec& t, const fs::path& dir) {
  try {
    t.load_eval(dir);
  } catch (const gemma::Error& e) {
    return e.what();
  }
  FAIL("expected a gemma::Error");
  return "";
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

// ---------------------------------------------------------------- pass@k (HF evaluate metrics/code_eval (pass@k))

TEST_CASE("pass_at_k: the unbiased estimator matches HF code_eval", "[scorers][pass_at_k]") {
  using scorers::pass_at_k;
  // Values from code_eval's estimate_pass_at_k (and 1 - comb(n-c, k) / comb(n, k)).
  CHECK(pass_at_k(10, 3, 1) == Approx(0.3));
  CHECK(pass_at_k(10, 3, 5) == Approx(0.9166666666666666));
  CHECK(pass_at_k(200, 13, 10) == Approx(0.4975511147306061));
  CHECK(pass_at_k(200, 13, 100) == Approx(0.9999194971988055));
  CHECK(pass_at_k(5, 0, 1) == 0.0);
  CHECK(pass_at_k(3, 2, 2) == 1.0);  // n - c < k
  CHECK(pass_at_k(1, 1, 1) == 1.0);  // greedy: pass@1 = c
  CHECK(pass_at_k(1, 0, 1) == 0.0);
  CHECK(scorers::mean_pass_at_k({{1, 1}, {1, 0}, {1, 1}, {1, 1}}, 1) == Approx(0.75));
  CHECK(scorers::mean_pass_at_k({{10, 3}, {5, 0}}, 1) == Approx(0.15));
  CHECK_THROWS_AS(pass_at_k(3, 1, 4), gemma::Error);  // fewer samples than k
  CHECK_THROWS_AS(pass_at_k(3, 4, 1), gemma::Error);
  CHECK_THROWS_AS(pass_at_k(3, 1, 0), gemma::Error);
  CHECK_THROWS_AS(scorers::mean_pass_at_k({}, 1), gemma::Error);
}

// -------------------------------------- HumanEval (lm-eval lm_eval/tasks/humaneval/{humaneval.yaml,utils.py}@4e7e0d47)

TEST_CASE("humaneval: lm-eval settings", "[tasks][humaneval]") {
  const TaskSpec t = task_named("humaneval");
  CHECK(t.name == "humaneval");
  CHECK(t.output_type == OutputType::GenerateUntil);
  CHECK(t.default_shots == 0);
  CHECK_FALSE(t.load_fewshot);
  CHECK(t.until == std::vector<std::string>{"\nclass", "\ndef", "\n#", "\nif", "\nprint"});
  CHECK(t.max_gen_toks == 1024);
  CHECK(t.executes_code);
  REQUIRE(t.filters.size() == 1);
  CHECK(t.filters[0].name == "create_test");
  REQUIRE(t.metrics.size() == 1);
  CHECK(t.metrics[0].name == "pass@1");
  CHECK(tasks::kProgramTimeoutSeconds == 3.0);
}

TEST_CASE("humaneval: the real gzip data loads and renders the prompt verbatim", "[tasks][humaneval]") {
  const TaskSpec t = task_named("humaneval");
  const DocSplit split = t.load_eval(kData);
  REQUIRE(split.docs.size() == 164);
  REQUIRE(split.files.size() == 1);
  CHECK(split.files[0].sha256 == "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef");
  CHECK(split.files[0].rows == 164);
  const Doc& first = split.docs[0];
  CHECK(first.at("task_id") == "HumanEval/0");
  CHECK(t.doc_to_text(first) == first.at("prompt").get<std::string>());
  CHECK(t.doc_to_text(first).rfind("from typing import List\n\n\ndef has_close_elements(", 0) == 0);
  const auto refs = t.doc_to_references(first);
  REQUIRE(refs.size() == 2);
  CHECK(refs[0] == first.at("prompt").get<std::string>());
  CHECK(refs[1] == first.at("test").get<std::string>() + "\ncheck(has_close_elements)");
  CHECK(split.docs[163].at("task_id") == "HumanEval/163");
}

TEST_CASE("humaneval: every canonical solution passes and wrong ones fail", "[tasks][humaneval][sandbox]") {
  const TaskSpec t = task_named("humaneval");
  const DocSplit split = t.load_eval(kData);
  int passed = 0;
  for (const Doc& doc : split.docs) {
    const double s = score(t, doc.at("canonical_solution").get<std::string>(), doc);
    if (s != 1.0) WARN("canonical solution failed: " << doc.at("task_id").get<std::string>());
    passed += s == 1.0;
  }
  CHECK(passed == 164);
  const Doc& first = split.docs[0];
  CHECK(score(t, "    return False\n", first) == 0.0);
  CHECK(score(t, "    return True\n", first) == 0.0);
  CHECK(score(t, "    syntax error here\n", first) == 0.0);
  // A completion that loops forever is a failure after the 3 s limit, not a hang.
  CHECK(score(t, "    while True:\n        pass\n", first) == 0.0);
}

TEST_CASE("humaneval and mbpp: a wrong program that exits early scores 0",
          "[tasks][humaneval][mbpp][sandbox][early_exit]") {
  // The six ways out before the test code has run (each scored 1.0 through `rescore` when exit status
  // 0 counted as a pass); the metric's score function is what run and rescore both call.
  const std::vector<std::string> early_exits = {
      "exit()\n",
      "import sys\nsys.exit(0)\n",
      "import os\nos._exit(0)\n",
      "raise SystemExit\n",
      "import atexit, os\natexit.register(os._exit, 0)\n",
      "import os, sys\nsys.excepthook = lambda *exc: os._exit(0)\n",
  };
  const TaskSpec humaneval = task_named("humaneval");
  const Doc problem = humaneval.load_eval(kData).docs.at(0);  // has_close_elements
  const TaskSpec mbpp = task_named("mbpp");
  const Doc task = mbpp.load_eval(kData).docs.at(0);  // 11: remove_Occ
  for (const std::string& exit_early : early_exits) {
    INFO(exit_early);
    CHECK(score(humaneval, "    return True\n" + exit_early, problem) == 0.0);
    CHECK(score(mbpp, "def remove_Occ(s, ch):\n    return s\n" + exit_early, task) == 0.0);
  }
  // The canonical / reference solutions still pass.
  CHECK(score(humaneval, problem.at("canonical_solution").get<std::string>(), problem) == 1.0);
  CHECK(score(mbpp, task.at("code").get<std::string>(), task) == 1.0);
}

TEST_CASE("humaneval: a plain jsonl is read too and bad rows name file and line", "[tasks][humaneval]") {
  const TaskSpec t = task_named("humaneval");
  gemma::test::TempDir dir;
  const std::string good =
      R"({"task_id": "HumanEval/0", "prompt": "def f():\n", "canonical_solution": "    return 1\n", )"
      R"("test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"})";
  write_text(dir.path / "humaneval" / "HumanEval.jsonl",
             good + "\n" + R"({"task_id": "HumanEval/1", "prompt": "x"})" + "\n");
  const std::string error = load_error(t, dir.path);
  CHECK_THAT(error, Contains("HumanEval.jsonl:2") && Contains("canonical_solution") && Contains("missing"));

  write_text(dir.path / "humaneval" / "HumanEval.jsonl", good + "\n");
  const DocSplit split = t.load_eval(dir.path);
  REQUIRE(split.docs.size() == 1);
  CHECK(score(t, "    return 1\n", split.docs[0]) == 1.0);
  CHECK(score(t, "    return 2\n", split.docs[0]) == 0.0);

  // A damaged gzip fails naming the file.
  fs::remove(dir.path / "humaneval" / "HumanEval.jsonl");
  const std::string gz = read_file(kData / "humaneval" / "HumanEval.jsonl.gz");
  write_text(dir.path / "humaneval" / "HumanEval.jsonl.gz", gz.substr(0, gz.size() / 2));
  CHECK_THAT(load_error(t, dir.path), Contains("HumanEval.jsonl.gz") && Contains("gzip"));
  CHECK_THAT(load_error(t, dir.path / "nowhere"), Contains("HumanEval.jsonl.gz"));
}

// ----------------------------------------------------- MBPP (lm-eval lm_eval/tasks/mbpp/{mbpp.yaml,utils.py}@4e7e0d47)

TEST_CASE("mbpp: lm-eval settings", "[tasks][mbpp]") {
  const TaskSpec t = task_named("mbpp");
  CHECK(t.name == "mbpp");
  CHECK(t.default_shots == 3);
  CHECK(t.sampler == ShotSampler::FirstN);
  CHECK_FALSE(t.sampler_gets_eval_doc);
  CHECK(t.target_delimiter.empty());
  CHECK(t.fewshot_delimiter == "\n\n");
  CHECK(t.until == std::vector<std::string>{"[DONE]"});
  CHECK(t.executes_code);
  REQUIRE(t.metrics.size() == 1);
  CHECK(t.metrics[0].name == "pass_at_1");
}

TEST_CASE("mbpp: the 3 fixed shots render lm-eval's prompt", "[tasks][mbpp]") {
  const TaskSpec t = task_named("mbpp");
  const DocSplit shots = t.load_fewshot(kData);
  REQUIRE(shots.docs.size() == 3);
  CHECK(shots.docs[0].at("task_id") == 2);
  CHECK(shots.docs[2].at("task_id") == 4);
  const Doc eval = {{"task_id", 0},
                    {"text", "Write a function to add two numbers."},
                    {"code", ""},
                    {"test_setup_code", ""},
                    {"test_list", {"assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(-1, 1) == 0"}}};
  const std::string prompt = gemma::test::render_prompt(t, shots.docs, eval);
  CHECK(prompt.size() == 1712);
  CHECK(sha256_hex(prompt) == "149f20296ed84610778ef34d1c26b7ca16702e496f7bb352f49c302a7bc8874d");
  CHECK(prompt.rfind("You are an expert Python programmer, and here is your task: Write a function to find the "
                     "similar elements from the given two tuple lists. Your code should pass these tests:\n\n",
                     0) == 0);
  const std::string tail =
      "Your code should pass these tests:\n\nassert add(1, 2) == 3\nassert add(0, 0) == 0\n"
      "assert add(-1, 1) == 0\n[BEGIN]\n";
  CHECK(prompt.compare(prompt.size() - tail.size(), tail.size(), tail) == 0);
  CHECK(t.doc_to_target(shots.docs[0]).find("\r\n") != std::string::npos);  // shot code keeps CRLF
  CHECK(t.doc_to_references(eval) ==
        std::vector<std::string>{"assert add(1, 2) == 3\nassert add(0, 0) == 0\nassert add(-1, 1) == 0"});
}

TEST_CASE("mbpp: the test split is task_ids 11 to 510 of the real data", "[tasks][mbpp]") {
  const TaskSpec t = task_named("mbpp");
  const DocSplit split = t.load_eval(kData);
  REQUIRE(split.docs.size() == 500);
  CHECK(split.docs.front().at("task_id") == 11);
  CHECK(split.docs.back().at("task_id") == 510);
  REQUIRE(split.files.size() == 1);
  CHECK(split.files[0].sha256 == "0b5e07b5b40fedd01c57b7c9177b79f8b2eebd72c304c928605d91a7237d2f33");
  CHECK(split.files[0].rows == 500);
  // Task 367 is the only test doc with setup code; it precedes the asserts.
  const Doc& with_setup = split.docs.at(367 - 11);
  REQUIRE(with_setup.at("task_id") == 367);
  CHECK(t.doc_to_references(with_setup).at(0).rfind("root = Node(1) \r\n", 0) == 0);
}

TEST_CASE("mbpp: reference code passes and wrong code fails in the sandbox", "[tasks][mbpp][sandbox]") {
  const TaskSpec t = task_named("mbpp");
  const DocSplit split = t.load_eval(kData);
  // The first 20 test tasks plus the one with setup code.
  std::vector<const Doc*> docs;
  for (size_t i = 0; i < 20; ++i) docs.push_back(&split.docs[i]);
  docs.push_back(&split.docs.at(367 - 11));
  for (const Doc* doc : docs) {
    INFO("task_id " << doc->at("task_id"));
    CHECK(score(t, doc->at("code").get<std::string>(), *doc) == 1.0);
  }
  const Doc& first = split.docs[0];  // 11: remove_Occ
  CHECK(score(t, "def remove_Occ(s, ch):\r\n    return s", first) == 0.0);
  CHECK(score(t, "def remove_Occ(s, ch):\n    while True:\n        pass", first) == 0.0);
  CHECK(score(t, "", first) == 0.0);  // NameError
}

TEST_CASE("mbpp: bad rows name file line and field", "[tasks][mbpp]") {
  const TaskSpec t = task_named("mbpp");
  gemma::test::TempDir dir;
  const std::string good =
      R"({"text": "t", "code": "def f():\n    return 1", "task_id": 11, "test_setup_code": "", )"
      R"("test_list": ["assert f() == 1", "assert f() == 1", "assert f() == 1"], "challenge_test_list": []})";
  write_text(dir.path / "mbpp" / "mbpp.jsonl",
             good + "\n" + good + "\n" +
                 R"({"text": "t", "code": "c", "task_id": 12, "test_setup_code": "", "test_list": ["a", "b"]})" + "\n");
  CHECK_THAT(load_error(t, dir.path), Contains("mbpp.jsonl:3") && Contains("test_list") && Contains("expected 3"));
  write_text(dir.path / "mbpp" / "mbpp.jsonl",
             good + "\n" + R"({"text": "t", "code": 5, "task_id": 12, "test_setup_code": "", "test_list": []})" + "\n");
  CHECK_THAT(load_error(t, dir.path), Contains("mbpp.jsonl:2") && Contains("\"code\": expected a string"));
  write_text(dir.path / "mbpp" / "mbpp.jsonl", good + "\n");
  CHECK(t.load_eval(dir.path).docs.size() == 1);
  CHECK_THROWS_WITH(t.load_fewshot(dir.path), Contains("mbpp.jsonl") && Contains("2, 3, 4"));
}

// Opt-in (hidden, about 20 s): every test-split reference solution. Task 123 (amicable numbers up to
// 9999) needs about 4 s of CPU, so it times out under code_eval's 3 s as it does in lm-eval.
TEST_CASE("mbpp: all reference solutions (slow)", "[.][mbpp_all]") {
  const TaskSpec t = task_named("mbpp");
  const DocSplit split = t.load_eval(kData);
  int passed = 0;
  for (const Doc& doc : split.docs) {
    const double s = score(t, doc.at("code").get<std::string>(), doc);
    if (s != 1.0) WARN("reference code failed: " << doc.at("task_id"));
    passed += s == 1.0;
  }
  CHECK(passed >= 499);
}
