// The choice-style vision adapters (evals/tasks/vision_choice*.cpp) against a fake Engine: each task
// reads a tiny sample written in its data layout (with small generated images), and the tests check
// the rendered prompt, the images per request, the answer extraction + metric on canned responses,
// --skip-bad-samples, and the errors for a missing image and a malformed row.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/error.h"
#include "evals/evaluator.h"
#include "evals/task_registry.h"
#include "tests/support/temp_dir.h"

using namespace gemma::evals;
namespace fs = std::filesystem;

namespace {

const std::string kImg = "<start_of_image>";

// Canned generations in request order; records every request.
class CannedEngine : public Engine {
 public:
  explicit CannedEngine(std::vector<std::string> responses) : responses_(std::move(responses)) {}
  std::vector<GenerationRequest> requests;

  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>&, EngineProgress*) override {
    FAIL("the vision choice tasks make no loglikelihood requests");
    return {};
  }
  std::vector<GenerationResult> generate_until(const std::vector<GenerationRequest>& batch, EngineProgress*) override {
    std::vector<GenerationResult> results;
    for (const GenerationRequest& request : batch) {
      requests.push_back(request);
      GenerationResult result;
      result.text = next_ < responses_.size() ? responses_[next_++] : "";
      results.push_back(result);
    }
    return results;
  }
  std::vector<LoglikelihoodResult> loglikelihood_rolling(const std::vector<RollingLoglikelihoodRequest>&,
                                                         EngineProgress*) override {
    FAIL("the vision choice tasks make no loglikelihood_rolling requests");
    return {};
  }
  std::string describe_json() const override { return "{}"; }

 private:
  std::vector<std::string> responses_;
  size_t next_ = 0;
};

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void write_image(const fs::path& path, int shade = 128) {
  fs::create_directories(path.parent_path());
  cv::Mat image(8, 12, CV_8UC3, cv::Scalar(shade, 255 - shade, 64));
  REQUIRE(cv::imwrite(path.string(), image));
}

EvalOptions image_options(bool skip_bad = false) {
  EvalOptions options;
  options.check_image = [](const std::string& path) {
    if (!fs::is_regular_file(path)) throw gemma::Error("image file not found: " + path);
  };
  options.skip_bad_samples = skip_bad;
  return options;
}

// The choice-style vision tasks: builtin_tasks() from ai2d (their first) to remi (their last).
std::vector<TaskSpec> vision_choice_tasks() {
  const std::vector<TaskSpec>& all = builtin_tasks();
  const auto first = std::find_if(all.begin(), all.end(), [](const TaskSpec& t) { return t.name == "ai2d"; });
  const auto last = std::find_if(first, all.end(), [](const TaskSpec& t) { return t.name == "remi"; });
  REQUIRE(last != all.end());
  return std::vector<TaskSpec>(first, last + 1);
}

const TaskSpec& task(const std::string& name) {
  static const std::vector<TaskSpec> tasks = vision_choice_tasks();
  for (const TaskSpec& t : tasks)
    if (t.name == name) return t;
  FAIL("no task " << name);
  throw 0;
}

double doc_metric(const TaskResult& result, size_t doc, const std::string& key) {
  return result.docs.at(doc).metrics.at(key);
}

std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const gemma::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("vision choice tasks: names, registry, zero-shot generation", "[vision-tasks]") {
  std::vector<std::string> names;
  for (const TaskSpec& t : vision_choice_tasks()) {
    names.push_back(t.name);
    CHECK(t.output_type == OutputType::GenerateUntil);
    CHECK(t.default_shots == 0);
    CHECK(static_cast<bool>(t.doc_to_images));
    CHECK(!t.load_fewshot);
    for (const MetricSpec& m : t.metrics) CHECK(!m.variant.empty());
  }
  for (const char* name : {"ai2d", "mmmu_val", "realworldqa", "tallyqa_simple", "tallyqa_complex", "countbenchqa",
                           "countbenchqa_bv", "blink_art_style", "blink_counting", "blink_visual_similarity",
                           "blink_multi_view_reasoning", "spatialsense", "remi"})
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
  CHECK(names.size() == 9 + 14);  // 14 BLINK subtasks
  CHECK(resolve_tasks("blink").size() == 14);
  CHECK(resolve_tasks("tallyqa").size() == 2);
  CHECK(resolve_tasks("mmmu_val").size() == 1);
}

