// Vision question answering and captioning, as lmms-eval runs them (lmms-eval @75571cfe lmms_eval/tasks/:
// coco_cap, docvqa, infovqa, textvqa, chartqa, vqav2, ok_vqa; models/simple/gemma3.py): zero-shot generation, the image
// before the text, lmms-eval's default pre/post prompts and generation_kwargs, the scorers of scorers/ with lmms-eval's
// variants. Data: each dataset's PUBLISHED release files under data_dir/<folder>/ (not the lmms-lab parquet copies);
// the image files are checked by the evaluator (EvalOptions::check_image) before any model time is spent. This file:
// DocVQA, InfographicVQA, ChartQA; TextVQA / VQAv2 / OK-VQA are in vision_answer_vqa.cpp, COCO
// captions in vision_answer_coco.cpp.
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/vision_rows.h"
#include "scorers/anls.h"
#include "scorers/relaxed_accuracy.h"

namespace gemma::evals::tasks {

namespace {

using namespace vision;
namespace fs = std::filesystem;

// lmms-eval's default post_prompt of DocVQA, InfoVQA, TextVQA, VQAv2.
constexpr const char* kSingleWordOrPhrase = "\nAnswer the question using a single word or phrase.";

// ---- DocVQA / InfographicVQA (lmms-eval lmms_eval/tasks/docvqa/*@75571cfe; lmms-eval
// lmms_eval/tasks/infovqa/*@75571cfe): {question}{post_prompt}, ANLS (lmms denominator) ----

// Rows of the RRC release: {"questionId", "question", "answers", <image_field>}; the image is
// image_prefix + the field's value, relative to the dataset folder.
DocSplit load_anls_split(const fs::path& json_path, const char* image_field, const std::string& image_prefix) {
  JsonFile file = read_json_file(json_path);
  std::vector<Doc> docs;
  JsonRowAt at{file.info.path, "data"};
  for (const Doc& row : json_array(file, "data")) {
    at.id.clear();
    const std::string id = row_id(row, "questionId", at);
    at.id = "questionId " + id;
    Doc doc;
    doc["question_id"] = id;
    doc["question"] = row_string(row, "question", at);
    doc["answers"] = row_strings(row, "answers", at);
    doc["image"] = relative_image(image_prefix + row_string(row, image_field, at), image_field, at);
    docs.push_back(std::move(doc));
    ++at.index;
  }
  file.info.rows = docs.size();
  return make_split("validation", std::move(docs), {std::move(file.info)});
}

MetricSpec anls_metric() { return registry_metric("anls:lmms"); }

TaskSpec anls_task(const std::string& name, const std::string& folder, int max_new_tokens) {
  TaskSpec t = single_image_task(name, 0, folder);
  t.doc_to_text = [](const Doc& doc) {
    return image_first(doc.at("question").get<std::string>() + kSingleWordOrPhrase);
  };
  // no `until`: lmms-eval's default "\n\n" is dropped by its gemma3 model (lmms-eval
  // lmms_eval/models/simple/gemma3.py@75571cfe)
  t.until = {};
  t.max_gen_toks = max_new_tokens;
  t.metrics = {anls_metric()};
  return t;
}

// DocVQA task 1 (single page), data_dir/docvqa/: val_v1.0_withQT.json (current RRC download) or
// val_v1.0.json (first release), rows' "image" = "documents/<name>.png" under the same folder.
TaskSpec docvqa_val_task() {
  // max_new_tokens 128, as lmms-eval's _default_template_docvqa_yaml sets it (not 32).
  TaskSpec t = anls_task("docvqa_val", "docvqa", 128);
  t.load_eval = [](const fs::path& dir) {
    return load_anls_split(first_existing(dir / "docvqa", {"val_v1.0_withQT.json", "val_v1.0.json"}), "image", "");
  };
  return t;
}

// InfographicVQA, data_dir/infovqa/: infographicsVQA_val_v1.0_withQT.json (or ..._val_v1.0.json),
// rows' "image_local_name" = "<n>.jpeg" in infographicsvqa_images/.
TaskSpec infovqa_val_task() {
  TaskSpec t = anls_task("infovqa_val", "infovqa", 32);
  t.load_eval = [](const fs::path& dir) {
    return load_anls_split(
        first_existing(dir / "infovqa", {"infographicsVQA_val_v1.0_withQT.json", "infographicsVQA_val_v1.0.json"}),
        "image_local_name", "infographicsvqa_images/");
  };
  return t;
}

// ---- ChartQA (lmms-eval lmms_eval/tasks/chartqa/{chartqa.yaml,utils.py}@75571cfe): {question}\nAnswer the question
// with a single word., relaxed accuracy ----

// vis-nlp/ChartQA "ChartQA Dataset"/test, as data_dir/chartqa/test/: test_human.json then
// test_augmented.json (1 250 + 1 250), bare arrays of {"imgname", "query", "label"}; images in png/.
DocSplit load_chartqa(const fs::path& dir) {
  std::vector<Doc> docs;
  std::vector<DataFile> files;
  for (const auto& [file_name, type] :
       {std::pair{"test_human.json", "human_test"}, {"test_augmented.json", "augmented_test"}}) {
    JsonFile file = read_json_file(dir / "chartqa" / "test" / file_name);
    JsonRowAt at{file.info.path, ""};
    size_t rows = 0;
    for (const Doc& row : json_array(file, "")) {
      Doc doc;
      doc["question"] = row_string(row, "query", at);
      doc["answers"] = std::vector<std::string>{row_string(row, "label", at)};
      doc["image"] = relative_image("test/png/" + row_string(row, "imgname", at), "imgname", at);
      doc["type"] = type;
      docs.push_back(std::move(doc));
      ++at.index, ++rows;
    }
    file.info.rows = rows;
    files.push_back(std::move(file.info));
  }
  return make_split("test", std::move(docs), std::move(files));
}

TaskSpec chartqa_task() {
  TaskSpec t = single_image_task("chartqa", 0, "chartqa");
  t.load_eval = load_chartqa;
  t.doc_to_text = [](const Doc& doc) {
    return image_first(doc.at("question").get<std::string>() + "\nAnswer the question with a single word.");
  };
  t.until = {};
  t.max_gen_toks = 16;
  // lmms-eval's three rows: relaxed_overall, and the means over the human-written and the augmented
  // questions.
  t.doc_to_subset = [](const Doc& doc) { return doc.at("type").get<std::string>(); };
  t.metrics.clear();
  for (const auto& [name, subset] : {std::pair{"relaxed_overall", ""},
                                     {"relaxed_human_split", "human_test"},
                                     {"relaxed_augmented_split", "augmented_test"}}) {
    MetricSpec m = registry_metric(std::string("relaxed:") + scorers::kRelaxedAccuracyVariant, name);
    m.subset = subset;
    t.metrics.push_back(std::move(m));
  }
  return t;
}

}  // namespace

const TaskRegistration kDocvqaValRegistration{2900, &docvqa_val_task};
const TaskRegistration kInfovqaValRegistration{3000, &infovqa_val_task};
const TaskRegistration kChartqaRegistration{3100, &chartqa_task};

}  // namespace gemma::evals::tasks
