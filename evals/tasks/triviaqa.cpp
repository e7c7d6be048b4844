// TriviaQA (lm-eval tasks/triviaqa/default.yaml, version 3): closed-book, 5 random train
// shots; the stripped generation scored by exact_match (case and ASCII punctuation ignored, no
// article removal) against every alias. Data: HF mandarjoshi/trivia_qa config rc.nocontext
// exported as JSONL (one HF row per line, the datasets library's to_json layout):
// data_dir/triviaqa/rc.nocontext/{validation,train}.jsonl, rows {question, question_id, ...,
// answer: {aliases: [...], normalized_aliases, value, ...}}; only question and answer.aliases are
// used. HF sizes: validation 17 944, train 138 384.
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/open_qa.h"

#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

Doc triviaqa_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["question"] = string_field(row, "question", at);
  const std::vector<std::string> aliases = string_list_field(object_field(row, "answer", at), "aliases", at);
  if (aliases.empty()) fail_field(at, "answer.aliases", "empty list (a shot shows aliases[0])");
  doc["aliases"] = aliases;
  return doc;
}

DocSplit load_triviaqa(const std::filesystem::path& dir, const std::string& split) {
  return jsonl_split(split, dir / "triviaqa" / "rc.nocontext" / (split + ".jsonl"), triviaqa_doc);
}

TaskSpec triviaqa_task() {
  TaskSpec t = new_task("triviaqa", 3, OutputType::GenerateUntil, 5);
  t.load_eval = [](const std::filesystem::path& dir) { return load_triviaqa(dir, "validation"); };
  t.load_fewshot = [](const std::filesystem::path& dir) { return load_triviaqa(dir, "train"); };
  // no fewshot_split and no test_split: lm-eval draws n+1 (lm-eval lm_eval/api/samplers.py@4e7e0d47)
  t.sampler_gets_eval_doc = true;
  t.doc_to_text = [](const Doc& doc) { return "Question: " + doc.at("question").get<std::string>() + "?\nAnswer:"; };
  // doc_to_target "{{answer.aliases}}" renders a list: shots show its first element, every alias is a
  // reference (lm-eval lm_eval/config/task.py@4e7e0d47 multiple targets).
  t.doc_to_target = [](const Doc& doc) { return doc.at("aliases").at(0).get<std::string>(); };
  t.doc_to_references = [](const Doc& doc) { return doc.at("aliases").get<std::vector<std::string>>(); };
  t.until = short_answer_stops();
  t.filters = {remove_whitespace_pipeline()};
  t.metrics = {registry_metric("exact_match", "", {{"ignore_case", true}, {"ignore_punctuation", true}})};
  return t;
}

}  // namespace

const TaskRegistration kTriviaqaRegistration{1700, &triviaqa_task};

}  // namespace gemma::evals::tasks