TEST_CASE("ai2d: prompt, image, letter extraction, exact_match icase/ipunct", "[vision-tasks]") {
  gemma::test::TempDir dir;
  write_file(dir.path / "ai2d/test.jsonl",
             R"J({"question": "Which part absorbs water?", "options": ["leaf", "root", "stem"], "answer": "1", )J"
             R"J("image": "images/1.png"})J"
             "\n"
             R"J({"question": "Q2", "options": ["a", "b"], "answer": 0, "image": "images/2.png"})J"
             "\n"
             R"J({"question": "Q3", "options": ["a", "b", "c", "d"], "answer": "3", "image": "images/3.png"})J"
             "\n"
             R"J({"question": "Q4", "options": ["a", "b"], "answer": "1", "image": "images/4.png"})J"
             "\n");
  for (int i = 1; i <= 4; ++i) write_image(dir.path / "ai2d/images" / (std::to_string(i) + ".png"), i * 40);

  CannedEngine engine({"  B. root", "a", "The answer is D", "b."});
  const TaskResult result = evaluate_task(task("ai2d"), dir.path, engine, image_options());
  REQUIRE(engine.requests.size() == 4);
  CHECK(engine.requests[0].context == kImg +
                                          "Which part absorbs water?\nA. leaf\nB. root\nC. stem\n"
                                          "Answer with the option's letter from the given choices directly.");
  CHECK(engine.requests[0].images == std::vector<std::string>{(dir.path / "ai2d/images/1.png").string()});
  CHECK(engine.requests[0].max_gen_toks == 16);
  CHECK(engine.requests[0].until.empty());
  CHECK(doc_metric(result, 0, "exact_match,none") == 1.0);  // "  B. root" -> B
  CHECK(doc_metric(result, 1, "exact_match,none") == 1.0);  // "a" == "A" ignoring case
  CHECK(doc_metric(result, 2, "exact_match,none") == 0.0);  // no "X." at the start: the raw text is compared
  CHECK(doc_metric(result, 3, "exact_match,none") == 1.0);  // "b." -> "b" ignoring punctuation
  CHECK(result.metrics.at(0).value == Approx(0.75));
  CHECK(result.metric_variants.count("exact_match") == 1);

  SECTION("a missing image stops the task, or is skipped with --skip-bad-samples") {
    fs::remove(dir.path / "ai2d/images/3.png");
    CannedEngine again({"B", "A", "B"});
    const std::string error = error_of([&] { evaluate_task(task("ai2d"), dir.path, again, image_options()); });
    CHECK_THAT(error, Catch::Contains("doc 2") && Catch::Contains("3.png"));
    const TaskResult skipped = evaluate_task(task("ai2d"), dir.path, again, image_options(true));
    REQUIRE(skipped.skipped_docs.size() == 1);
    CHECK(skipped.skipped_docs[0].first == 2);
    CHECK(skipped.doc_ids == std::vector<int64_t>{0, 1, 3});
    CHECK(again.requests.size() == 3);
  }
  SECTION("a malformed row names file, line and field") {
    write_file(dir.path / "ai2d/test.jsonl",
               R"J({"question": "Q", "options": ["a", "b"], "answer": "0", "image": "images/1.png"})J"
               "\n"
               R"J({"question": "Q", "options": ["a", "b"], "answer": "2", "image": "images/1.png"})J"
               "\n");
    const std::string error = error_of([&] { task("ai2d").load_eval(dir.path); });
    CHECK_THAT(error, Catch::Contains("test.jsonl:2") && Catch::Contains("\"answer\""));
    write_file(dir.path / "ai2d/test.jsonl",
               R"J({"question": "Q", "options": ["a"], "answer": "0", "image": "../x.png"})J"
               "\n");
    CHECK_THAT(error_of([&] { task("ai2d").load_eval(dir.path); }),
               Catch::Contains("test.jsonl:1") && Catch::Contains("\"image\""));
  }
}

