// GPQA 5-shot (lm-eval tasks/gpqa/{n_shot,generative}/*): the multiple-choice variant
// (gpqa_<config>_n_shot) and the generative one (gpqa_<config>_generative_n_shot, the default here)
// for gpqa_main (448), gpqa_diamond (198) and gpqa_extended (546). Data (not in the shared folder):
// the published Idavidrein/gpqa CSVs, data_dir/gpqa/gpqa_<config>.csv with a header row; the loader
// reads the Question, Correct Answer and Incorrect Answer 1-3 columns by name.
// Only a train split exists: shots come from the eval split itself, drawn n+1 minus the eval doc.
// Choice order: process_docs shuffles [inc1, inc2, inc3, correct] per doc in file order with one
// random.Random(42) (n_shot's module-level rng, fresh per task here: lm-eval shares it between the
// configs loaded in one process). The generative variant calls the unseeded global random.shuffle;
// following the spec it uses Random(42) too (a deviation: lm-eval's order depends on global state).
#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "common/python_random.h"
#include "common/python_text.h"
#include "datasets/csv.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/reasoning.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/text.h"

namespace gemma::evals::tasks {
namespace {

const char* const kConfigs[] = {"main", "diamond", "extended"};
const char* const kAnswerColumns[] = {"Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3",
                                      "Correct Answer"};

// An empty CSV cell is None in the HF dataset, which preprocess() turns into " ".
std::string n_shot_preprocess(const std::string& text) { return text.empty() ? " " : python_strip(text); }

// generative/utils.preprocess: strip, " [title]" -> ". ", re.sub(r"\[\w+\]", ""), "  " -> " " (once).
std::string generative_preprocess(const std::string& text) {
  if (text.empty()) return " ";
  const std::string titled = replace_all(python_strip(text), " [title]", ". ");
  std::string out;
  for (size_t i = 0; i < titled.size(); ++i) {
    if (titled[i] == '[') {
      size_t end = i + 1;  // \w: ASCII word characters and (approximately) any non-ASCII byte
      while (end < titled.size() && (std::isalnum(static_cast<unsigned char>(titled[end])) || titled[end] == '_' ||
                                     static_cast<unsigned char>(titled[end]) >= 0x80))
        ++end;
      if (end > i + 1 && end < titled.size() && titled[end] == ']') {
        i = end;
        continue;
      }
    }
    out += titled[i];
  }
  return replace_all(out, "  ", " ");
}

DocSplit load_gpqa(const std::filesystem::path& data_dir, const std::string& config, bool generative) {
  SourceFile file = read_source(data_dir / "gpqa" / ("gpqa_" + config + ".csv"));
  const auto records = datasets::parse_csv(file.bytes, file.info.path);
  if (records.empty()) fail("{}: empty file", file.info.path);
  const auto& header = records[0].fields;
  const auto column = [&](const char* name) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) fail("{}:{}: no \"{}\" column in the header", file.info.path, records[0].line, name);
    return static_cast<size_t>(it - header.begin());
  };
  const size_t question = column("Question");
  std::vector<size_t> answers;
  for (const char* name : kAnswerColumns) answers.push_back(column(name));
  PythonRandom rng(42);
  DocSplit out;
  out.name = "train";
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& fields = records[r].fields;
    if (fields.size() != header.size())
      fail("{}:{}: expected {} columns, got {}", file.info.path, records[r].line, header.size(), fields.size());
    std::vector<std::string> choices;
    for (size_t a : answers)
      choices.push_back(generative ? generative_preprocess(fields[a]) : n_shot_preprocess(fields[a]));
    const std::string correct = choices.back();
    rng.shuffle(choices);
    const size_t gold = std::find(choices.begin(), choices.end(), correct) - choices.begin();  // list.index
    out.docs.push_back(Doc{{"Question", fields[question]},
                           {"choices", choices},
                           {"answer", std::string("(") + static_cast<char>('A' + gold) + ")"}});
  }
  file.info.rows = out.docs.size();
  out.files.push_back(std::move(file.info));
  return out;
}

std::string gpqa_text(const Doc& doc) {
  const Doc& c = doc.at("choices");
  return "Question: " + doc.at("Question").get<std::string>() + "\nChoices:\n(A) " + c[0].get<std::string>() +
         "\n(B) " + c[1].get<std::string>() + "\n(C) " + c[2].get<std::string>() + "\n(D) " + c[3].get<std::string>() +
         "\nAnswer:";
}

