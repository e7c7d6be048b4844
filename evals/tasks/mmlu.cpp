// MMLU, 57 subjects (lm-eval tasks/mmlu/default). Data: the Hendrycks CSVs,
// data_dir/mmlu/{test,dev}/<subject>_{test,dev}.csv, headerless: question, A, B, C, D, answer letter.
#include <fmt/format.h>

#include "common/error.h"
#include "common/python_text.h"
#include "datasets/csv.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

// MMLU's 57 subjects, alphabetical, with lm-eval's category (tasks/mmlu/default/mmlu_<s>.yaml).
struct MmluSubject {
  const char* name;
  const char* category;  // "stem", "other", "social_sciences", "humanities"
};

const std::vector<MmluSubject>& mmlu_subjects() {
  static const std::vector<MmluSubject> subjects = {
      {"abstract_algebra", "stem"},
      {"anatomy", "stem"},
      {"astronomy", "stem"},
      {"business_ethics", "other"},
      {"clinical_knowledge", "other"},
      {"college_biology", "stem"},
      {"college_chemistry", "stem"},
      {"college_computer_science", "stem"},
      {"college_mathematics", "stem"},
      {"college_medicine", "other"},
      {"college_physics", "stem"},
      {"computer_security", "stem"},
      {"conceptual_physics", "stem"},
      {"econometrics", "social_sciences"},
      {"electrical_engineering", "stem"},
      {"elementary_mathematics", "stem"},
      {"formal_logic", "humanities"},
      {"global_facts", "other"},
      {"high_school_biology", "stem"},
      {"high_school_chemistry", "stem"},
      {"high_school_computer_science", "stem"},
      {"high_school_european_history", "humanities"},
      {"high_school_geography", "social_sciences"},
      {"high_school_government_and_politics", "social_sciences"},
      {"high_school_macroeconomics", "social_sciences"},
      {"high_school_mathematics", "stem"},
      {"high_school_microeconomics", "social_sciences"},
      {"high_school_physics", "stem"},
      {"high_school_psychology", "social_sciences"},
      {"high_school_statistics", "stem"},
      {"high_school_us_history", "humanities"},
      {"high_school_world_history", "humanities"},
      {"human_aging", "other"},
      {"human_sexuality", "social_sciences"},
      {"international_law", "humanities"},
      {"jurisprudence", "humanities"},
      {"logical_fallacies", "humanities"},
      {"machine_learning", "stem"},
      {"management", "other"},
      {"marketing", "other"},
      {"medical_genetics", "other"},
      {"miscellaneous", "other"},
      {"moral_disputes", "humanities"},
      {"moral_scenarios", "humanities"},
      {"nutrition", "other"},
      {"philosophy", "humanities"},
      {"prehistory", "humanities"},
      {"professional_accounting", "other"},
      {"professional_law", "humanities"},
      {"professional_medicine", "other"},
      {"professional_psychology", "social_sciences"},
      {"public_relations", "social_sciences"},
      {"security_studies", "social_sciences"},
      {"sociology", "social_sciences"},
      {"us_foreign_policy", "social_sciences"},
      {"virology", "other"},
      {"world_religions", "humanities"},
  };
  return subjects;
}

// Doc layout of HF cais/mmlu: {question, subject, choices[4], answer (0-3)}.
DocSplit load_mmlu_split(const std::filesystem::path& data_dir, const std::string& subject, const std::string& split) {
  SourceFile file = read_source(data_dir / "mmlu" / split / fmt::format("{}_{}.csv", subject, split));
  static const char* const kColumns[] = {"question", "A", "B", "C", "D", "answer"};
  DocSplit out;
  out.name = split;
  for (const auto& record : datasets::parse_csv(file.bytes, file.info.path)) {
    const RowSource at{file.info.path, record.line};
    if (record.fields.size() != 6)
      fail("{}:{}: expected 6 columns (question, A, B, C, D, answer), got {}", at.file, at.line, record.fields.size());
    const auto& f = record.fields;
    const size_t answer = index_of({"A", "B", "C", "D"}, f[5], kColumns[5], at);
    Doc doc;
    doc["question"] = f[0];
    doc["subject"] = subject;
    doc["choices"] = {f[1], f[2], f[3], f[4]};
    doc["answer"] = answer;
    out.docs.push_back(std::move(doc));
  }
  file.info.rows = out.docs.size();
  out.files.push_back(std::move(file.info));
  return out;
}

std::string mmlu_text(const Doc& doc) {
  const Doc& c = doc.at("choices");
  return fmt::format("{}\nA. {}\nB. {}\nC. {}\nD. {}\nAnswer:", python_strip(doc.at("question").get<std::string>()),
                     c.at(0).get<std::string>(), c.at(1).get<std::string>(), c.at(2).get<std::string>(),
                     c.at(3).get<std::string>());
}

TaskSpec mmlu_task(const MmluSubject& s) {
  const std::string subject = s.name;
  // Shots: the 5 dev items, in file order.
  TaskSpec t = new_task("mmlu_" + subject, 1, OutputType::MultipleChoice, 5, ShotSampler::FirstN);
  t.groups = {std::string("mmlu_") + s.category, "mmlu"};
  std::string spaced = subject;
  for (char& ch : spaced)
    if (ch == '_') ch = ' ';
  t.description = fmt::format("The following are multiple choice questions (with answers) about {}.\n\n", spaced);
  t.load_eval = [subject](const std::filesystem::path& dir) { return load_mmlu_split(dir, subject, "test"); };
  t.load_fewshot = [subject](const std::filesystem::path& dir) { return load_mmlu_split(dir, subject, "dev"); };
  t.sampler_gets_eval_doc = false;  // fewshot_split dev != test_split
  t.doc_to_text = mmlu_text;
  t.doc_to_choice = [](const Doc&) { return std::vector<std::string>{"A", "B", "C", "D"}; };
  t.doc_to_gold = [](const Doc& doc) { return doc.at("answer").get<int>(); };
  target_is_gold_choice(t);  // shot answer: the letter
  t.metrics = {registry_metric("acc")};
  return t;
}

std::vector<TaskSpec> mmlu_tasks() {
  std::vector<TaskSpec> tasks;
  for (const auto& subject : mmlu_subjects()) tasks.push_back(mmlu_task(subject));
  return tasks;
}

}  // namespace

const TaskRegistration kMmluRegistration{100, &mmlu_tasks};

}  // namespace gemma::evals::tasks
