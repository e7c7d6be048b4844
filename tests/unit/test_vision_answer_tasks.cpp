// The vision answer tasks (evals/tasks/vision_answer*.cpp): for each, a tiny sample written in the
// dataset's published layout, evaluated through evaluate_task with a fake engine: the rendered prompt
// (lmms-eval's doc_to_text, image first), the images of each request, the generation settings, the
// metric values for canned answers, bad images with and without skip_bad_samples, malformed rows.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/error.h"
#include "evals/engine.h"
#include "evals/evaluator.h"
#include "evals/task_registry.h"
#include "tests/support/task_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace gemma;
using namespace gemma::evals;
using Catch::Contains;
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

// Answers by a piece of the question found in the context; records every request.
class FakeEngine : public Engine {
 public:
  std::map<std::string, std::string> answers;
  std::vector<GenerationRequest> requests;

  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>&, EngineProgress*) override {
    FAIL("vision answer tasks make generation requests only");
    return {};
  }
  std::vector<GenerationResult> generate_until(const std::vector<GenerationRequest>& batch, EngineProgress*) override {
    std::vector<GenerationResult> results;
    for (const GenerationRequest& request : batch) {
      requests.push_back(request);
      GenerationResult result;
      for (const auto& [key, text] : answers)
        if (request.context.find(key) != std::string::npos) result.text = text;
      results.push_back(result);
    }
    return results;
  }
  std::vector<LoglikelihoodResult> loglikelihood_rolling(const std::vector<RollingLoglikelihoodRequest>&,
                                                         EngineProgress*) override {
    FAIL("the vision answer tasks make no loglikelihood_rolling requests");
    return {};
  }
  std::string describe_json() const override { return "{}"; }
};

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void write_json(const fs::path& path, const json& value) { write_text(path, value.dump(1)); }

// A small real PNG (whatever the file's extension: the checker below only needs a file).
void write_image(const fs::path& path) {
  cv::Mat image(4, 6, CV_8UC3, cv::Scalar(10, 200, 30));
  std::vector<uchar> bytes;
  REQUIRE(cv::imencode(".png", image, bytes));
  write_text(path, std::string(bytes.begin(), bytes.end()));
}

EvalOptions options(bool skip_bad = false) {
  EvalOptions o;
  o.check_image = [](const std::string& path) {
    if (!fs::is_regular_file(path)) fail("{}: cannot read the image file", path);
  };
  o.skip_bad_samples = skip_bad;
  return o;
}

const TaskSpec& task(const std::string& name) { return gemma::test::task_named(name); }

double metric(const TaskResult& result, const std::string& name) {
  for (const MetricValue& m : result.metrics)
    if (m.metric == name) return m.value;
  FAIL("no metric " << name);
  return 0;
}

std::string error_of(const TaskSpec& t, const fs::path& dir, const EvalOptions& o) {
  FakeEngine engine;
  try {
    evaluate_task(t, dir, engine, o);
  } catch (const gemma::Error& e) {
    return e.what();
  }
  FAIL("expected a gemma::Error from " << t.name);
  return "";
}

const std::string kImage = kImageMarker;
const std::string kPhrase = "\nAnswer the question using a single word or phrase.";

json ten(std::vector<std::pair<int, std::string>> counts) {
  json out = json::array();
  for (const auto& [n, answer] : counts)
    for (int i = 0; i < n; ++i) out.push_back(answer);
  return out;
}

}  // namespace

TEST_CASE("vision answer tasks: registered with lmms-eval's settings", "[vision-tasks]") {
  struct Expect {
    const char* name;
    int max_gen_toks;
    std::vector<std::string> until;
    const char* metric;
    const char* variant;
  };
  for (const Expect& e : std::vector<Expect>{{"docvqa_val", 128, {}, "anls", "lmms"},
                                             {"infovqa_val", 32, {}, "anls", "lmms"},
                                             {"chartqa", 16, {}, "relaxed_overall", "lmms"},
                                             {"textvqa_val", 128, {"ASSISTANT:"}, "vqa_accuracy", "lmms_textvqa"},
                                             {"vqav2_val", 16, {}, "vqa_accuracy", "lmms_vqav2"},
                                             {"ok_vqa_val2014", 128, {"ASSISTANT:"}, "vqa_accuracy", "lmms_okvqa"},
                                             {"coco2017_cap_val", 64, {}, "cider", "ptb"}}) {
    INFO(e.name);
    const TaskSpec& t = task(e.name);
    CHECK(t.output_type == OutputType::GenerateUntil);
    CHECK(t.default_shots == 0);
    CHECK(!t.load_fewshot);
    CHECK(static_cast<bool>(t.doc_to_images));
    CHECK(t.max_gen_toks == e.max_gen_toks);
    CHECK(t.until == e.until);
    REQUIRE(!t.metrics.empty());
    CHECK(t.metrics[0].name == e.metric);
    CHECK(t.metrics[0].variant == e.variant);
  }
}