TEST_CASE("realworldqa: question as given, extract_mcq_answer for letters, plain match otherwise", "[vision-tasks]") {
  gemma::test::TempDir dir;
  const std::string question =
      "  Which object is closer?\nA. The car\nB. The tree\nPlease answer directly with only the letter of the correct "
      "option and nothing else.\n";
  nlohmann::json row = {{"question", question}, {"answer", "B"}, {"image", "0.webp"}};
  std::string rows = row.dump() + "\n";
  const std::vector<std::pair<std::string, std::string>> more = {
      {"A", "0.webp"}, {"C", "0.webp"}, {"3", "0.webp"}, {"Left", "0.webp"}};
  for (const auto& [answer, image] : more)
    rows += nlohmann::json{{"question", "Q"}, {"answer", answer}, {"image", image}}.dump() + "\n";
  write_file(dir.path / "realworldqa/test.jsonl", rows);
  write_image(dir.path / "realworldqa/0.webp");

  CannedEngine engine({"The answer is (B).", "B", "I think C: the lamp", "3.", "left"});
  const TaskResult result = evaluate_task(task("realworldqa"), dir.path, engine, image_options());
  REQUIRE(engine.requests.size() == 5);
  CHECK(engine.requests[0].context ==
        kImg +
            "Which object is closer?\nA. The car\nB. The tree\nPlease answer directly with only the letter of the "
            "correct option and nothing else.");
  CHECK(engine.requests[0].images.size() == 1);
  CHECK(doc_metric(result, 0, "exact_match,none") == 1.0);  // "(B)" / answer phrase -> B
  CHECK(doc_metric(result, 1, "exact_match,none") == 0.0);  // B != A
  CHECK(doc_metric(result, 2, "exact_match,none") == 1.0);  // "C:" -> C (the leading "I" is no choice)
  CHECK(doc_metric(result, 3, "exact_match,none") == 1.0);  // non-letter gold: "3." -> "3"
  CHECK(doc_metric(result, 4, "exact_match,none") == 1.0);  // case-insensitive
  write_file(dir.path / "realworldqa/test.jsonl", R"J({"question": "Q", "answer": 2, "image": "0.webp"})J"
                                                  "\n");
  CHECK_THAT(error_of([&] { task("realworldqa").load_eval(dir.path); }),
             Catch::Contains("test.jsonl:1") && Catch::Contains("\"answer\""));
}

TEST_CASE("blink: all images first, letter list in the note, leading-letter regex", "[vision-tasks]") {
  gemma::test::TempDir dir;
  const fs::path folder = dir.path / "blink/Visual_Similarity";
  write_file(folder / "val.jsonl",
             R"J({"idx": "val_Visual_Similarity_1", )J"
             R"J("prompt": "Which image is most similar to the reference?\nSelect from the following choices.\n)J"
             R"J((A) the second image\n(B) the third image", )J"
             R"J("choices": ["the second image", "the third image"], "answer": "(B)", "image_1": "r.png", )J"
             R"J("image_2": "s.png", "image_3": "t.png", "image_4": null, "sub_task": "Visual_Similarity"})J"
             "\n"
             R"J({"idx": "val_Visual_Similarity_2", "prompt": "P", "choices": ["a", "b", "c", "d"], "answer": "(D)", )J"
             R"J("image_1": "s.png", "image_2": null, "image_3": null, "image_4": null, )J"
             R"J("sub_task": "Visual_Similarity"})J"
             "\n"
             R"J({"idx": "val_Visual_Similarity_3", "prompt": "P", "choices": ["a", "b"], "answer": "(A)", )J"
             R"J("image_1": "s.png", "sub_task": "Visual_Similarity"})J"
             "\n");
  for (const char* name : {"r.png", "s.png", "t.png"}) write_image(folder / name);

  CannedEngine engine({"(b) The third image.", "D", "Both look alike"});
  const TaskResult result = evaluate_task(task("blink_visual_similarity"), dir.path, engine, image_options());
  REQUIRE(engine.requests.size() == 3);
  CHECK(engine.requests[0].context ==
        kImg + kImg + kImg +
            "Note: You only need to respond with A, B without providing any additional information.\n"
            "Which image is most similar to the reference?\nSelect from the following choices.\n(A) the second "
            "image\n(B) the third image");
  CHECK(engine.requests[0].images == std::vector<std::string>{(folder / "r.png").string(), (folder / "s.png").string(),
                                                              (folder / "t.png").string()});
  CHECK(engine.requests[0].max_gen_toks == 1024);
  CHECK(engine.requests[1].context ==
        kImg + "Note: You only need to respond with A, B, C, D without providing any additional information.\nP");
  CHECK(result.docs[0].extracted.at("flexible-extract") == "b");
  CHECK(doc_metric(result, 0, "blink_acc,flexible-extract") == 1.0);
  CHECK(doc_metric(result, 1, "blink_acc,flexible-extract") == 1.0);
  CHECK(doc_metric(result, 2, "blink_acc,flexible-extract") == 0.0);  // "Both" -> B, gold A
  CHECK(result.groups == std::vector<std::string>{"blink"});

  write_file(folder / "val.jsonl",
             R"J({"idx": "x", "prompt": "P", "choices": ["a", "b"], "answer": "(C)", "image_1": "s.png"})J"
             "\n");
  CHECK_THAT(error_of([&] { task("blink_visual_similarity").load_eval(dir.path); }),
             Catch::Contains("val.jsonl:1") && Catch::Contains("\"answer\""));
}

