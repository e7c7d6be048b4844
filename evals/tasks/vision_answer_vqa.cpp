// TextVQA, VQAv2 and OK-VQA as lmms-eval runs them (the lmms-eval task configs lmms_eval/tasks/@75571cfe; VQA
// PythonEvaluationTools/vqaEvaluation/vqaEval.py (HEAD)): zero-shot, the image before "{question}{post_prompt}", VQA
// accuracy over the 10 human answers with lmms-eval's normalisation variant. Data: the published release JSON files
// under data_dir/<folder>/.
#include <map>

#include "common/python_text.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/vision_rows.h"
#include "scorers/vqa_accuracy.h"

namespace gemma::evals::tasks {
namespace {

using namespace vision;
namespace fs = std::filesystem;

constexpr const char* kSingleWordOrPhrase = "\nAnswer the question using a single word or phrase.";

// lmms-eval calls it exact_match; OK-VQA's variant scores with the TextVQA scorer (the registry's).
MetricSpec vqa_metric(const std::string& variant_name) {
  return registry_metric("vqa:" + variant_name, "vqa_accuracy");
}

// Python's str.capitalize(): the first character upper-cased, the rest lower-cased (only an ASCII
// first letter is upper-cased here; TextVQA's questions are English).
std::string python_capitalize(const std::string& text) {
  std::string out = python_lower(text);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

// ---- TextVQA (lmms-eval lmms_eval/tasks/textvqa/*@75571cfe): data_dir/textvqa/TextVQA_0.5.1_val.json {"data":
// [{"question", "question_id", "image_id", "answers"[10]}]}, images train_images/<image_id>.jpg (the val images
// ship in train_val_images.zip) ----

DocSplit load_textvqa(const fs::path& dir) {
  JsonFile file = read_json_file(dir / "textvqa" / "TextVQA_0.5.1_val.json");
  std::vector<Doc> docs;
  JsonRowAt at{file.info.path, "data"};
  for (const Doc& row : json_array(file, "data")) {
    at.id.clear();
    const std::string id = row_id(row, "question_id", at);
    at.id = "question_id " + id;
    Doc doc;
    doc["question_id"] = id;
    doc["question"] = row_string(row, "question", at);
    doc["answers"] = row_strings(row, "answers", at);
    doc["image"] = relative_image("train_images/" + row_string(row, "image_id", at) + ".jpg", "image_id", at);
    docs.push_back(std::move(doc));
    ++at.index;
  }
  file.info.rows = docs.size();
  return make_split("validation", std::move(docs), {std::move(file.info)});
}

// ---- VQAv2 / OK-VQA: the VQA release format, a questions file {"questions": [{"image_id",
// "question", "question_id"}]} and an annotations file {"annotations": [{"question_id",
// "answers": [{"answer", ...}] x 10}]}; COCO images val2014/COCO_val2014_<image_id:012>.jpg ----

DocSplit load_vqa_release(const fs::path& dir, const char* questions_name, const char* annotations_name,
                          const std::string& split_name) {
  JsonFile annotations = read_json_file(dir / annotations_name);
  std::map<std::string, std::vector<std::string>> answers_of;
  JsonRowAt at{annotations.info.path, "annotations"};
  for (const Doc& row : json_array(annotations, "annotations")) {
    at.id.clear();
    const std::string id = row_id(row, "question_id", at);
    at.id = "question_id " + id;
    const Doc& answers = row_value(row, "answers", at);
    if (!answers.is_array() || answers.empty())
      fail_row(at, "answers", "expected a non-empty array of {\"answer\": ...}");
    std::vector<std::string> texts;
    for (const Doc& answer : answers) {
      JsonRowAt answer_at = at;
      answer_at.id += fmt::format(", answers[{}]", texts.size());
      texts.push_back(row_string(answer, "answer", answer_at));
    }
    if (!answers_of.emplace(id, std::move(texts)).second)
      fail_row(at, "question_id", "a second annotation for this question");
    ++at.index;
  }
  annotations.info.rows = answers_of.size();

  JsonFile questions = read_json_file(dir / questions_name);
  std::vector<Doc> docs;
  at = JsonRowAt{questions.info.path, "questions"};
  for (const Doc& row : json_array(questions, "questions")) {
    at.id.clear();
    const std::string id = row_id(row, "question_id", at);
    at.id = "question_id " + id;
    const auto answers = answers_of.find(id);
    if (answers == answers_of.end())
      fail_row(at, "question_id", fmt::format("no annotation in {}", annotations.info.path));
    const long long image_id = std::stoll(row_id(row, "image_id", at));
    Doc doc;
    doc["question_id"] = id;
    doc["question"] = row_string(row, "question", at);
    doc["answers"] = answers->second;
    doc["image"] = fmt::format("val2014/COCO_val2014_{:012d}.jpg", image_id);
    docs.push_back(std::move(doc));
    ++at.index;
  }
  questions.info.rows = docs.size();
  return make_split(split_name, std::move(docs), {std::move(questions.info), std::move(annotations.info)});
}

TaskSpec textvqa_val_task() {
  TaskSpec t = single_image_task("textvqa_val", 0, "textvqa");
  t.load_eval = load_textvqa;
  // lmms-eval textvqa_doc_to_text: question.capitalize(), no OCR tokens (ocr: false).
  t.doc_to_text = [](const Doc& doc) {
    return image_first(python_capitalize(doc.at("question").get<std::string>()) + kSingleWordOrPhrase);
  };
  t.until = {"ASSISTANT:"};
  t.max_gen_toks = 128;  // not set by the task: lmms-eval's gemma3 default
  t.metrics = {vqa_metric("lmms_textvqa")};
  return t;
}

// data_dir/vqav2/: v2_OpenEnded_mscoco_val2014_questions.json, v2_mscoco_val2014_annotations.json,
// val2014/.
TaskSpec vqav2_val_task() {
  TaskSpec t = single_image_task("vqav2_val", 0, "vqav2");
  t.load_eval = [](const fs::path& dir) {
    return load_vqa_release(dir / "vqav2", "v2_OpenEnded_mscoco_val2014_questions.json",
                            "v2_mscoco_val2014_annotations.json", "validation");
  };
  t.doc_to_text = [](const Doc& doc) {
    return image_first(doc.at("question").get<std::string>() + kSingleWordOrPhrase);
  };
  t.until = {};
  t.max_gen_toks = 16;
  t.metrics = {vqa_metric("lmms_vqav2")};
  return t;
}

// data_dir/ok_vqa/: OpenEnded_mscoco_val2014_questions.json, mscoco_val2014_annotations.json (the
// processed "answer" of each of the 10 entries, not "raw_answer"), val2014/.
TaskSpec ok_vqa_val2014_task() {
  TaskSpec t = single_image_task("ok_vqa_val2014", 0, "ok_vqa");
  t.load_eval = [](const fs::path& dir) {
    return load_vqa_release(dir / "ok_vqa", "OpenEnded_mscoco_val2014_questions.json",
                            "mscoco_val2014_annotations.json", "val2014");
  };
  t.doc_to_text = [](const Doc& doc) {
    return image_first(doc.at("question").get<std::string>() +
                       "\nWhen the provided information is insufficient, respond with 'Unanswerable'." +
                       kSingleWordOrPhrase);
  };
  t.until = {"ASSISTANT:"};
  t.max_gen_toks = 128;
  t.metrics = {vqa_metric("lmms_okvqa")};
  return t;
}

}  // namespace

const TaskRegistration kTextvqaValRegistration{3200, &textvqa_val_task};
const TaskRegistration kVqav2ValRegistration{3300, &vqav2_val_task};
const TaskRegistration kOkVqaVal2014Registration{3400, &ok_vqa_val2014_task};

}  // namespace gemma::evals::tasks