TEST_CASE("docvqa_val: prompt, images, ANLS, bad images, bad rows", "[vision-tasks]") {
  gemma::test::TempDir tmp;
  const fs::path dir = tmp.path / "docvqa";
  json data = json::array();
  data.push_back({{"questionId", 49153},
                  {"question", "Which company is named?"},
                  {"question_types", {"handwritten"}},
                  {"image", "documents/pybv0228_81.png"},
                  {"docId", 14465},
                  {"answers", {"ITC Limited"}}});
  data.push_back({{"questionId", 24580},
                  {"question", "What type of phone?"},
                  {"image", "documents/nkbl0226_1.png"},
                  {"docId", 2},
                  {"answers", {"Cellular", "cell phone"}}});
  write_json(dir / "val_v1.0.json", {{"dataset_name", "docvqa"}, {"dataset_split", "val"}, {"data", data}});
  write_image(dir / "documents/pybv0228_81.png");
  write_image(dir / "documents/nkbl0226_1.png");

  FakeEngine engine;
  engine.answers = {{"company", "ITC Ltd"}, {"phone", "cellular"}};
  const TaskResult result = evaluate_task(task("docvqa_val"), tmp.path, engine, options());
  REQUIRE(engine.requests.size() == 2);
  CHECK(engine.requests[0].context == kImage + "Which company is named?" + kPhrase);
  CHECK(engine.requests[0].images == std::vector<std::string>{(dir / "documents/pybv0228_81.png").string()});
  CHECK(engine.requests[1].images == std::vector<std::string>{(dir / "documents/nkbl0226_1.png").string()});
  CHECK(engine.requests[0].max_gen_toks == 128);
  CHECK(engine.requests[0].until.empty());
  // lmms-eval lmms_eval/api/metrics.py::anls@75571cfe vector
  CHECK(result.docs[0].metrics.at("anls,none") == Approx(0.6363636363636364));
  CHECK(result.docs[1].metrics.at("anls,none") == 1.0);
  CHECK(metric(result, "anls") == Approx((0.6363636363636364 + 1.0) / 2));
  CHECK(result.metric_variants.at("anls") == "lmms");
  CHECK(result.data_files.size() == 1);
  CHECK(result.data_files[0].rows == 2);

  SECTION("the current RRC file name is preferred") {
    data[0]["answers"] = {"ITC Ltd"};
    write_json(dir / "val_v1.0_withQT.json", {{"data", data}});
    FakeEngine again;
    again.answers = engine.answers;
    const TaskResult r = evaluate_task(task("docvqa_val"), tmp.path, again, options());
    CHECK(r.data_files[0].path == (dir / "val_v1.0_withQT.json").string());
    CHECK(r.docs[0].metrics.at("anls,none") == 1.0);
  }
  SECTION("a missing image stops the task naming file and doc, or is skipped") {
    fs::remove(dir / "documents/nkbl0226_1.png");
    const std::string error = error_of(task("docvqa_val"), tmp.path, options());
    CHECK_THAT(error, Contains("docvqa_val") && Contains("doc 1") && Contains("nkbl0226_1.png"));
    FakeEngine skipping;
    skipping.answers = engine.answers;
    const TaskResult r = evaluate_task(task("docvqa_val"), tmp.path, skipping, options(true));
    REQUIRE(r.skipped_docs.size() == 1);
    CHECK(r.skipped_docs[0].first == 1);
    CHECK_THAT(r.skipped_docs[0].second, Contains("nkbl0226_1.png"));
    CHECK(skipping.requests.size() == 1);
    CHECK(metric(r, "anls") == Approx(0.6363636363636364));
  }
  SECTION("a malformed row names file, position, id and field") {
    data[1].erase("question");
    write_json(dir / "val_v1.0.json", {{"data", data}});
    const std::string error = error_of(task("docvqa_val"), tmp.path, options());
    CHECK_THAT(error, Contains((dir / "val_v1.0.json").string()) && Contains("data[1]") &&
                          Contains("questionId 24580") && Contains("field \"question\": missing"));
  }
  SECTION("an image path leaving the dataset folder is refused") {
    data[0]["image"] = "../../etc/passwd";
    write_json(dir / "val_v1.0.json", {{"data", data}});
    CHECK_THAT(error_of(task("docvqa_val"), tmp.path, options()), Contains("data[0]") && Contains("\"image\""));
  }
  SECTION("no data file names what was looked for") {
    fs::remove(dir / "val_v1.0.json");
    CHECK_THAT(error_of(task("docvqa_val"), tmp.path, options()),
               Contains("val_v1.0_withQT.json") && Contains("val_v1.0.json"));
  }
}

