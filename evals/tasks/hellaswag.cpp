// HellaSwag (lm-eval tasks/hellaswag). Data: the rowanz/hellaswag GitHub files,
// data_dir/hellaswag/hellaswag_{val,train}.jsonl.
#include "evals/tasks/hellaswag.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include "common/python_text.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/text.h"

namespace gemma::evals::tasks {

std::string hellaswag_preprocess(std::string_view text) {
  // The brackets are WikiHow artefacts ("[title]", "[step]", "[header]"); Python's re "." does not
  // match a newline and neither does RE2's by default, so the patterns agree.
  static const RE2 kBracketed(R"(\[.*?\])");
  std::string out = replace_all(python_strip(text), " [title]", ". ");
  RE2::GlobalReplace(&out, kBracketed, "");
  return replace_all(out, "  ", " ");
}

Doc hellaswag_process_doc(const Doc& row, const RowSource& at) {
  const std::string& activity = string_field(row, "activity_label", at);
  const std::string& ctx_a = string_field(row, "ctx_a", at);
  const std::string& ctx_b = string_field(row, "ctx_b", at);
  const std::vector<std::string> endings = string_list_field(row, "endings", at);
  if (endings.empty()) fail_field(at, "endings", "no endings");
  const long long label = integer_like_field(row, "label", at);
  if (label < 0 || label >= static_cast<long long>(endings.size()))
    fail_field(at, "label", fmt::format("{} is out of range for {} endings", label, endings.size()));

  Doc doc = row;
  doc["query"] = hellaswag_preprocess(activity + ": " + ctx_a + " " + py_capitalize(ctx_b));
  Doc choices = Doc::array();
  for (const auto& ending : endings) choices.push_back(hellaswag_preprocess(ending));
  doc["choices"] = std::move(choices);
  doc["gold"] = label;
  return doc;
}

namespace {

TaskSpec hellaswag_task() {
  TaskSpec t = new_task("hellaswag", 1, OutputType::MultipleChoice, 10);
  t.load_eval = [](const std::filesystem::path& dir) {
    return jsonl_split("validation", dir / "hellaswag" / "hellaswag_val.jsonl", hellaswag_process_doc);
  };
  t.load_fewshot = [](const std::filesystem::path& dir) {
    return jsonl_split("train", dir / "hellaswag" / "hellaswag_train.jsonl", hellaswag_process_doc);
  };
  // no test_split and no fewshot_split: lm-eval draws n+1 (lm-eval lm_eval/api/samplers.py@4e7e0d47)
  t.sampler_gets_eval_doc = true;
  t.doc_to_text = [](const Doc& doc) { return doc.at("query").get<std::string>(); };
  t.doc_to_choice = [](const Doc& doc) { return doc.at("choices").get<std::vector<std::string>>(); };
  t.doc_to_gold = [](const Doc& doc) { return doc.at("gold").get<int>(); };
  target_is_gold_choice(t);
  t.metrics = {registry_metric("acc"), registry_metric("acc_norm")};
  return t;
}

}  // namespace

const TaskRegistration kHellaswagRegistration{200, &hellaswag_task};

}  // namespace gemma::evals::tasks
