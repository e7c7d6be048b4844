// MGSM, native chain of thought (lm-eval tasks/mgsm/native_cot/*, mgsm/utils.py): one
// task per language, prompts and answer patterns in that language. Data: google-research/url-nlp's
// TSVs as in data_dir/mgsm/ (MANIFEST.md): mgsm_<lang>.tsv, no header, "question<TAB>answer", 250 rows;
// lm-eval reads the same rows from juletxara/mgsm's test split ({question, answer: None, answer_number}).
// Shots: lm-eval's YAMLs set no num_fewshot (0-shot), and the 8 translated exemplars of the train
// split (url-nlp mgsm/exemplars.py) are not in the shared data, so these tasks run 0-shot and have no
// shot split; doc_to_text/doc_to_target still render train-style docs ({question, answer}) the way the
// YAML does, for when the exemplars are added.
#include <fmt/format.h>

#include "common/error.h"
#include "common/python_text.h"
#include "common/utf8.h"
#include "evals/task_registry.h"
#include "evals/tasks/reasoning.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

// mgsm/utils.py LANGUAGES, from which lm-eval generates native_cot/mgsm_native_cot_<lang>.yaml: the
// question word, the answer lead and the strict answer pattern (bn keeps the English pattern). ja and
// zh write the question word with a full-width colon (U+FF1A) but the answer lead with an ASCII one;
// the question word is also the first stop sequence, so "問題:" would neither prompt nor stop as
// lm-eval does.
const MgsmLanguage kLanguages[] = {
    {"bn", "প্রশ্ন:", "ধাপে ধাপে উত্তর:", R"(The answer is (\-?[0-9\.\,]+))"},
    {"de", "Frage:", "Schritt-für-Schritt-Antwort:", R"(Die Antwort lautet (\-?[0-9\.\,]+))"},
    {"en", "Question:", "Step-by-Step Answer:", R"(The answer is (\-?[0-9\.\,]+))"},
    {"es", "Pregunta:", "Respuesta paso a paso:", R"(La respuesta es (\-?[0-9\.\,]+))"},
    {"fr", "Question :", "Réponse étape par étape :", R"(La réponse est (\-?[0-9\.\,]+))"},
    {"ja", "問題：", "ステップごとの答え:", R"(答えは(\-?[0-9\.\,]+)です。)"},
    {"ru", "Задача:", "Пошаговоерешение:", R"(Ответ — (\-?[0-9\.\,]+))"},
    {"sw", "Swali:", "Jibu la Hatua kwa Hatua:", R"(Jibu ni (\-?[0-9\.\,]+))"},
    {"te", "ప్రశ్న:", "దశలవారీగా సమాధానం:", R"(సమాధానం (\-?[0-9\.\,]+))"},
    {"th", "โจทย์:", "คำตอบทีละขั้นตอน:", R"(คำตอบคือ (\-?[0-9\.\,]+))"},
    {"zh", "问题：", "逐步解答:", R"(答案是 (\-?[0-9\.\,]+)。)"},
};

// An integer answer, possibly with thousands separators ("2,125" in four rows): str(int) of it.
std::string answer_number(std::string_view text, const RowSource& at) {
  std::string digits;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9')
      digits += c;
    else if (!(c == '-' && i == 0) && !(c == ',' && i > 0))
      fail_field(at, "answer_number", fmt::format("expected an integer, got \"{}\"", text));
  }
  if (digits.empty() || digits.size() > 15)
    fail_field(at, "answer_number", fmt::format("expected an integer, got \"{}\"", text));
  return std::to_string(std::stoll(std::string(text[0] == '-' ? "-" : "") + digits));
}

