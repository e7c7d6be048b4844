// ARC-Easy / ARC-Challenge (lm-eval tasks/arc). Data: the AI2 ARC-V1-Feb2018 JSONL
// files, data_dir/arc/ARC-{Easy,Challenge}-{Test,Train}.jsonl; rows {id, question: {stem,
// choices: [{text, label}]}, answerKey}. Reshaped to HF ai2_arc's layout {id, question,
// choices: {text[], label[]}, answerKey} so logged docs read like lm-eval's.
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

Doc arc_doc(const Doc& row, const RowSource& at) {
  const std::string& id = string_field(row, "id", at);
  const Doc& question = object_field(row, "question", at);
  const std::string& stem = string_field(question, "stem", at);
  const auto it = question.find("choices");
  if (it == question.end() || !it->is_array() || it->empty())
    fail_field(at, "question.choices", "missing or not a non-empty array");
  Doc texts = Doc::array(), labels = Doc::array();
  std::vector<std::string> label_list;
  for (const Doc& choice : *it) {
    texts.push_back(string_field(choice, "text", at));
    label_list.push_back(string_field(choice, "label", at));
    labels.push_back(label_list.back());
  }
  const std::string& answer_key = string_field(row, "answerKey", at);
  index_of(label_list, answer_key, "answerKey", at);  // a key that names no choice is a bad row

  Doc doc;
  doc["id"] = id;
  doc["question"] = stem;
  doc["choices"] = {{"text", std::move(texts)}, {"label", std::move(labels)}};
  doc["answerKey"] = answer_key;
  return doc;
}

TaskSpec arc_task(const std::string& name, const std::string& file_stem, int default_shots) {
  TaskSpec t = new_task(name, 1, OutputType::MultipleChoice, default_shots);
  t.load_eval = [file_stem](const std::filesystem::path& dir) {
    return jsonl_split("test", dir / "arc" / (file_stem + "-Test.jsonl"), arc_doc);
  };
  t.load_fewshot = [file_stem](const std::filesystem::path& dir) {
    return jsonl_split("train", dir / "arc" / (file_stem + "-Train.jsonl"), arc_doc);
  };
  t.sampler_gets_eval_doc = false;  // test_split is set and shots come from train: draws n
  t.doc_to_text = [](const Doc& doc) { return "Question: " + doc.at("question").get<std::string>() + "\nAnswer:"; };
  t.doc_to_choice = [](const Doc& doc) { return doc.at("choices").at("text").get<std::vector<std::string>>(); };
  // choices.label.index(answerKey): labels are "A".."E" or, for some rows, "1".."5"; the gold is the
  // position either way (never the numeric value of the label).
  t.doc_to_gold = [](const Doc& doc) {
    const Doc& labels = doc.at("choices").at("label");
    for (size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == doc.at("answerKey")) return static_cast<int>(i);
    return -1;  // unreachable for loaded docs: arc_doc rejects such rows
  };
  target_is_gold_choice(t);
  t.metrics = {registry_metric("acc"), registry_metric("acc_norm")};
  return t;
}

TaskSpec arc_easy_task() { return arc_task("arc_easy", "ARC-Easy", 0); }
TaskSpec arc_challenge_task() { return arc_task("arc_challenge", "ARC-Challenge", 25); }

}  // namespace

const TaskRegistration kArcEasyRegistration{600, &arc_easy_task};
const TaskRegistration kArcChallengeRegistration{700, &arc_challenge_task};

}  // namespace gemma::evals::tasks
