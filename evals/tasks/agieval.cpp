// AGIEval v1, English and Chinese subsets (lm-eval tasks/agieval/*). Data: the
// ruixiangcui/AGIEval files as in data_dir/agieval/ (MANIFEST.md): v1/<dataset>.jsonl rows
// {passage, question, options ["(A)..."], label "A", answer, other} and few_shot_prompts.csv.
// lm-eval reads hails/agieval-<dataset>, whose `query` is AGIEval's zero-shot prompt
// (dataset_loader.convert_zero_shot), `choices` the options and `gold` the label's index; this
// adapter rebuilds those fields from the v1 rows.
// Shots (the card's 3-5-shot): lm-eval has none (0-shot only). Here the demonstrations of
// few_shot_prompts.csv (AGIEval's own; 3 to 5 per dataset, sat-en-without-passage uses sat-en's
// without their passages) are the shot split, first_n, rendered the lm-eval way ("<query> <gold
// choice>"), not in AGIEval's "Problem 1. ... The answer is therefore X" layout; AGIEval's
// 2048-token cut of the demonstrations is not applied.
// jec-qa-kd, jec-qa-ca and gaokao-physics rows may have several correct labels (a label list): acc
// counts the argmax when it is any of them (lm-eval's process_results_mcqa, doc_to_golds); a shot shows
// the first.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/error.h"
#include "common/utf8.h"
#include "datasets/csv.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "scorers/math_answer.h"

namespace gemma::evals::tasks {
namespace {

enum class Prompt { EnglishChoice, ChineseChoice, EnglishCloze, ChineseCloze };

struct Subset {
  const char* dataset;  // v1/<dataset>.jsonl
  const char* task;     // lm-eval task name
  Prompt prompt;
  const char* demos;  // few_shot_prompts.csv column; nullptr = none usable (0-shot)
  int shots;          // demonstrations that column holds
};

// lm-eval's agieval_en / agieval_cn members (dataset_loader.py's language lists).
const Subset kSubsets[] = {
    {"aqua-rat", "agieval_aqua_rat", Prompt::EnglishChoice, "aqua-rat", 5},
    {"gaokao-english", "agieval_gaokao_english", Prompt::EnglishChoice, "gaokao-english", 3},
    {"logiqa-en", "agieval_logiqa_en", Prompt::EnglishChoice, "logiqa-en", 3},
    {"lsat-ar", "agieval_lsat_ar", Prompt::EnglishChoice, "lsat-ar", 3},
    {"lsat-lr", "agieval_lsat_lr", Prompt::EnglishChoice, "lsat-lr", 3},
    {"lsat-rc", "agieval_lsat_rc", Prompt::EnglishChoice, "lsat-rc", 3},
    {"math", "agieval_math", Prompt::EnglishCloze, "math", 4},
    {"sat-en", "agieval_sat_en", Prompt::EnglishChoice, "sat-en", 3},
    {"sat-en-without-passage", "agieval_sat_en_without_passage", Prompt::EnglishChoice, "sat-en", 3},
    {"sat-math", "agieval_sat_math", Prompt::EnglishChoice, "sat-math", 5},
    {"gaokao-biology", "agieval_gaokao_biology", Prompt::ChineseChoice, "gaokao-biology", 5},
    {"gaokao-chemistry", "agieval_gaokao_chemistry", Prompt::ChineseChoice, "gaokao-chemistry", 5},
    {"gaokao-chinese", "agieval_gaokao_chinese", Prompt::ChineseChoice, "gaokao-chinese", 3},
    // Its 5 demonstrations pack all options into one "A. ...\tB. ..." string: no choice to show, so 0-shot.
    {"gaokao-geography", "agieval_gaokao_geography", Prompt::ChineseChoice, nullptr, 0},
    {"gaokao-history", "agieval_gaokao_history", Prompt::ChineseChoice, "gaokao-history", 5},
    {"gaokao-mathcloze", "agieval_gaokao_mathcloze", Prompt::ChineseCloze, "gaokao-mathcloze", 5},
    {"logiqa-zh", "agieval_logiqa_zh", Prompt::ChineseChoice, "logiqa-zh", 3},
    {"jec-qa-kd", "agieval_jec_qa_kd", Prompt::ChineseChoice, "jec-qa-kd", 5},
    {"jec-qa-ca", "agieval_jec_qa_ca", Prompt::ChineseChoice, "jec-qa-ca", 5},
    {"gaokao-physics", "agieval_gaokao_physics", Prompt::ChineseChoice, "gaokao-physics", 5},
    {"gaokao-mathqa", "agieval_gaokao_mathqa", Prompt::ChineseChoice, "gaokao-mathqa", 5},
};

bool is_choice(Prompt p) { return p == Prompt::EnglishChoice || p == Prompt::ChineseChoice; }

std::string optional_text(const Doc& row, const char* field, const RowSource& at) {
  if (!row.contains(field) || row.at(field).is_null()) return "";
  return string_field(row, field, at);
}

// dataset_loader.convert_zero_shot: the hails `query`.
std::string zero_shot_query(const Subset& s, const std::string& passage, const std::string& question,
                            const std::vector<std::string>& options) {
  std::string joined;
  for (const auto& option : options) joined += (joined.empty() ? "" : " ") + option;
  // The last option letter of a choice prompt (cloze prompts have no options and do not use it).
  const size_t count = options.size() == 1 ? (s.prompt == Prompt::EnglishChoice ? 5 : 4) : options.size();
  const char last = count == 0 ? 'A' : "ABCDEFG"[std::min<size_t>(count, 7) - 1];
  switch (s.prompt) {
    case Prompt::EnglishChoice:
      return fmt::format("{}Q: {} Answer Choices: {}\nA: Among A through {}, the answer is", passage, question, joined,
                         last);
    case Prompt::ChineseChoice:
      return fmt::format("{}问题：{} 选项：{}\n答案：从A到{}, 我们应选择", passage, question, joined, last);
    case Prompt::EnglishCloze:
      return fmt::format("{}Q: {}\nA: The answer is", passage, question);
    case Prompt::ChineseCloze:
      return fmt::format("{}问题：{}\n答案：", passage, question);
  }
  return "";
}

Doc agieval_doc(const Subset& s, const Doc& row, const RowSource& at, bool drop_passage) {
  const std::string passage = drop_passage ? "" : optional_text(row, "passage", at);
  const std::string& question = string_field(row, "question", at);
  Doc doc;
  if (!is_choice(s.prompt)) {
    doc["query"] = zero_shot_query(s, passage, question, {});
    doc["answer"] = string_field(row, "answer", at);
    return doc;
  }
  const std::vector<std::string> options = string_list_field(row, "options", at);
  if (options.empty() || options.size() > 7) fail_field(at, "options", "expected 1 to 7 options");
  const std::vector<std::string> letters = {"A", "B", "C", "D", "E", "F", "G"};
  doc["query"] = zero_shot_query(s, passage, question, options);
  doc["choices"] = options;
  // "label": one letter, or a list of letters where several options are right (jec-qa, gaokao-physics).
  const std::vector<std::string> offered(letters.begin(), letters.begin() + options.size());
  std::vector<int> golds;
  if (row.contains("label") && row.at("label").is_array()) {
    for (const std::string& label : string_list_field(row, "label", at))
      golds.push_back(static_cast<int>(index_of(offered, label, "label", at)));
    // A few jec-qa rows list no correct option: hails' gold is [] and lm-eval scores them 0 whatever
    // the model picks; so do we (gold -1 makes such a row unusable as a shot, which none is).
  } else {
    golds.push_back(static_cast<int>(index_of(offered, string_field(row, "label", at), "label", at)));
  }
  doc["gold"] = golds.empty() ? -1 : golds.front();
  doc["golds"] = golds;
  return doc;
}

// few_shot_prompts.csv cells are Python dict literals (AGIEval reads them with ast.literal_eval).
class PythonLiteral {
 public:
  PythonLiteral(std::string_view text, const RowSource& at) : text_(text), at_(at) {}
  Doc parse() {
    Doc value = parse_value();
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the literal");
    return value;
  }