TEST_CASE("infovqa_val: prompt, image folder, ANLS", "[vision-tasks]") {
  gemma::test::TempDir tmp;
  const fs::path dir = tmp.path / "infovqa";
  json data = json::array();
  data.push_back({{"questionId", 98313},
                  {"question", "Which social platform has heavy female audience?"},
                  {"image_local_name", "37313.jpeg"},
                  {"image_url", "https://example.org/37313.jpeg"},
                  {"ocr_output_file", "37313.json"},
                  {"answers", {"pinterest"}},
                  {"data_split", "val"}});
  write_json(dir / "infographicsVQA_val_v1.0_withQT.json", {{"dataset_name", "infographicVQA"}, {"data", data}});
  write_image(dir / "infographicsvqa_images/37313.jpeg");

  FakeEngine engine;
  engine.answers = {{"social", "Pinterest "}};
  const TaskResult result = evaluate_task(task("infovqa_val"), tmp.path, engine, options());
  REQUIRE(engine.requests.size() == 1);
  CHECK(engine.requests[0].context == kImage + "Which social platform has heavy female audience?" + kPhrase);
  CHECK(engine.requests[0].images == std::vector<std::string>{(dir / "infographicsvqa_images/37313.jpeg").string()});
  CHECK(engine.requests[0].max_gen_toks == 32);
  CHECK(metric(result, "anls") == 1.0);

  data[0]["answers"] = json::array();
  write_json(dir / "infographicsVQA_val_v1.0_withQT.json", {{"data", data}});
  CHECK_THAT(error_of(task("infovqa_val"), tmp.path, options()),
             Contains("data[0]") && Contains("questionId 98313") && Contains("field \"answers\": empty"));
}

TEST_CASE("chartqa: human then augmented, prompt, relaxed accuracy", "[vision-tasks]") {
  gemma::test::TempDir tmp;
  const fs::path dir = tmp.path / "chartqa" / "test";
  write_json(
      dir / "test_human.json",
      json::array({{{"imgname", "41699051005347.png"}, {"query", "What is the value for Japan?"}, {"label", "50"}}}));
  write_json(dir / "test_augmented.json",
             json::array({{{"imgname", "multi_col_1.png"}, {"query", "Is the red bar the largest?"}, {"label", "Yes"}},
                          {{"imgname", "two_col_2.png"}, {"query", "What is the peak?"}, {"label", "50"}}}));
  for (const char* name : {"41699051005347.png", "multi_col_1.png", "two_col_2.png"}) write_image(dir / "png" / name);

  FakeEngine engine;
  engine.answers = {{"Japan", "52"}, {"red bar", "yes"}, {"peak", "47.4"}};
  const TaskResult result = evaluate_task(task("chartqa"), tmp.path, engine, options());
  REQUIRE(engine.requests.size() == 3);
  CHECK(engine.requests[0].context == kImage + "What is the value for Japan?\nAnswer the question with a single word.");
  CHECK(engine.requests[0].images == std::vector<std::string>{(dir / "png/41699051005347.png").string()});
  CHECK(engine.requests[2].images == std::vector<std::string>{(dir / "png/two_col_2.png").string()});
  CHECK(engine.requests[0].max_gen_toks == 16);
  // lmms-eval lmms_eval/tasks/chartqa/utils.py::relaxed_correctness@75571cfe vectors: 52 vs 50 within 5%; "yes" vs
  // "Yes" case-insensitive; 47.4 vs 50 outside.
  CHECK(result.docs[0].metrics.at("relaxed_overall,none") == 1.0);
  CHECK(result.docs[1].metrics.at("relaxed_overall,none") == 1.0);
  CHECK(result.docs[2].metrics.at("relaxed_overall,none") == 0.0);
  CHECK(metric(result, "relaxed_overall") == Approx(2.0 / 3.0));
  // lmms-eval's split rows: the human question right; one of the two augmented ones.
  CHECK(metric(result, "relaxed_human_split") == 1.0);
  CHECK(metric(result, "relaxed_augmented_split") == Approx(0.5));
  CHECK(result.docs[0].subset == "human_test");
  CHECK(result.docs[0].metrics.count("relaxed_augmented_split,none") == 0);
  CHECK(result.docs[2].metrics.at("relaxed_augmented_split,none") == 0.0);
  REQUIRE(result.data_files.size() == 2);
  CHECK(result.data_files[0].rows == 1);
  CHECK(result.data_files[1].rows == 2);

  write_json(dir / "test_augmented.json", json::array({{{"imgname", "a.png"}, {"query", "Q?"}, {"label", 5}}}));
  CHECK_THAT(error_of(task("chartqa"), tmp.path, options()),
             Contains("test_augmented.json") && Contains("[0]") && Contains("field \"label\": expected a string"));
}

