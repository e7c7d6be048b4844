// DROP (lm-eval tasks/drop/{default.yaml,utils.py}, version 3), 1-shot, two tasks:
//  - `drop`: lm-eval parity, defects included: the shot's answer is `{{ answer|join(',') }}`, which
//    joins the KEYS of HF's answer dict ("number,date,spans,worker_id,hit_id" for every shot,
//    lm-eval lm_eval/tasks/drop/{default.yaml,utils.py}@4e7e0d47 [run]), target delimiter "", generation stops at "."
//    (so "3.5" becomes "3").
//  - `drop_fixed`: this harness's fix: the shot shows its first gold answer (spans joined by ", "),
//    target delimiter " ", generation stops at "\n".
// Both score em and f1 with scorers/drop.h (max over gold answers); the metrics' `variant` says which.
// Data: the published release (drop_dataset.zip) under data_dir/drop/: drop_dataset/drop_dataset_dev.json
// ("validation", 9 536 questions) and drop_dataset_train.json ("train"), or the same files directly in
// data_dir/drop/. Layout: {passage_id: {passage, qa_pairs: [{question, query_id, answer: {number,
// date: {day, month, year}, spans: []}, validated_answers: [answer, ...]}]}}, taken in file order.
#include "evals/registry_metric.h"
#include "evals/task_registry.h"

#include <set>

#include "common/python_text.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/vision_rows.h"
#include "scorers/drop.h"

