// Natural Questions open (lm-eval tasks/nq_open/nq_open.yaml, version 4): 5 random train
// shots after the description "Answer these questions:\n\n", shots separated by ONE newline; the
// stripped first line of the generation scored by exact_match against every answer. Data: the
// google-research-datasets/natural-questions nq_open files, data_dir/nq_open/NQ-open.dev.jsonl (HF
// nq_open "validation", 3 610 rows) and NQ-open.train.jsonl ("train", 87 925; only for shots > 0),
// rows {question, answer: [strings]}.
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/open_qa.h"

#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

Doc nq_open_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["question"] = string_field(row, "question", at);
  const std::vector<std::string> answers = string_list_field(row, "answer", at);
  if (answers.empty()) fail_field(at, "answer", "empty list (a shot shows answer[0])");
  doc["answer"] = answers;
  return doc;
}

}  // namespace

FilterPipeline remove_whitespace_pipeline() {
  using Kind = FilterStep::Kind;
  return {"remove_whitespace", {{Kind::RemoveWhitespace, "", 0, "[invalid]"}, {Kind::TakeFirst, "", 0, "[invalid]"}}};
}

std::vector<std::string> short_answer_stops() { return {"\n", ".", ","}; }

namespace {

TaskSpec nq_open_task() {
  TaskSpec t = new_task("nq_open", 4, OutputType::GenerateUntil, 5);
  t.load_eval = [](const std::filesystem::path& dir) {
    return jsonl_split("validation", dir / "nq_open" / "NQ-open.dev.jsonl", nq_open_doc);
  };
  t.load_fewshot = [](const std::filesystem::path& dir) {
    return jsonl_split("train", dir / "nq_open" / "NQ-open.train.jsonl", nq_open_doc);
  };
  // no fewshot_split and no test_split: lm-eval draws n+1 (lm-eval lm_eval/api/samplers.py@4e7e0d47)
  t.sampler_gets_eval_doc = true;
  t.description = "Answer these questions:\n\n";
  t.fewshot_delimiter = "\n";
  t.doc_to_text = [](const Doc& doc) { return "Q: " + doc.at("question").get<std::string>() + "?\nA:"; };
  t.doc_to_target = [](const Doc& doc) { return doc.at("answer").at(0).get<std::string>(); };
  t.doc_to_references = [](const Doc& doc) { return doc.at("answer").get<std::vector<std::string>>(); };
  t.until = short_answer_stops();
  t.filters = {remove_whitespace_pipeline()};
  // Verbatim from the YAML (duplicate "The " included); applied before lower-casing, so "THE " stays.
  // RE2's \b is ASCII-only where Python's is Unicode: differs only for an article right after a
  // non-ASCII letter.
  const nlohmann::ordered_json articles = nlohmann::ordered_json::array({R"(\b(?:The |the |An |A |The |a |an ))"});
  t.metrics = {registry_metric("exact_match", "",
                               {{"ignore_case", true}, {"ignore_punctuation", true}, {"regexes_to_ignore", articles}})};
  return t;
}

}  // namespace

const TaskRegistration kNqOpenRegistration{1800, &nq_open_task};

}  // namespace gemma::evals::tasks