TEST_CASE("mmmu_val: referenced images in tag order, MMMU parsers (lmms-eval's vectors)", "[vision-tasks]") {
  gemma::test::TempDir dir;
  auto mc = [](const std::string& id, const std::string& answer) {
    return nlohmann::json{{"id", id},
                          {"question", "Which animal barks? <image 2> <image 1>"},
                          {"options", "['cat', 'dog', \"bird\", 'fish']"},
                          {"answer", answer},
                          {"question_type", "multiple-choice"},
                          {"image_1", "images/a.png"},
                          {"image_2", "images/b.png"},
                          {"image_3", nullptr}};
  };
  auto open = [](const std::string& id, const std::string& answer) {
    return nlohmann::json{{"id", id},
                          {"question", "<image 1> What is it?"},
                          {"options", "[]"},
                          {"answer", answer},
                          {"question_type", "open"},
                          {"image_1", "images/a.png"}};
  };
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {mc("validation_Art_1", "B"), "B"},
      {mc("validation_Art_2", "C"), "(C)"},
      {mc("validation_Art_3", "D"), "The answer is D."},
      {mc("validation_Art_4", "A"), "A. cat"},
      {mc("validation_Art_5", "B"), "I believe the correct option is dog because it barks a lot"},
      {mc("validation_Art_6", "C"), "B or C, probably C"},
      {mc("validation_Art_7", "A"), "no idea"},  // no candidate: wrong (never a random letter)
      {open("validation_Math_1", "3.14"), "The answer is 3.14"},
      {open("validation_Math_2", "5"), "x = 5.0"},
      {open("validation_Math_3", "Paris"), "It is in paris, france"},
      {open("validation_Math_4", "1234"), "so the total is 1,234 dollars"},
      {open("validation_Math_5", "7"), "The answer is 8"},
  };
  std::string rows;
  std::vector<std::string> responses;
  for (const auto& [row, response] : cases) rows += row.dump() + "\n", responses.push_back(response);
  write_file(dir.path / "mmmu/validation.jsonl", rows);
  write_image(dir.path / "mmmu/images/a.png", 10);
  write_image(dir.path / "mmmu/images/b.png", 200);

  CannedEngine engine(responses);
  const TaskResult result = evaluate_task(task("mmmu_val"), dir.path, engine, image_options());
  REQUIRE(engine.requests.size() == cases.size());
  CHECK(engine.requests[0].context ==
        kImg + kImg +
            "Which animal barks? <image 2> <image 1>\nA. cat\nB. dog\nC. bird\nD. fish\n\n"
            "Answer with the option's letter from the given choices directly.");
  CHECK(engine.requests[0].images ==
        std::vector<std::string>{(dir.path / "mmmu/images/a.png").string(), (dir.path / "mmmu/images/b.png").string()});
  CHECK(engine.requests[7].context ==
        kImg + "<image 1> What is it?\n\nAnswer the question using a single word or phrase.");
  CHECK(engine.requests[7].max_gen_toks == 128);
  const std::vector<double> expected = {1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0};
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("doc " << i << ": " << responses[i]);
    CHECK(doc_metric(result, i, "mmmu_acc,none") == expected[i]);
  }
  CHECK(result.metrics.at(0).value == Approx(10.0 / 12.0));

  SECTION("bad rows") {
    nlohmann::json row = mc("validation_Art_1", "B");
    row.erase("image_2");
    write_file(dir.path / "mmmu/validation.jsonl", mc("x", "A").dump() + "\n" + row.dump() + "\n");
    CHECK_THAT(error_of([&] { task("mmmu_val").load_eval(dir.path); }),
               Catch::Contains("validation.jsonl:2") && Catch::Contains("\"image_2\""));
    row = mc("validation_Art_1", "B");
    row["options"] = "['cat', 'dog'";
    write_file(dir.path / "mmmu/validation.jsonl", row.dump() + "\n");
    CHECK_THAT(error_of([&] { task("mmmu_val").load_eval(dir.path); }),
               Catch::Contains("validation.jsonl:1") && Catch::Contains("\"options\""));
  }
}

