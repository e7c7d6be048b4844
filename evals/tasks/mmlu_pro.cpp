// MMLU-Pro, chain-of-thought 5-shot (lm-eval tasks/mmlu_pro/{_default_template_yaml,
// utils.py}): 14 category tasks, group mmlu_pro micro-averaged. Data (not in the shared folder): the
// published TIGER-Lab/MMLU-Pro splits exported as JSON Lines (`datasets` to_json, one row per line),
// data_dir/mmlu_pro/{test,validation}.jsonl, rows {question_id, question, options[<=10], answer
// (letter), answer_index, cot_content, category, src}; every task reads both files and keeps its
// category, for the docs and for the shot pool alike.
#include <fmt/format.h>

#include "common/python_text.h"
#include "evals/task_registry.h"
#include "evals/tasks/reasoning.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/text.h"

namespace gemma::evals::tasks {
namespace {

const std::vector<std::string> kLetters = {"A", "B", "C", "D", "E", "F", "G", "H", "I", "J"};

Doc mmlu_pro_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["question"] = string_field(row, "question", at);
  const std::vector<std::string> options = string_list_field(row, "options", at);
  if (options.empty() || options.size() > kLetters.size()) fail_field(at, "options", "expected 1 to 10 options");
  doc["options"] = options;
  const std::vector<std::string> letters(kLetters.begin(), kLetters.begin() + options.size());
  const size_t answer = index_of(letters, string_field(row, "answer", at), "answer", at);
  if (integer_like_field(row, "answer_index", at) != static_cast<long long>(answer))
    fail_field(at, "answer_index", "does not match \"answer\"");
  doc["answer"] = kLetters[answer];
  doc["cot_content"] =
      row.contains("cot_content") && row.at("cot_content").is_null() ? "" : string_field(row, "cot_content", at);
  doc["category"] = string_field(row, "category", at);
  return doc;
}

DocSplit load_category(const std::filesystem::path& dir, const std::string& split, const std::string& category) {
  DocSplit all = jsonl_split(split, dir / "mmlu_pro" / (split + ".jsonl"), mmlu_pro_doc);
  DocSplit out;
  out.name = split;
  for (Doc& doc : all.docs)
    if (doc.at("category") == category) out.docs.push_back(std::move(doc));
  out.files = std::move(all.files);
  out.files.at(0).rows = out.docs.size();  // rows taken from the file
  return out;
}

// utils.doc_to_text, for the eval doc and (with the answer as the target) for the shots.
std::string mmlu_pro_text(const Doc& doc) {
  std::string text = "Question:\n" + doc.at("question").get<std::string>() + "\nOptions:\n";
  const Doc& options = doc.at("options");
  for (size_t i = 0; i < options.size(); ++i)
    text += fmt::format("{}. {}\n", kLetters[i], python_strip(options[i].get<std::string>()));
  return text + "Answer: Let's think step by step.";
}

TaskSpec mmlu_pro_task(const std::string& category) {
  std::string name = category;
  for (char& c : name)
    if (c == ' ') c = '_';
  TaskSpec t = new_task("mmlu_pro_" + name, 3, OutputType::GenerateUntil, 5, ShotSampler::FirstN);
  t.groups = {"mmlu_pro"};
  t.description = fmt::format(
      "The following are multiple choice questions (with answers) about {}. Think step by step and then finish "
      "your answer with \"the answer is (X)\" where X is the correct letter choice.\n",
      category);
  t.load_eval = [category](const std::filesystem::path& dir) { return load_category(dir, "test", category); };
  t.load_fewshot = [category](const std::filesystem::path& dir) { return load_category(dir, "validation", category); };
  t.sampler_gets_eval_doc = false;  // fewshot_split validation != test_split
  t.doc_to_text = mmlu_pro_text;
  // The shot's answer: its chain of thought without the lead the prompt already ends in.
  t.doc_to_target = [](const Doc& doc) {
    return replace_all(doc.at("cot_content").get<std::string>(), "A: Let's think step by step. ", "");
  };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("answer").get<std::string>()}; };
  t.until = {"Question:"};
  t.max_gen_toks = 2048;
  using Kind = FilterStep::Kind;
  // re.findall + take_first: the FIRST "answer is (X)" of the response.
  t.filters = {
      {"custom-extract",
       {{Kind::Regex, R"(answer is \(?([ABCDEFGHIJ])\)?)", 0, "[invalid]"}, {Kind::TakeFirst, "", 0, "[invalid]"}}}};
  t.metrics = {exact_match_ignoring_case_and_punctuation()};
  return t;
}

}  // namespace

const std::vector<std::string>& mmlu_pro_categories() {
  static const std::vector<std::string> categories = {
      "biology", "business", "chemistry", "computer science", "economics", "engineering", "health", "history",
      "law",     "math",     "other",     "philosophy",       "physics",   "psychology"};
  return categories;
}

namespace {

std::vector<TaskSpec> mmlu_pro_tasks() {
  std::vector<TaskSpec> tasks;
  for (const auto& category : mmlu_pro_categories()) tasks.push_back(mmlu_pro_task(category));
  return tasks;
}

}  // namespace

const TaskRegistration kMmluProRegistration{1500, &mmlu_pro_tasks};

}  // namespace gemma::evals::tasks