namespace gemma::evals::tasks {
namespace {

using vision::JsonRowAt;

const Doc& object_value(const Doc& row, const char* field, const JsonRowAt& at) {
  const Doc& value = vision::row_value(row, field, at);
  if (!value.is_object()) vision::fail_row(at, field, fmt::format("expected an object, got {}", value.type_name()));
  return value;
}

std::vector<std::string> string_array(const Doc& row, const char* field, const JsonRowAt& at) {
  const Doc& value = vision::row_value(row, field, at);
  if (!value.is_array()) vision::fail_row(at, field, fmt::format("expected an array, got {}", value.type_name()));
  std::vector<std::string> out;
  for (const Doc& item : value) {
    if (!item.is_string())
      vision::fail_row(at, field, fmt::format("item {}: expected a string, got {}", out.size(), item.type_name()));
    out.push_back(item.get<std::string>());
  }
  return out;
}

// utils.py::parse_answer: a number answer, else the spans, else the date "day month year".strip().
std::vector<std::string> parse_answer(const Doc& answer, const JsonRowAt& at) {
  const std::string& number = vision::row_string(answer, "number", at);
  if (!number.empty()) return {number};
  std::vector<std::string> spans = string_array(answer, "spans", at);
  if (!spans.empty()) return spans;
  const Doc& date = object_value(answer, "date", at);
  const std::string joined = vision::row_string(date, "day", at) + " " + vision::row_string(date, "month", at) + " " +
                             vision::row_string(date, "year", at);
  return {python_strip(joined)};
}

// utils.py::get_answers: [answer] + validated_answers, parsed, duplicates dropped (first kept).
// The train file has no validated_answers for most questions: treated as none.
std::vector<std::vector<std::string>> gold_answers(const Doc& qa, const JsonRowAt& at) {
  std::vector<std::vector<std::string>> answers{parse_answer(object_value(qa, "answer", at), at)};
  if (qa.contains("validated_answers")) {
    const Doc& validated = qa.at("validated_answers");
    if (!validated.is_array()) vision::fail_row(at, "validated_answers", "expected an array of answers");
    for (const Doc& answer : validated) {
      if (!answer.is_object()) vision::fail_row(at, "validated_answers", "expected an array of answer objects");
      answers.push_back(parse_answer(answer, at));
    }
  }
  std::vector<std::vector<std::string>> unique;
  std::set<std::vector<std::string>> seen;
  for (auto& answer : answers)
    if (seen.insert(answer).second) unique.push_back(std::move(answer));
  return unique;
}

DocSplit load_drop(const std::filesystem::path& dir, const std::string& split_name, const std::string& file_name) {
  vision::JsonFile file = vision::read_json_file(
      vision::first_existing(dir / "drop", {("drop_dataset/" + file_name).c_str(), file_name.c_str()}));
  if (!file.root.is_object())
    fail("{}: expected a JSON object of passages, got {}", file.info.path, file.root.type_name());
  DocSplit split;
  split.name = split_name;
  size_t passage_index = 0;
  for (const auto& [passage_id, passage] : file.root.items()) {
    const JsonRowAt passage_at = vision::row_at(file.info.path, "passages", passage_index++, "passage " + passage_id);
    const std::string& passage_text = vision::row_string(passage, "passage", passage_at);
    const Doc& qa_pairs = vision::row_value(passage, "qa_pairs", passage_at);
    if (!qa_pairs.is_array()) vision::fail_row(passage_at, "qa_pairs", "expected an array");
    for (size_t i = 0; i < qa_pairs.size(); ++i) {
      JsonRowAt at = vision::row_at(file.info.path, passage_id + ".qa_pairs", i);
      at.id = "query_id " + vision::row_string(qa_pairs[i], "query_id", at);
      Doc doc;
      doc["id"] = qa_pairs[i].at("query_id");
      doc["passage"] = passage_text;
      doc["question"] = vision::row_string(qa_pairs[i], "question", at);
      doc["answers"] = gold_answers(qa_pairs[i], at);
      split.docs.push_back(std::move(doc));
    }
  }
  file.info.rows = split.docs.size();
  split.files.push_back(file.info);
  return split;
}

// The registry's drop metric, reported as `name` with its `sub_score` ("exact_match" or "f1").
MetricSpec drop_metric(const char* name, const char* sub_score, const char* variant) {
  MetricSpec m = registry_metric("drop", name, {}, sub_score);
  m.variant = variant;
  return m;
}

TaskSpec drop_base(const std::string& name, const char* variant) {
  TaskSpec t = new_task(name, 3, OutputType::GenerateUntil, 1);
  t.load_eval = [](const std::filesystem::path& dir) { return load_drop(dir, "validation", "drop_dataset_dev.json"); };
  t.load_fewshot = [](const std::filesystem::path& dir) { return load_drop(dir, "train", "drop_dataset_train.json"); };
  // no fewshot_split and no test_split: lm-eval draws n+1 (lm-eval lm_eval/api/samplers.py@4e7e0d47)
  t.sampler_gets_eval_doc = true;
  t.doc_to_text = [](const Doc& doc) {
    return doc.at("passage").get<std::string>() + " " + doc.at("question").get<std::string>();
  };
  // Every gold answer, each as the JSON array of its spans (scorers/drop.h), so rescoring needs
  // nothing else.
  t.doc_to_references = [](const Doc& doc) {
    std::vector<std::string> references;
    for (const Doc& answer : doc.at("answers")) references.push_back(scorers::drop::encode_gold(answer));
    return references;
  };
  t.metrics = {drop_metric("em", "exact_match", variant), drop_metric("f1", "f1", variant)};
  return t;
}

std::vector<TaskSpec> drop_tasks() {
  TaskSpec parity = drop_base("drop", "lm-eval");
  parity.target_delimiter = "";
  parity.doc_to_target = [](const Doc&) { return std::string("number,date,spans,worker_id,hit_id"); };
  parity.until = {"."};

  TaskSpec fixed = drop_base("drop_fixed", "fixed");
  fixed.target_delimiter = " ";
  fixed.doc_to_target = [](const Doc& doc) {
    std::string joined;
    const Doc& spans = doc.at("answers").at(0);
    for (size_t i = 0; i < spans.size(); ++i) joined += (i == 0 ? "" : ", ") + spans[i].get<std::string>();
    return joined;
  };
  fixed.until = {"\n"};
  return {parity, fixed};
}

}  // namespace

const TaskRegistration kDropRegistration{1900, &drop_tasks};

}  // namespace gemma::evals::tasks