TEST_CASE("tallyqa: big_vision prefix, simple/complex subtasks, number words", "[vision-tasks]") {
  gemma::test::TempDir dir;
  const nlohmann::json rows = nlohmann::json::array({
      {{"image", "VG_100K/1.jpg"},
       {"answer", 3},
       {"data_source", "amt"},
       {"question", "How many dogs are there?"},
       {"image_id", 1},
       {"question_id", 10},
       {"issimple", true}},
      {{"image", "VG_100K/1.jpg"},
       {"answer", 0},
       {"question", "How many cats?"},
       {"question_id", 11},
       {"issimple", true}},
      {{"image", "val2014/COCO_val2014_000000000002.jpg"},
       {"answer", 2},
       {"question", "How many red cars are parked?"},
       {"question_id", 12},
       {"issimple", false}},
      {{"image", "VG_100K/1.jpg"}, {"answer", 4}, {"question", "How many?"}, {"question_id", 13}, {"issimple", true}},
  });
  write_file(dir.path / "tallyqa/test.json", rows.dump());
  write_image(dir.path / "tallyqa/VG_100K/1.jpg");
  write_image(dir.path / "tallyqa/val2014/COCO_val2014_000000000002.jpg");

  CannedEngine simple_engine({"Three", "none", " 4"});
  const TaskResult simple = evaluate_task(task("tallyqa_simple"), dir.path, simple_engine, image_options());
  REQUIRE(simple_engine.requests.size() == 3);
  CHECK(simple_engine.requests[0].context == kImg + "answer en How many dogs are there?");
  CHECK(simple_engine.requests[0].images == std::vector<std::string>{(dir.path / "tallyqa/VG_100K/1.jpg").string()});
  CHECK(doc_metric(simple, 0, "acc,none") == 1.0);  // "Three" -> 3
  CHECK(doc_metric(simple, 1, "acc,none") == 1.0);  // "none" -> 0
  CHECK(doc_metric(simple, 2, "acc,none") == 0.0);  // " 4": no strip in big_vision's evaluator
  CannedEngine complex_engine({"2"});
  const TaskResult complex = evaluate_task(task("tallyqa_complex"), dir.path, complex_engine, image_options());
  CHECK(complex.docs_total == 1);
  CHECK(doc_metric(complex, 0, "acc,none") == 1.0);

  nlohmann::json bad = rows;
  bad[2]["answer"] = "two";
  write_file(dir.path / "tallyqa/test.json", bad.dump());
  CHECK_THAT(error_of([&] { task("tallyqa_complex").load_eval(dir.path); }),
             Catch::Contains("test.json: [2]") && Catch::Contains("question_id 12") && Catch::Contains("\"answer\""));
}