 private:
  [[noreturn]] void error(const std::string& what) {
    fail("{}:{}: not a Python literal at offset {}: {}", at_.file, at_.line, pos_, what);
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool take(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) return ++pos_, true;
    return false;
  }
  Doc parse_value() {
    skip_space();
    if (pos_ >= text_.size()) error("unexpected end");
    const char c = text_[pos_];
    if (c == '{') return parse_sequence('{', '}', true);
    if (c == '[') return parse_sequence('[', ']', false);
    if (c == '\'' || c == '"') return parse_string();
    for (const auto& [word, value] : {std::pair<const char*, Doc>{"None", nullptr}, {"True", true}, {"False", false}})
      if (text_.compare(pos_, std::strlen(word), word) == 0) return pos_ += std::strlen(word), value;
    size_t end = pos_;
    while (end < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[end])) || std::strchr("+-.eE", text_[end])))
      ++end;
    if (end == pos_) error("unsupported value");
    const std::string number(text_.substr(pos_, end - pos_));
    pos_ = end;
    return number.find_first_of(".eE") == std::string::npos ? Doc(std::stoll(number)) : Doc(std::stod(number));
  }
  Doc parse_sequence(char open, char close, bool is_dict) {
    take(open);
    Doc out = is_dict ? Doc::object() : Doc::array();
    while (!take(close)) {
      if (is_dict) {
        Doc key = parse_value();
        if (!key.is_string() || !take(':')) error("expected 'key': value");
        out[key.get<std::string>()] = parse_value();
      } else {
        out.push_back(parse_value());
      }
      if (take(close)) break;
      if (!take(',')) error(fmt::format("expected ',' or '{}'", close));
    }
    return out;
  }
  // A Python str literal with its escapes (\\ \' \" \n \t \r \a \b \f \v \ooo \xhh \uXXXX
  // \UXXXXXXXX, backslash-newline); other backslashes stay, as in Python.
  Doc parse_string() {
    const char quote = text_[pos_++];
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] != '\\' || pos_ + 1 >= text_.size()) {
        out += text_[pos_++];
        continue;
      }
      const char e = text_[pos_ + 1];
      pos_ += 2;
      const char* simple = std::strchr("\\'\"ntrabfv", e);
      if (simple != nullptr && e != '\0') {
        out += "\\'\"\n\t\r\a\b\f\v"[simple - "\\'\"ntrabfv"];
      } else if (e == '\n') {
      } else if (e == 'x' || e == 'u' || e == 'U') {
        append_utf8(out, hex_digits(e == 'x' ? 2 : e == 'u' ? 4 : 8));
      } else if (e >= '0' && e <= '7') {
        char32_t cp = e - '0';
        for (int k = 0; k < 2 && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '7'; ++k)
          cp = cp * 8 + (text_[pos_++] - '0');
        append_utf8(out, cp);
      } else {
        out += '\\';
        out += e;
      }
    }
    if (pos_ >= text_.size()) error("unterminated string");
    ++pos_;
    return out;
  }
  char32_t hex_digits(int n) {
    if (pos_ + n > text_.size()) error("truncated escape");
    const std::string digits(text_.substr(pos_, n));
    if (digits.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) error("bad escape");
    pos_ += n;
    return static_cast<char32_t>(std::stoul(digits, nullptr, 16));
  }

  std::string_view text_;
  RowSource at_;
  size_t pos_ = 0;
};

