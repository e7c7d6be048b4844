// WinoGrande (lm-eval tasks/winogrande, winogrande_xl). Data: AllenAI's
// winogrande_1.1.zip unpacked in data_dir/winogrande: winogrande_1.1/{dev,train_xl}.jsonl with
// {qID, sentence, option1, option2, answer "1"/"2"}.
//
// A multiple_inputs task. lm-eval's doc_to_text returns the gold index; TaskSpec's is a string, so:
//   doc_to_choice(doc) = the two contexts, sentence[:i] + option_k (i = index of "_");
//   doc_to_target(doc) = the shared continuation text, sentence[i+1:].strip();
//   doc_to_gold(doc)   = {"1": 0, "2": 1}[answer];
//   doc_to_text(doc)   = doc_to_choice(doc)[gold], the gold context, so that a shot renders
//                        generically as doc_to_text + td + doc_to_target + fd (lm-eval's rendering).
// The eval doc makes one request per context: (prefix + context_k, td + target).
#include "common/python_text.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

Doc winogrande_doc(const Doc& row, const RowSource& at) {
  const std::string& sentence = string_field(row, "sentence", at);
  if (sentence.find('_') == std::string::npos) fail_field(at, "sentence", "has no \"_\" blank");
  string_field(row, "option1", at);
  string_field(row, "option2", at);
  index_of({"1", "2"}, string_field(row, "answer", at), "answer", at);
  return row;
}

std::vector<std::string> contexts(const Doc& doc) {
  const auto& sentence = doc.at("sentence").get_ref<const std::string&>();
  const std::string prefix = sentence.substr(0, sentence.find('_'));
  return {prefix + doc.at("option1").get<std::string>(), prefix + doc.at("option2").get<std::string>()};
}

int gold(const Doc& doc) { return doc.at("answer") == "2" ? 1 : 0; }

TaskSpec winogrande_task() {
  TaskSpec t = new_task("winogrande", 1, OutputType::MultipleChoice, 5);
  t.multiple_inputs = true;
  t.load_eval = [](const std::filesystem::path& dir) {
    return jsonl_split("validation", dir / "winogrande" / "winogrande_1.1" / "dev.jsonl", winogrande_doc);
  };
  t.load_fewshot = [](const std::filesystem::path& dir) {
    return jsonl_split("train", dir / "winogrande" / "winogrande_1.1" / "train_xl.jsonl", winogrande_doc);
  };
  t.sampler_gets_eval_doc = true;  // no test_split and no fewshot_split (lm-eval lm_eval/api/samplers.py@4e7e0d47)
  t.doc_to_choice = contexts;
  t.doc_to_gold = gold;
  t.doc_to_text = [](const Doc& doc) { return contexts(doc).at(static_cast<size_t>(gold(doc))); };
  t.doc_to_target = [](const Doc& doc) {
    const auto& sentence = doc.at("sentence").get_ref<const std::string&>();
    return python_strip(std::string_view(sentence).substr(sentence.find('_') + 1));
  };
  t.metrics = {registry_metric("acc")};
  return t;
}

}  // namespace

const TaskRegistration kWinograndeRegistration{800, &winogrande_task};

}  // namespace gemma::evals::tasks