TEST_CASE("textvqa_val: capitalised question, train_images, EvalAI-normalised VQA accuracy", "[vision-tasks]") {
  gemma::test::TempDir tmp;
  const fs::path dir = tmp.path / "textvqa";
  json data = json::array();
  data.push_back({{"question", "what Number is on the BUS?"},
                  {"image_id", "0054c91397f2fe05"},
                  {"image_classes", {"Bus"}},
                  {"answers", ten({{10, "2"}})},
                  {"question_id", 34602},
                  {"set_name", "val"}});
  data.push_back({{"question", "what brand is it?"},
                  {"image_id", "00685bc495504d61"},
                  {"answers", ten({{3, "nokia"}, {7, "samsung"}})},
                  {"question_id", 34603}});
  write_json(dir / "TextVQA_0.5.1_val.json", {{"dataset_type", "val"}, {"dataset_version", "0.5.1"}, {"data", data}});
  write_image(dir / "train_images/0054c91397f2fe05.jpg");
  write_image(dir / "train_images/00685bc495504d61.jpg");

  FakeEngine engine;
  engine.answers = {{"number", "Two"}, {"brand", "Nokia."}};
  const TaskResult result = evaluate_task(task("textvqa_val"), tmp.path, engine, options());
  REQUIRE(engine.requests.size() == 2);
  CHECK(engine.requests[0].context == kImage + "What number is on the bus?" + kPhrase);  // Python capitalize()
  CHECK(engine.requests[0].images == std::vector<std::string>{(dir / "train_images/0054c91397f2fe05.jpg").string()});
  CHECK(engine.requests[0].until == std::vector<std::string>{"ASSISTANT:"});
  // "Two" -> "2" (VQA PythonEvaluationTools/vqaEvaluation/vqaEval.py (HEAD))
  CHECK(result.docs[0].metrics.at("vqa_accuracy,none") == 1.0);
  CHECK(result.docs[1].metrics.at("vqa_accuracy,none") == Approx(0.9));
  CHECK(result.metric_variants.at("vqa_accuracy") == "lmms_textvqa");

  data[1]["answers"] = {"nokia", 7};
  write_json(dir / "TextVQA_0.5.1_val.json", {{"data", data}});
  CHECK_THAT(error_of(task("textvqa_val"), tmp.path, options()),
             Contains("data[1]") && Contains("question_id 34603") && Contains("field \"answers\": item 1"));
}