// The "sample N" rows of the CSV (the "explanation N" rows are the few-shot-CoT rationales, unused
// by the plain few-shot setting), in order, for one dataset column.
DocSplit load_demos(const std::filesystem::path& data_dir, const Subset& s) {
  SourceFile file = read_source(data_dir / "agieval" / "few_shot_prompts.csv");
  const auto records = datasets::parse_csv(file.bytes, file.info.path);
  if (records.empty()) fail("{}: empty file", file.info.path);
  const auto& header = records[0].fields;
  const auto column = std::find(header.begin(), header.end(), s.demos);
  if (column == header.end()) fail("{}:1: no column \"{}\"", file.info.path, s.demos);
  DocSplit out;
  out.name = "few_shot_prompts";
  for (const auto& record : records) {
    if (record.fields.empty() || record.fields[0].rfind("sample ", 0) != 0) continue;
    const RowSource at{file.info.path, record.line};
    if (record.fields.size() != header.size())
      fail("{}:{}: expected {} columns, got {}", at.file, at.line, header.size(), record.fields.size());
    const std::string& cell = record.fields[column - header.begin()];
    if (cell.empty()) continue;
    const Doc demo = PythonLiteral(cell, at).parse();
    out.docs.push_back(agieval_doc(s, demo, at, std::string(s.dataset) == "sat-en-without-passage"));
  }
  file.info.rows = out.docs.size();
  out.files.push_back(std::move(file.info));
  return out;
}

TaskSpec agieval_task(const Subset& s) {
  const bool choice = is_choice(s.prompt);
  TaskSpec t = new_task(s.task, 1, choice ? OutputType::MultipleChoice : OutputType::GenerateUntil, s.shots,
                        ShotSampler::FirstN);
  const bool english = s.prompt == Prompt::EnglishChoice || s.prompt == Prompt::EnglishCloze;
  t.groups = {english ? "agieval_en" : "agieval_cn", "agieval"};
  t.load_eval = [s](const std::filesystem::path& dir) {
    return jsonl_split("test", dir / "agieval" / "v1" / (std::string(s.dataset) + ".jsonl"),
                       [s](const Doc& row, const RowSource& at) { return agieval_doc(s, row, at, false); });
  };
  if (s.demos != nullptr) t.load_fewshot = [s](const std::filesystem::path& dir) { return load_demos(dir, s); };
  t.doc_to_text = [](const Doc& doc) { return doc.at("query").get<std::string>(); };
  if (choice) {
    t.doc_to_choice = [](const Doc& doc) { return doc.at("choices").get<std::vector<std::string>>(); };
    t.doc_to_gold = [](const Doc& doc) { return doc.at("gold").get<int>(); };
    t.doc_to_golds = [](const Doc& doc) { return doc.at("golds").get<std::vector<int>>(); };
    target_is_gold_choice(t);
    t.metrics = {registry_metric("acc"), registry_metric("acc_norm")};  // process_results_mcqa: char-length norm
    return t;
  }
  t.doc_to_target = [](const Doc& doc) { return doc.at("answer").get<std::string>(); };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("answer").get<std::string>()}; };
  t.until = {"Q:"};
  t.max_gen_toks = 32;  // lm-eval @4e7e0d47; some lm-eval versions give agieval_math 1024
  MetricSpec acc = registry_metric("acc:agieval_math");  // scorers/math_answer.h agieval_math_correct
  acc.variant = "agieval parse_math_answer + hendrycks is_equiv";
  t.metrics = {acc};
  return t;
}

std::vector<TaskSpec> agieval_tasks() {
  std::vector<TaskSpec> tasks;
  for (const auto& subset : kSubsets) tasks.push_back(agieval_task(subset));
  return tasks;
}

}  // namespace

const TaskRegistration kAgievalRegistration{1400, &agieval_tasks};

}  // namespace gemma::evals::tasks
