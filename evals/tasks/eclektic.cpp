// ECLeKTic (the ECLeKTic paper; no reference harness config — approximate, NOT comparable to the card):
// closed-book QA where each question comes from a Wikipedia article that exists in one language only
// (its source language) and is asked in all 12 languages. The paper judges answers with an LLM
// autorater; here an answer is correct when the SQuAD-normalised gold answer is contained in the
// SQuAD-normalised generation (the paper's string-matching baseline, in spirit). Metrics:
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

#include <map>

#include "common/error.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "scorers/squad.h"

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

bool contains_answer(const std::string& prediction, const std::string& answer) {
  const std::string gold = scorers::squad_normalize_answer(answer);
  return !gold.empty() && scorers::squad_normalize_answer(prediction).find(gold) != std::string::npos;
}

struct PairCounts {
  size_t pairs = 0, source_correct = 0, both_correct = 0;
};

// Pairs every evaluated target-language doc with its question's source-language doc.
PairCounts count_pairs(const std::vector<std::string>& predictions,
                       const std::vector<std::vector<std::string>>& references) {
  if (predictions.size() != references.size())
    fail("eclektic: {} predictions for {} references", predictions.size(), references.size());
  std::map<std::string, bool> source_correct;  // q_id -> correct in the source language
  std::vector<std::pair<std::string, bool>> targets;
  for (size_t i = 0; i < predictions.size(); ++i) {
    if (references[i].size() != 1) fail("eclektic: doc {} has {} references, expected 1", i, references[i].size());
    const EclekticReference ref = eclektic_reference(references[i][0]);
    const bool correct = contains_answer(predictions[i], ref.answer);
    if (ref.lang == ref.original_lang)
      source_correct[ref.q_id] = correct;
    else
      targets.emplace_back(ref.q_id, correct);
  }
  PairCounts counts;
  for (const auto& [q_id, correct] : targets) {
    const auto source = source_correct.find(q_id);
    if (source == source_correct.end()) continue;  // source doc not evaluated (e.g. --limit)
    ++counts.pairs;
    if (!source->second) continue;
    ++counts.source_correct;
    if (correct) ++counts.both_correct;
  }
  return counts;
}

double ratio(size_t numerator, size_t denominator) {
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

EclekticReference eclektic_reference(const std::string& encoded) {
  const Doc parsed = Doc::parse(encoded, nullptr, /*allow_exceptions=*/false);
  EclekticReference ref;
  for (auto [field, out] : {std::pair{"answer", &ref.answer},
                            {"q_id", &ref.q_id},
                            {"lang", &ref.lang},
                            {"original_lang", &ref.original_lang}}) {
    if (!parsed.is_object() || !parsed.contains(field) || !parsed.at(field).is_string())
      fail("eclektic reference without a string \"{}\": {}", field, encoded);
    *out = parsed.at(field).get<std::string>();
  }
  return ref;
}

double eclektic_correct(const std::string& prediction, const std::vector<std::string>& references) {
  return references.empty()                                                           ? 0.0
         : contains_answer(prediction, eclektic_reference(references.front()).answer) ? 1.0
                                                                                      : 0.0;
}

double eclektic_overall_success(const std::vector<std::string>& predictions,
                                const std::vector<std::vector<std::string>>& references) {
  const PairCounts counts = count_pairs(predictions, references);
  return ratio(counts.both_correct, counts.pairs);
}

double eclektic_transfer(const std::vector<std::string>& predictions,
                         const std::vector<std::vector<std::string>>& references) {
  const PairCounts counts = count_pairs(predictions, references);
  return ratio(counts.both_correct, counts.source_correct);
}

namespace {

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
  MetricSpec correct{"correct", true, {}};
  correct.score = eclektic_correct;
  MetricSpec overall{"overall_success", true, {}};
  overall.corpus_score = eclektic_overall_success;
  MetricSpec transfer{"transfer", true, {}};
  transfer.corpus_score = eclektic_transfer;
  for (MetricSpec* m : {&correct, &overall, &transfer}) m->variant = "containment (approximate; paper: LLM judge)";
  t.metrics = {correct, overall, transfer};
  return {t};
}

}  // namespace

const TaskRegistration kEclekticRegistration{2100, &eclektic_tasks};

}  // namespace gemma::evals::tasks