DocSplit load_mgsm(const std::filesystem::path& data_dir, const std::string& lang) {
  SourceFile file = read_source(data_dir / "mgsm" / ("mgsm_" + lang + ".tsv"));
  DocSplit out;
  out.name = "test";
  const std::string_view text = file.bytes;
  size_t line = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view row = text.substr(pos, end - pos);
    pos = end + 1;
    const RowSource at{file.info.path, ++line};
    if (row.empty()) continue;
    const size_t tab = row.find('\t');
    if (tab == std::string_view::npos || row.find('\t', tab + 1) != std::string_view::npos)
      fail("{}:{}: expected 2 tab-separated columns (question, answer)", at.file, at.line);
    Doc doc;
    doc["question"] = std::string(row.substr(0, tab));
    doc["answer"] = nullptr;  // the test split has no worked answer
    doc["answer_number"] = answer_number(row.substr(tab + 1), at);
    out.docs.push_back(std::move(doc));
  }
  file.info.rows = out.docs.size();
  out.files.push_back(std::move(file.info));
  return out;
}

// Python's text[n:] on UTF-8: the bytes after the first n code points.
std::string skip_code_points(const std::string& text, size_t n) {
  size_t pos = 0;
  for (; pos < text.size() && n > 0; --n) do
      ++pos;
    while (pos < text.size() && is_utf8_continuation(static_cast<unsigned char>(text[pos])));
  return text.substr(pos);
}

bool is_train_doc(const Doc& doc) { return doc.contains("answer") && doc.at("answer").is_string(); }

TaskSpec mgsm_task(const MgsmLanguage& language) {
  const std::string lang = language.code, question_word = language.question, answer_lead = language.answer;
  TaskSpec t = new_task("mgsm_native_cot_" + lang, 4, OutputType::GenerateUntil, 0);
  t.groups = {"mgsm_cot_native"};  // equal-size languages: the micro average is the card's mean
  t.load_eval = [lang](const std::filesystem::path& dir) { return load_mgsm(dir, lang); };
  t.target_delimiter = " ";
  // '{% if answer is not none %}{{question+"\n<ANSWER>"}}{% else %}{{"<QUESTION> "+question+"\n<ANSWER>"}}'
  t.doc_to_text = [question_word, answer_lead](const Doc& doc) {
    const std::string question = doc.at("question").get<std::string>();
    return (is_train_doc(doc) ? question : question_word + " " + question) + "\n" + answer_lead;
  };
  // answer[len(ANSWER)+1:] for train docs (code points), else str(answer_number).
  t.doc_to_target = [answer_lead](const Doc& doc) {
    if (!is_train_doc(doc)) return doc.at("answer_number").get<std::string>();
    return skip_code_points(doc.at("answer").get<std::string>(), code_point_length(answer_lead) + 1);
  };
  t.doc_to_references = [](const Doc& doc) {
    return std::vector<std::string>{doc.at("answer_number").get<std::string>()};
  };
  t.until = {question_word, "</s>", "<|im_end|>"};
  using Kind = FilterStep::Kind;
  t.filters = {
      {"strict-match", {{Kind::Regex, language.strict_pattern, 0, "[invalid]"}, {Kind::TakeFirst, "", 0, "[invalid]"}}},
      {"flexible-extract",
       {{Kind::Regex, R"((-?[$0-9.,]{2,})|(-?[0-9]+))", -1, "[invalid]"}, {Kind::TakeFirst, "", 0, "[invalid]"}}},
  };
  t.metrics = {exact_match_ignoring_case_and_punctuation()};
  return t;
}

}  // namespace

const std::vector<MgsmLanguage>& mgsm_languages() {
  static const std::vector<MgsmLanguage> languages(std::begin(kLanguages), std::end(kLanguages));
  return languages;
}

namespace {

std::vector<TaskSpec> mgsm_tasks() {
  std::vector<TaskSpec> tasks;
  for (const auto& language : kLanguages) tasks.push_back(mgsm_task(language));
  return tasks;
}

}  // namespace

const TaskRegistration kMgsmRegistration{1300, &mgsm_tasks};

}  // namespace gemma::evals::tasks
