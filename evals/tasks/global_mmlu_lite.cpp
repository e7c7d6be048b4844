// Global-MMLU-Lite (lm-eval tasks/global_mmlu/default/<lang>/_<lang>_template_yaml and
// utils.py): 15 languages, each split into lm-eval's six subject_category subtasks. Data: the
// published CohereLabs/Global-MMLU-Lite layout (one folder per language config, splits test and dev)
// exported as JSONL: data_dir/global_mmlu_lite/<lang>/{test,dev}.jsonl, one dataset row per line with
// {question, option_a, option_b, option_c, option_d, answer (letter), subject, subject_category,
// cultural_sensitivity_label, ...}; rows are kept whole.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "common/python_text.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

const char* const kLanguages[] = {"ar", "bn", "de", "en", "es", "fr", "hi", "id",
                                  "it", "ja", "ko", "pt", "sw", "yo", "zh"};
// utils.py CATEGORIES; the task suffix is category.lower().replace(' ', '_').
const std::vector<std::string> kCategories = {"Business", "Humanities", "Medical", "Other", "STEM", "Social Sciences"};
const std::vector<std::string> kLetters = {"A", "B", "C", "D"};

std::string task_suffix(std::string category) {
  for (char& c : category) c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return category;
}

// utils.py process_docs: the rows of one subject_category (applied to the shot split too, as lm-eval
// applies process_docs to fewshot docs). A category outside the six is a bad row, not a silent drop.
DocSplit load_category(const std::filesystem::path& data_dir, const std::string& language, const std::string& split,
                       const std::string& category) {
  DocSplit all = jsonl_split(split, data_dir / "global_mmlu_lite" / language / (split + ".jsonl"),
                             [](const Doc& row, const RowSource& at) {
                               string_field(row, "question", at);
                               for (const char* option : {"option_a", "option_b", "option_c", "option_d"})
                                 string_field(row, option, at);
                               index_of(kLetters, string_field(row, "answer", at), "answer", at);
                               index_of(kCategories, string_field(row, "subject_category", at), "subject_category", at);
                               return row;
                             });
  DocSplit out;
  out.name = all.name;
  for (Doc& doc : all.docs)
    if (doc.at("subject_category").get_ref<const std::string&>() == category) out.docs.push_back(std::move(doc));
  out.files = std::move(all.files);
  out.files.front().rows = out.docs.size();
  return out;
}

// The English scaffold for every language (the YAML's doc_to_text).
std::string global_mmlu_text(const Doc& doc) {
  return fmt::format("{}\nA. {}\nB. {}\nC. {}\nD. {}\nAnswer:", python_strip(doc.at("question").get<std::string>()),
                     doc.at("option_a").get<std::string>(), doc.at("option_b").get<std::string>(),
                     doc.at("option_c").get<std::string>(), doc.at("option_d").get<std::string>());
}

TaskSpec global_mmlu_task(const std::string& language, const std::string& category) {
  // metadata version 0.0; the IT card reports 0-shot (the PT card gives no shot count); shots, when
  // asked for, come from dev with lm-eval's default random sampler.
  TaskSpec t = new_task(fmt::format("global_mmlu_{}_{}", language, task_suffix(category)), 0,
                        OutputType::MultipleChoice, 0, ShotSampler::Random);
  t.groups = {"global_mmlu_" + language, "global_mmlu"};
  t.load_eval = [=](const std::filesystem::path& dir) { return load_category(dir, language, "test", category); };
  t.load_fewshot = [=](const std::filesystem::path& dir) { return load_category(dir, language, "dev", category); };
  t.sampler_gets_eval_doc = false;  // fewshot_split dev != test_split
  t.doc_to_text = global_mmlu_text;
  t.doc_to_choice = [](const Doc&) { return kLetters; };
  t.doc_to_gold = [](const Doc& doc) {
    const std::string& answer = doc.at("answer").get_ref<const std::string&>();
    return static_cast<int>(std::find(kLetters.begin(), kLetters.end(), answer) - kLetters.begin());
  };
  target_is_gold_choice(t);  // doc_to_target: answer (the letter)
  t.metrics = {registry_metric("acc")};
  return t;
}

std::vector<TaskSpec> global_mmlu_lite_tasks() {
  std::vector<TaskSpec> tasks;
  for (const char* language : kLanguages)
    for (const std::string& category : kCategories) tasks.push_back(global_mmlu_task(language, category));
  return tasks;
}

}  // namespace

const TaskRegistration kGlobalMmluLiteRegistration{2700, &global_mmlu_lite_tasks};

}  // namespace gemma::evals::tasks
