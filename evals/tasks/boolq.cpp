// BoolQ (lm-eval tasks/super_glue/boolq). Data: the SuperGLUE BoolQ files,
// data_dir/boolq/{val,train}.jsonl with {question, passage, idx, label}. SuperGLUE writes the label
// as a JSON boolean; the OpenCompass copy in ../shared/data writes "true"/"false" strings; HF
// super_glue uses 0/1. All three are accepted and the doc holds HF's 0 (False) / 1 (True).
#include <fmt/format.h>

#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

int boolq_label(const Doc& row, const RowSource& at) {
  const auto it = row.find("label");
  if (it == row.end()) fail_field(at, "label", "missing");
  if (it->is_boolean()) return it->get<bool>() ? 1 : 0;
  if (it->is_string() && (*it == "true" || *it == "false")) return *it == "true" ? 1 : 0;
  if (it->is_number_integer() && (*it == 0 || *it == 1)) return it->get<int>();
  fail_field(at, "label", fmt::format("expected true/false, \"true\"/\"false\" or 0/1, got {}", it->dump()));
}

Doc boolq_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["question"] = string_field(row, "question", at);
  doc["passage"] = string_field(row, "passage", at);
  if (row.contains("idx")) doc["idx"] = row["idx"];
  doc["label"] = boolq_label(row, at);
  return doc;
}

TaskSpec boolq_task() {
  TaskSpec t = new_task("boolq", 2, OutputType::MultipleChoice, 0);
  t.load_eval = [](const std::filesystem::path& dir) {
    return jsonl_split("validation", dir / "boolq" / "val.jsonl", boolq_doc);
  };
  // SuperGLUE's train.jsonl (absent from ../shared/data); only needed for shots > 0.
  t.load_fewshot = [](const std::filesystem::path& dir) {
    return jsonl_split("train", dir / "boolq" / "train.jsonl", boolq_doc);
  };
  t.sampler_gets_eval_doc = true;  // no test_split and no fewshot_split (lm-eval lm_eval/api/samplers.py@4e7e0d47)
  // The questions carry no "?"; the template adds it.
  t.doc_to_text = [](const Doc& doc) {
    return doc.at("passage").get<std::string>() + "\nQuestion: " + doc.at("question").get<std::string>() + "?\nAnswer:";
  };
  t.doc_to_choice = [](const Doc&) { return std::vector<std::string>{"no", "yes"}; };
  t.doc_to_gold = [](const Doc& doc) { return doc.at("label").get<int>(); };
  target_is_gold_choice(t);
  t.metrics = {registry_metric("acc")};
  return t;
}

}  // namespace

const TaskRegistration kBoolqRegistration{300, &boolq_task};

}  // namespace gemma::evals::tasks