namespace {

// The VQA release pair: questions + annotations (answers as {"answer", "answer_confidence", "answer_id"}).
void write_vqa_release(const fs::path& dir, const std::string& questions_name, const std::string& annotations_name,
                       const std::vector<std::tuple<long, long, std::string, json>>& rows) {
  json questions = json::array(), annotations = json::array();
  for (const auto& [question_id, image_id, question, answers] : rows) {
    questions.push_back({{"image_id", image_id}, {"question", question}, {"question_id", question_id}});
    json answer_dicts = json::array();
    int n = 0;
    for (const auto& answer : answers)
      answer_dicts.push_back({{"answer", answer}, {"answer_confidence", "yes"}, {"answer_id", ++n}});
    annotations.push_back({{"question_type", "what"},
                           {"multiple_choice_answer", answers[0]},
                           {"answers", answer_dicts},
                           {"image_id", image_id},
                           {"answer_type", "other"},
                           {"question_id", question_id}});
  }
  write_json(dir / questions_name, {{"data_subtype", "val2014"}, {"questions", questions}});
  write_json(dir / annotations_name, {{"data_subtype", "val2014"}, {"annotations", annotations}});
}

}  // namespace

TEST_CASE("vqav2_val: questions joined with annotations, COCO image names, lmms VQA accuracy", "[vision-tasks]") {
  gemma::test::TempDir tmp;
  const fs::path dir = tmp.path / "vqav2";
  write_vqa_release(dir, "v2_OpenEnded_mscoco_val2014_questions.json", "v2_mscoco_val2014_annotations.json",
                    {{262148000, 262148, "How many dogs?", ten({{3, "2"}, {7, "3"}})},
                     {42000, 42, "Is it sunny?", ten({{10, "yes"}})}});
  write_image(dir / "val2014/COCO_val2014_000000262148.jpg");
  write_image(dir / "val2014/COCO_val2014_000000000042.jpg");

  FakeEngine engine;
  engine.answers = {{"dogs", "two"}, {"sunny", "Yes"}};
  const TaskResult result = evaluate_task(task("vqav2_val"), tmp.path, engine, options());
  REQUIRE(engine.requests.size() == 2);
  CHECK(engine.requests[0].context == kImage + "How many dogs?" + kPhrase);
  CHECK(engine.requests[1].images ==
        std::vector<std::string>{(dir / "val2014/COCO_val2014_000000000042.jpg").string()});
  CHECK(engine.requests[0].max_gen_toks == 16);
  // VQA PythonEvaluationTools/vqaEvaluation/vqaEval.py (HEAD): 3x"2"+7x"3", "2"
  CHECK(result.docs[0].metrics.at("vqa_accuracy,none") == Approx(0.9));
  CHECK(result.docs[1].metrics.at("vqa_accuracy,none") == 1.0);  // lmms: "Yes" normalised
  CHECK(result.metric_variants.at("vqa_accuracy") == "lmms_vqav2");
  CHECK(result.data_files.size() == 2);

  // A question without an annotation names the question file, position and id.
  write_vqa_release(dir, "v2_OpenEnded_mscoco_val2014_questions.json", "v2_mscoco_val2014_annotations.json",
                    {{1, 42, "Q?", ten({{10, "a"}})}});
  json questions = json::parse(R"({"questions": [{"image_id": 42, "question": "Q?", "question_id": 1},
                                                 {"image_id": 42, "question": "R?", "question_id": 2}]})");
  write_json(dir / "v2_OpenEnded_mscoco_val2014_questions.json", questions);
  CHECK_THAT(error_of(task("vqav2_val"), tmp.path, options()),
             Contains("v2_OpenEnded_mscoco_val2014_questions.json: questions[1] (question_id 2)") &&
                 Contains("no annotation"));
}

TEST_CASE("ok_vqa_val2014: prompt with 'Unanswerable', EvalAI-normalised answers", "[vision-tasks]") {
  gemma::test::TempDir tmp;
  const fs::path dir = tmp.path / "ok_vqa";
  write_vqa_release(dir, "OpenEnded_mscoco_val2014_questions.json", "mscoco_val2014_annotations.json",
                    {{2971475, 297147, "What sport can you use this for?", ten({{6, "race"}, {4, "motocross"}})}});
  write_image(dir / "val2014/COCO_val2014_000000297147.jpg");

  FakeEngine engine;
  engine.answers = {{"sport", "Race."}};
  const TaskResult result = evaluate_task(task("ok_vqa_val2014"), tmp.path, engine, options());
  REQUIRE(engine.requests.size() == 1);
  CHECK(engine.requests[0].context ==
        kImage +
            "What sport can you use this for?\nWhen the provided information is insufficient, respond with "
            "'Unanswerable'.\nAnswer the question using a single word or phrase.");
  CHECK(engine.requests[0].images ==
        std::vector<std::string>{(dir / "val2014/COCO_val2014_000000297147.jpg").string()});
  CHECK(engine.requests[0].until == std::vector<std::string>{"ASSISTANT:"});
  CHECK(metric(result, "vqa_accuracy") == 1.0);
  CHECK(result.metric_variants.at("vqa_accuracy") == "lmms_okvqa");
}