TEST_CASE("countbenchqa: lmms-eval prompt with caption, big_vision variant, missing downloads", "[vision-tasks]") {
  gemma::test::TempDir dir;
  const fs::path folder = dir.path / "countbenchqa";
  write_file(folder / "CountBench.json",
             R"J([{"image_url": "http://x/a.jpg", "text": "three light bulbs", "number": 3},
                 {"image_url": "http://x/b.jpg", "text": "", "number": 7},
                 {"image_url": "http://x/c.jpg", "text": "kittens", "number": 5}])J");
  write_file(folder / "countbench_paired_questions.json",
             R"J([{"question": "How many light bulbs are there in the image?"}, {"question": "How many pens?"},
                 {"question": "How many kittens?"}])J");
  write_image(folder / "images/0.jpg");
  write_image(folder / "images/1.png");  // row 2's image was never downloaded

  CannedEngine engine({" 3 ", "seven"});
  const TaskResult result = evaluate_task(task("countbenchqa"), dir.path, engine, image_options(true));
  REQUIRE(engine.requests.size() == 2);
  CHECK(engine.requests[0].context ==
        kImg + "three light bulbs\n\nHow many light bulbs are there in the image?\nAnswer with a single number.");
  CHECK(engine.requests[1].context == kImg + "How many pens?\nAnswer with a single number.");  // empty caption: none
  CHECK(engine.requests[0].images == std::vector<std::string>{(folder / "images/0.jpg").string()});
  CHECK(engine.requests[1].images == std::vector<std::string>{(folder / "images/1.png").string()});
  CHECK(result.skipped_docs.size() == 1);
  CHECK(doc_metric(result, 0, "acc,none") == 1.0);
  CHECK(doc_metric(result, 1, "acc,none") == 0.0);  // lmms-eval: no number words
  CHECK_THAT(error_of([&] {
               CannedEngine e({});
               evaluate_task(task("countbenchqa"), dir.path, e, image_options());
             }),
             Catch::Contains("doc 2") && Catch::Contains("images/2.jpg"));

  CannedEngine bv({" Three", "seven"});
  const TaskResult bv_result = evaluate_task(task("countbenchqa_bv"), dir.path, bv, image_options(true));
  CHECK(bv.requests[0].context == kImg + "answer en How many light bulbs are there in the image?");
  CHECK(doc_metric(bv_result, 0, "acc,none") == 1.0);
  CHECK(doc_metric(bv_result, 1, "acc,none") == 1.0);

  write_file(folder / "countbench_paired_questions.json", R"J([{"question": "Q"}])J");
  CHECK_THAT(error_of([&] { task("countbenchqa").load_eval(dir.path); }), Catch::Contains("row i of one must pair"));
  write_file(folder / "countbench_paired_questions.json",
             R"J([{"question": "Q"}, {"question": "Q"}, {"question": "Q"}])J");
  write_file(folder / "CountBench.json",
             R"J([{"image_url": "u", "text": "", "number": 3}, {"image_url": "u", "text": "", "number": "7"}, )J"
             R"J({"image_url": "u", "text": "", "number": 1}])J");
  CHECK_THAT(error_of([&] { task("countbenchqa").load_eval(dir.path); }),
             Catch::Contains("CountBench.json: [1]") && Catch::Contains("\"number\""));
}

// [shared-data]: needs ../shared/data and fails without it (deselect with "~[shared-data]").
TEST_CASE("countbenchqa: the real CountBench annotations in ../shared/data", "[vision-tasks][shared-data]") {
  const fs::path data = fs::path(GEMMA_TEST_SHARED_DIR) / "data";
  if (!fs::is_regular_file(data / "countbenchqa/CountBench.json"))
    FAIL("missing shared data: " << (data / "countbenchqa/CountBench.json").string());
  const TaskSpec& t = task("countbenchqa");
  const DocSplit split = t.load_eval(data);
  REQUIRE(split.docs.size() == 540);
  REQUIRE(split.files.size() == 2);
  CHECK(split.files[0].sha256 == "2b1586d1b945243429d54afd9f719c787ec56bdb0e66dfa8a1f151ad58c164b7");
  CHECK(split.files[1].sha256 == "d3d94521899ff05bcd3facc8712e3cb4c1f9fb5cfa17ce35b14310a882090046");
  CHECK(t.doc_to_text(split.docs[0]) == kImg +
                                            "We review the ten best gaming headsets in the market\n\n"
                                            "How many headsets are there in the image?\nAnswer with a single number.");
  CHECK(task("countbenchqa_bv").doc_to_text(split.docs[0]) ==
        kImg + "answer en How many headsets are there in the image?");
  CHECK(t.doc_to_references(split.docs[0]) == std::vector<std::string>{"10"});
  CHECK(t.doc_to_images(split.docs[539], data) ==
        std::vector<std::string>{(data / "countbenchqa/images/539.jpg").string()});
  for (const Doc& doc : split.docs) {
    CHECK(doc.at("number").get<int>() >= 2);
    CHECK(doc.at("number").get<int>() <= 10);
  }
  // No images are shipped: with --skip-bad-samples every doc is left out, which stops the task.
  CannedEngine engine({});
  CHECK_THAT(error_of([&] { evaluate_task(t, data, engine, image_options(true)); }),
             Catch::Contains("every selected doc has an unreadable image"));
}

