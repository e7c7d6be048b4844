// ECLeKTic (the ECLeKTic paper; no reference harness config — approximate, NOT comparable to the card):
// closed-book QA where each question comes from a Wikipedia article that exists in one language only
// (its source language) and is asked in all 12 languages. The paper judges answers with an LLM
// autorater; here an answer is correct when the SQuAD-normalised gold answer is contained in the
// SQuAD-normalised generation (the paper's string-matching baseline, in spirit). Metrics (registry entries
// NAME:eclektic, scorers/eclektic.h):
//  - correct: per-doc containment (mean over docs);
//  - overall_success: over (question, target language != source) pairs whose source doc was also
//    evaluated, the fraction answered correctly in BOTH the source and the target language;
//  - transfer: the same successes over the pairs whose source question was answered correctly.
// Assumed data layout (HF google/eclektic, JSONL, one row per question x language):
// data_dir/eclektic/eclektic_main.jsonl with {q_id, original_lang, lang, question, answer, ...}
// (title, url, content, original_question, original_answer ignored). Prompt (assumed):
// "Question: {question}\nAnswer:", 0-shot (the IT card's setting), until "\n".
// References: one JSON object per doc, {"answer", "q_id", "lang", "original_lang"}, so the corpus
// metrics can pair source and target docs from samples.jsonl alone.
#include "evals/task_registry.h"
#include "evals/tasks/open_qa.h"

#include "common/error.h"
#include "evals/registry_metric.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {

namespace {

// q_id may be published as a number or a string; kept as text.
std::string q_id_text(const Doc& row, const RowSource& at) {
  if (row.is_object() && row.contains("q_id") && row.at("q_id").is_number_integer())
    return std::to_string(row.at("q_id").get<long long>());
  return string_field(row, "q_id", at);
}

Doc eclektic_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["q_id"] = q_id_text(row, at);
  for (const char* field : {"original_lang", "lang", "question", "answer"}) doc[field] = string_field(row, field, at);
  if (doc["answer"].get_ref<const std::string&>().empty()) fail_field(at, "answer", "empty");
  return doc;
}

std::vector<TaskSpec> eclektic_tasks() {
  TaskSpec t = new_task("eclektic", 1, OutputType::GenerateUntil, 0);
  t.load_eval = [](const std::filesystem::path& dir) {
    return jsonl_split("test", dir / "eclektic" / "eclektic_main.jsonl", eclektic_doc);
  };
  // No shot split: the benchmark is zero-shot only.
  t.doc_to_text = [](const Doc& doc) { return "Question: " + doc.at("question").get<std::string>() + "\nAnswer:"; };
  t.doc_to_target = [](const Doc& doc) { return doc.at("answer").get<std::string>(); };
  t.doc_to_references = [](const Doc& doc) {
    Doc reference;
    for (const char* field : {"answer", "q_id", "lang", "original_lang"}) reference[field] = doc.at(field);
    return std::vector<std::string>{reference.dump(-1, ' ', false, Doc::error_handler_t::replace)};
  };
  t.until = {"\n"};
  t.max_gen_toks = 64;  // short factual answers; containment only needs the first line
  t.filters = {remove_whitespace_pipeline()};
  // The registry's ECLeKTic entries (scorers/eclektic.h), over the self-contained references above.
  MetricSpec correct = registry_metric("correct:eclektic");
  MetricSpec overall = registry_metric("overall_success:eclektic");
  MetricSpec transfer = registry_metric("transfer:eclektic");
  for (MetricSpec* m : {&correct, &overall, &transfer}) m->variant = "containment (approximate; paper: LLM judge)";
  t.metrics = {correct, overall, transfer};
  return {t};
}

}  // namespace

const TaskRegistration kEclekticRegistration{2100, &eclektic_tasks};

}  // namespace gemma::evals::tasks