TEST_CASE("coco2017_cap_val: one doc per image, all captions, corpus CIDEr-D and BLEU-4", "[vision-tasks]") {
  gemma::test::TempDir tmp;
  const fs::path dir = tmp.path / "coco";
  // CIDEr-D worked example D (from running pycocoevalcap cider/cider_scorer.py): 7.395833333333334 per image.
  json images = json::array({{{"license", 4}, {"file_name", "000000397133.jpg"}, {"id", 397133}},
                             {{"license", 1}, {"file_name", "000000037777.jpg"}, {"id", 37777}}});
  json annotations = json::array({{{"image_id", 37777}, {"id", 1}, {"caption", "x y z w"}},
                                  {{"image_id", 397133}, {"id", 2}, {"caption", "A b c d"}},
                                  {{"image_id", 397133}, {"id", 3}, {"caption", "a b c e"}},
                                  {{"image_id", 37777}, {"id", 4}, {"caption", "x y z q"}}});
  write_json(dir / "annotations/captions_val2017.json",
             {{"info", json::object()}, {"images", images}, {"annotations", annotations}});
  write_image(dir / "val2017/000000397133.jpg");
  write_image(dir / "val2017/000000037777.jpg");

  const std::vector<std::string> canned = {"a b c d", "X y z w,"};
  struct Captioner : FakeEngine {
    std::vector<std::string> texts;
    std::vector<GenerationResult> generate_until(const std::vector<GenerationRequest>& batch,
                                                 EngineProgress*) override {
      std::vector<GenerationResult> results;
      for (const GenerationRequest& request : batch) {
        requests.push_back(request);
        results.push_back({texts.at(results.size())});
      }
      return results;
    }
  } captioner;
  captioner.texts = canned;
  const TaskResult result = evaluate_task(task("coco2017_cap_val"), tmp.path, captioner, options());
  REQUIRE(captioner.requests.size() == 2);
  CHECK(captioner.requests[0].context == kImage + "Provide a one-sentence caption for the provided image.");
  CHECK(captioner.requests[0].images == std::vector<std::string>{(dir / "val2017/000000397133.jpg").string()});
  CHECK(captioner.requests[1].images == std::vector<std::string>{(dir / "val2017/000000037777.jpg").string()});
  CHECK(captioner.requests[0].max_gen_toks == 64);
  CHECK(result.docs[0].target.dump() == R"(["A b c d","a b c e"])");
  CHECK(metric(result, "cider") == Approx(7.395833333333334));  // PTB: lower-cased, "," dropped
  CHECK(metric(result, "bleu") == Approx(1.0));
  CHECK(result.metric_variants.at("cider") == "ptb");

  annotations.erase(0);
  annotations.erase(2);  // image 37777 has no caption left
  write_json(dir / "annotations/captions_val2017.json", {{"images", images}, {"annotations", annotations}});
  CHECK_THAT(error_of(task("coco2017_cap_val"), tmp.path, options()),
             Contains("images[1] (id 37777)") && Contains("no caption"));
}

TEST_CASE("chartqa: the bundled synthetic sample loads and its images decode", "[vision-tasks]") {
  EvalOptions o = options();
  o.check_image = [](const std::string& path) {
    if (cv::imread(path, cv::IMREAD_COLOR).empty()) fail("{}: not a readable image", path);
  };
  FakeEngine engine;
  engine.answers = {{"tallest bar?", "Blue"}, {"red bar", "41"}};
  const TaskResult result = evaluate_task(task("chartqa"), gemma::test::kBundledSamples, engine, o);
  REQUIRE(engine.requests.size() == 4);
  CHECK(result.skipped_docs.empty());
  CHECK(metric(result, "relaxed_overall") == Approx(0.5));  // "Blue" exact; 41 within 5% of 40
}