TEST_CASE("spatialsense: one yes/no question per test relation [low confidence]", "[vision-tasks]") {
  gemma::test::TempDir dir;
  write_file(dir.path / "spatialsense/annotations.json", R"J([
    {"url": "https://farm4.staticflickr.com/1/p1.jpg", "split": "test", "annotations": [
      {"_id": "a", "subject": {"name": "cup"}, "predicate": "on", "object": {"name": "table"}, "label": true},
      {"_id": "b", "subject": {"name": "dog"}, "predicate": "under", "object": {"name": "chair"}, "label": false}]},
    {"url": "https://x/nyu/n1.png", "split": "train", "annotations": [
      {"_id": "c", "subject": {"name": "a"}, "predicate": "near", "object": {"name": "b"}, "label": true}]},
    {"url": "https://x/nyu/n2.png", "split": "test", "annotations": [
      {"_id": "d", "subject": {"name": "lamp"}, "predicate": "behind", "object": {"name": "sofa"},
       "label": true}]}])J");
  write_image(dir.path / "spatialsense/images/flickr/p1.jpg");
  write_image(dir.path / "spatialsense/images/nyu/n2.png");
  CannedEngine engine({"Yes.", "Yes, it is.", "no"});
  const TaskResult result = evaluate_task(task("spatialsense"), dir.path, engine, image_options());
  REQUIRE(engine.requests.size() == 3);
  CHECK(engine.requests[0].context == kImg + "Is the cup on the table? Answer yes or no.");
  CHECK(engine.requests[2].images == std::vector<std::string>{(dir.path / "spatialsense/images/nyu/n2.png").string()});
  CHECK(doc_metric(result, 0, "acc,none") == 1.0);
  CHECK(doc_metric(result, 1, "acc,none") == 0.0);
  CHECK(doc_metric(result, 2, "acc,none") == 0.0);
  write_file(dir.path / "spatialsense/annotations.json",
             R"J([{"url": "u/p.jpg", "split": "test", "annotations": [{"subject": {"name": "a"}, "predicate": "on", )J"
             R"J("object": {}, "label": true}]}])J");
  CHECK_THAT(error_of([&] { task("spatialsense").load_eval(dir.path); }),
             Catch::Contains("annotations.json: [0].annotations[0]") && Catch::Contains("\"name\""));
}

TEST_CASE("remi: every image first, normalised match with numeric tolerance [low confidence]", "[vision-tasks]") {
  gemma::test::TempDir dir;
  write_file(
      dir.path / "remi/test.jsonl",
      R"J({"task": "EmojiAlgebra", "question": "What is the sum?", "answer": 12.5, "images": ["i/1.png", "i/2.png"]})J"
      "\n"
      R"J({"task": "Clocks", "question": "Which clock is later?", "answer": "The second", "images": ["i/2.png"]})J"
      "\n"
      R"J({"task": "Charts", "question": "Value?", "answer": "100", "images": ["i/1.png"]})J"
      "\n");
  write_image(dir.path / "remi/i/1.png");
  write_image(dir.path / "remi/i/2.png");
  CannedEngine engine({"12.55", "second.", "102"});
  const TaskResult result = evaluate_task(task("remi"), dir.path, engine, image_options());
  REQUIRE(engine.requests.size() == 3);
  CHECK(engine.requests[0].context == kImg + kImg + "What is the sum?");
  CHECK(engine.requests[0].images ==
        std::vector<std::string>{(dir.path / "remi/i/1.png").string(), (dir.path / "remi/i/2.png").string()});
  CHECK(doc_metric(result, 0, "acc,none") == 1.0);  // within 1%
  CHECK(doc_metric(result, 1, "acc,none") == 1.0);  // articles and punctuation normalised away
  CHECK(doc_metric(result, 2, "acc,none") == 0.0);  // 2% off
  write_file(dir.path / "remi/test.jsonl", R"J({"task": "T", "question": "Q", "answer": "1", "images": []})J"
                                           "\n");
  CHECK_THAT(error_of([&] { task("remi").load_eval(dir.path); }),
             Catch::Contains("test.jsonl:1") && Catch::Contains("\"images\""));
}
