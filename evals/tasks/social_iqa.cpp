// SocialIQA (lm-eval tasks/siqa, task social_iqa). Data: AllenAI's
// socialiqa-train-dev.zip unpacked in data_dir/social_iqa: socialiqa-train-dev/{dev,train}.jsonl
// with {context, question, answerA, answerB, answerC} and the parallel {dev,train}-labels.lst
// ("1".."3"). Doc = HF social_i_qa {context, question, answerA, answerB, answerC, label "1".."3"}.
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

Doc siqa_doc(const Doc& row, const std::string& label, const RowSource& at, const RowSource& label_at) {
  Doc doc;
  for (const char* field : {"context", "question", "answerA", "answerB", "answerC"})
    doc[field] = string_field(row, field, at);
  index_of({"1", "2", "3"}, label, "label", label_at);
  doc["label"] = label;
  return doc;
}

DocSplit load_siqa(const std::filesystem::path& dir, const std::string& split, const std::string& stem) {
  const auto folder = dir / "social_iqa" / "socialiqa-train-dev";
  return labeled_jsonl_split(split, folder / (stem + ".jsonl"), folder / (stem + "-labels.lst"), siqa_doc);
}

TaskSpec social_iqa_task() {
  TaskSpec t = new_task("social_iqa", 0, OutputType::MultipleChoice, 0);
  t.load_eval = [](const std::filesystem::path& dir) { return load_siqa(dir, "validation", "dev"); };
  t.load_fewshot = [](const std::filesystem::path& dir) { return load_siqa(dir, "train", "train"); };
  t.sampler_gets_eval_doc = true;  // no test_split and no fewshot_split (lm-eval lm_eval/api/samplers.py@4e7e0d47)
  t.doc_to_text = [](const Doc& doc) {
    return "Q: " + doc.at("context").get<std::string>() + " " + doc.at("question").get<std::string>() + "\nA:";
  };
  t.doc_to_choice = [](const Doc& doc) {
    return std::vector<std::string>{doc.at("answerA").get<std::string>(), doc.at("answerB").get<std::string>(),
                                    doc.at("answerC").get<std::string>()};
  };
  t.doc_to_gold = [](const Doc& doc) { return std::stoi(doc.at("label").get<std::string>()) - 1; };
  target_is_gold_choice(t);
  t.metrics = {registry_metric("acc")};
  return t;
}

}  // namespace

const TaskRegistration kSocialIqaRegistration{500, &social_iqa_task};

}  // namespace gemma::evals::tasks