TaskSpec gpqa_base(const std::string& name, const std::string& config, bool generative) {
  TaskSpec t =
      new_task(name, generative ? 2 : 1, generative ? OutputType::GenerateUntil : OutputType::MultipleChoice, 5);
  t.groups = {"gpqa"};
  const auto load = [config, generative](const std::filesystem::path& dir) {
    return load_gpqa(dir, config, generative);
  };
  t.load_eval = load;
  t.load_fewshot = load;
  t.sampler_gets_eval_doc = true;  // shots from the eval split: n+1 drawn, the doc itself dropped
  t.doc_to_text = gpqa_text;
  return t;
}

TaskSpec gpqa_multiple_choice(const std::string& config) {
  TaskSpec t = gpqa_base("gpqa_" + config + "_n_shot", config, false);
  t.description =
      "Here are some example questions from experts. Answer the final question yourself, following the format of "
      "the previous questions exactly.\n";
  t.doc_to_choice = [](const Doc&) { return std::vector<std::string>{"(A)", "(B)", "(C)", "(D)"}; };
  t.doc_to_gold = [](const Doc& doc) { return doc.at("answer").get<std::string>()[1] - 'A'; };
  target_is_gold_choice(t);
  t.metrics = {registry_metric("acc"), registry_metric("acc_norm")};
  return t;
}

TaskSpec gpqa_generative(const std::string& config) {
  // _gpqa_generative_n_shot_yaml, metadata.version 2.2 (its description asks for "The answer is (X).").
  TaskSpec t = gpqa_base("gpqa_" + config + "_generative_n_shot", config, true);
  t.description =
      "Here are some example questions from experts. Answer the final question yourself, following the format of "
      "the previous questions exactly, that is finish your answer with \"The answer is (X).\" where X is the "
      "correct letter choice.\n";
  t.doc_to_target = [](const Doc& doc) { return "The answer is " + doc.at("answer").get<std::string>() + "."; };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("answer").get<std::string>()}; };
  t.until = {"</s>", "Question:", "<|im_end|>"};
  FilterStep strict;
  strict.kind = FilterStep::Kind::Function;
  strict.function = [](std::string_view response) { return first_answer_after(response, "The answer is "); };
  FilterStep flexible;
  flexible.kind = FilterStep::Kind::Function;
  flexible.function = gpqa_flexible_answer;
  t.filters = {{"strict-match", {strict, FilterStep{}}}, {"flexible-extract", {flexible, FilterStep{}}}};
  t.metrics = {exact_match_ignoring_case_and_punctuation()};
  return t;
}

}  // namespace

// MultiChoiceRegexFilter (lm-eval filters/extraction.py) runs three searches: its regex (here
// (\([A-Z]\)), group_select -1), then the doc's choice texts (case/punctuation-folded) mapped to
// "(X)", then :\s*(A|B|C|D). Deviation: the middle one needs the doc, which a filter function here
// does not see, so a response naming an answer only by its text is invalid rather than matched.
std::optional<std::string> gpqa_flexible_answer(std::string_view response) {
  for (size_t at = response.size(); at-- > 0;)
    if (response[at] == '(' && at + 2 < response.size() && response[at + 1] >= 'A' && response[at + 1] <= 'Z' &&
        response[at + 2] == ')')
      return std::string(response.substr(at, 3));
  for (size_t at = response.size(); at-- > 0;) {
    if (response[at] < 'A' || response[at] > 'D') continue;
    size_t colon = at;
    while (colon > 0 && python_isspace(static_cast<unsigned char>(response[colon - 1]))) --colon;
    if (colon > 0 && response[colon - 1] == ':') return std::string("(") + response[at] + ")";
  }
  return std::nullopt;
}

namespace {

std::vector<TaskSpec> gpqa_tasks() {
  std::vector<TaskSpec> tasks;
  for (const char* config : kConfigs) tasks.push_back(gpqa_multiple_choice(config));
  for (const char* config : kConfigs) tasks.push_back(gpqa_generative(config));
  return tasks;
}

}  // namespace

const TaskRegistration kGpqaRegistration{1600, &gpqa_tasks};

}  // namespace gemma::evals::tasks
