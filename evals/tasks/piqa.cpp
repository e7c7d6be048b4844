// PIQA (lm-eval tasks/piqa). Data: the ybisk.github.io files,
// data_dir/piqa/{valid,train}.jsonl with {goal, sol1, sol2} and the parallel
// {valid,train}-labels.lst (0 -> sol1, 1 -> sol2). Doc = HF piqa {goal, sol1, sol2, label}.
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

Doc piqa_doc(const Doc& row, const std::string& label, const RowSource& at, const RowSource& label_at) {
  Doc doc;
  doc["goal"] = string_field(row, "goal", at);
  doc["sol1"] = string_field(row, "sol1", at);
  doc["sol2"] = string_field(row, "sol2", at);
  doc["label"] = index_of({"0", "1"}, label, "label", label_at);
  return doc;
}

DocSplit load_piqa(const std::filesystem::path& dir, const std::string& split, const std::string& stem) {
  return labeled_jsonl_split(split, dir / "piqa" / (stem + ".jsonl"), dir / "piqa" / (stem + "-labels.lst"), piqa_doc);
}

TaskSpec piqa_task() {
  TaskSpec t = new_task("piqa", 1, OutputType::MultipleChoice, 0);
  t.load_eval = [](const std::filesystem::path& dir) { return load_piqa(dir, "validation", "valid"); };
  // The published train split (absent from ../shared/data); only needed for shots > 0.
  t.load_fewshot = [](const std::filesystem::path& dir) { return load_piqa(dir, "train", "train"); };
  t.sampler_gets_eval_doc = true;  // no test_split and no fewshot_split (lm-eval lm_eval/api/samplers.py@4e7e0d47)
  t.doc_to_text = [](const Doc& doc) { return "Question: " + doc.at("goal").get<std::string>() + "\nAnswer:"; };
  t.doc_to_choice = [](const Doc& doc) {
    return std::vector<std::string>{doc.at("sol1").get<std::string>(), doc.at("sol2").get<std::string>()};
  };
  t.doc_to_gold = [](const Doc& doc) { return doc.at("label").get<int>(); };
  target_is_gold_choice(t);
  t.metrics = {registry_metric("acc"), registry_metric("acc_norm")};
  return t;
}

}  // namespace

const TaskRegistration kPiqaRegistration{400, &piqa_task};

}  // namespace gemma::evals::tasks
