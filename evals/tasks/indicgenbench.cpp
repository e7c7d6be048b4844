// IndicGenBench (the IndicGenBench dataset cards (google/IndicGenBench); no reference harness config — best effort, not
// comparable to the card). Four tasks, group "indicgenbench" (the card's value is their average):
//  - indicgenbench_xquad_in: XQuAD translated into 12 Indic languages; SQuAD EM / token F1 (max over
//    references, scorers/squad.h);
//  - indicgenbench_xorqa_in: XorQA-IN, English context, question in the language, scored against
//    `translated_answers` (the answer in the question's language: the "XorQA-IN-Xx" setting);
//  - indicgenbench_flores_in: FLORES sentences English <-> 29 Indic languages, both directions;
//  - indicgenbench_crosssum_in: English article -> summary in the language.
// The generation tasks score chrF (sacrebleu defaults, scorers/chrf.h) per file, i.e. per language
// and direction as the paper reports it, averaged over the files evaluated.
// Each task reads every file of its subset found in the folder, sorted by name.
// Assumed layout (HF google/IndicGenBench_<subset>, files as published):
//   data_dir/indicgenbench/<subset>/<prefix><...>_<split>.json with prefix xquad_ / xorqa_ / flores_ /
//   crosssum_english- (e.g. xquad_hi_test.json, flores_en_hi_test.json, crosssum_english-hi_test.json),
//   split test = eval, dev = shots; each file {"examples": [...]} (a bare array is accepted too).
//   Rows: QA {lang, context, question, answers: [{text}], translated_answers: [{text}] (xorqa)};
//   Flores-IN {source, target, translation_direction: "enxx" | "xxen", lang};
//   CrossSum-IN {text, summary, lang} (field names assumed from CrossSum).
// Prompts (assumed): QA as XQuAD-en's "Context: ..\n\nQuestion: ..\n\nAnswer:"; Flores-IN as
// flores.cpp's "{Src} sentence: {source}\n{Tgt} sentence:"; CrossSum-IN "Summarize the following English
// article in {Lang}.\n\nArticle: {text}\n\nSummary:". until "\n"; 0 shots by default (shots, when
// asked for, come from the dev files of every language).
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/open_qa.h"

#include <algorithm>
#include <map>

#include "evals/tasks/task_helpers.h"
#include "evals/tasks/vision_rows.h"
#include "scorers/chrf.h"
#include "scorers/squad.h"

namespace gemma::evals::tasks {
namespace {

using vision::JsonRowAt;
using RowToDoc = Doc (*)(const Doc& row, const JsonRowAt& at);

// The 29 languages of the Flores-IN / CrossSum-IN cards, for the prompts; an unlisted code is used as is.
const std::map<std::string, std::string>& language_names() {
  static const std::map<std::string, std::string> names{
      {"as", "Assamese"},  {"awa", "Awadhi"},   {"bgc", "Haryanvi"},      {"bho", "Bhojpuri"}, {"bn", "Bengali"},
      {"bo", "Tibetan"},   {"brx", "Bodo"},     {"en", "English"},        {"gbm", "Garhwali"}, {"gom", "Konkani"},
      {"gu", "Gujarati"},  {"hi", "Hindi"},     {"hne", "Chhattisgarhi"}, {"hoj", "Hadothi"},  {"kn", "Kannada"},
      {"mai", "Maithili"}, {"ml", "Malayalam"}, {"mni", "Manipuri"},      {"mr", "Marathi"},   {"mup", "Malvi"},
      {"mwr", "Marwari"},  {"ne", "Nepali"},    {"or", "Odia"},           {"pa", "Punjabi"},   {"ps", "Pashto"},
      {"sa", "Sanskrit"},  {"sat", "Santali"},  {"ta", "Tamil"},          {"te", "Telugu"},    {"ur", "Urdu"}};
  return names;
}

std::string language_name(const std::string& code) {
  const auto it = language_names().find(code);
  return it == language_names().end() ? code : it->second;
}

std::vector<std::string> answer_texts(const Doc& row, const char* field, const JsonRowAt& at) {
  const Doc& value = vision::row_value(row, field, at);
  if (!value.is_array() || value.empty()) vision::fail_row(at, field, "expected a non-empty array of {text} objects");
  std::vector<std::string> texts;
  for (const Doc& answer : value) texts.push_back(vision::row_string(answer, "text", at));
  return texts;
}

Doc qa_doc(const Doc& row, const JsonRowAt& at, const char* answers_field) {
  Doc doc;
  for (const char* field : {"lang", "context", "question"}) doc[field] = vision::row_string(row, field, at);
  doc["answers"] = answer_texts(row, answers_field, at);
  return doc;
}
Doc xquad_in_doc(const Doc& row, const JsonRowAt& at) { return qa_doc(row, at, "answers"); }
Doc xorqa_in_doc(const Doc& row, const JsonRowAt& at) { return qa_doc(row, at, "translated_answers"); }

Doc flores_in_doc(const Doc& row, const JsonRowAt& at) {
  Doc doc;
  for (const char* field : {"source", "target", "translation_direction", "lang"})
    doc[field] = vision::row_string(row, field, at);
  const std::string& direction = doc["translation_direction"].get_ref<const std::string&>();
  if (direction != "enxx" && direction != "xxen")
    vision::fail_row(at, "translation_direction", fmt::format("\"{}\" is not \"enxx\" or \"xxen\"", direction));
  return doc;
}

Doc crosssum_in_doc(const Doc& row, const JsonRowAt& at) {
  Doc doc;
  for (const char* field : {"text", "summary", "lang"}) doc[field] = vision::row_string(row, field, at);
  return doc;
}

struct Subset {
  const char* task;
  const char* folder;
  const char* prefix;
  RowToDoc row_to_doc;
};

// The files <prefix>*_<split>.json of a subset folder, sorted; none is an error naming the pattern.
std::vector<std::filesystem::path> split_files(const std::filesystem::path& folder, const std::string& prefix,
                                               const std::string& split) {
  const std::string suffix = "_" + split + ".json";
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() > prefix.size() + suffix.size() && name.rfind(prefix, 0) == 0 &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(entry.path());
  }
  if (files.empty()) fail("{}: no {}*{} files", folder.string(), prefix, suffix);
  std::sort(files.begin(), files.end());
  return files;
}

DocSplit load_subset(const std::filesystem::path& dir, const Subset& subset, const std::string& split) {
  DocSplit out;
  out.name = split;
  for (const auto& path : split_files(dir / "indicgenbench" / subset.folder, subset.prefix, split)) {
    vision::JsonFile file = vision::read_json_file(path);
    const Doc& examples = file.root.is_array() ? file.root : vision::json_array(file, "examples");
    const std::string stem = path.stem().string();
    for (size_t i = 0; i < examples.size(); ++i) {
      Doc doc = subset.row_to_doc(examples[i], vision::row_at(file.info.path, "examples", i));
      doc["file"] = stem.substr(0, stem.size() - split.size() - 1);  // "flores_en_hi": the chrF group
      out.docs.push_back(std::move(doc));
    }
    file.info.rows = examples.size();
    out.files.push_back(file.info);
  }
  return out;
}

// chrF references: {"target", "group"} per doc, so the per-file averaging needs only samples.jsonl.
std::string group_reference(const std::string& target, const std::string& group) {
  Doc reference;
  reference["target"] = target;
  reference["group"] = group;
  return reference.dump(-1, ' ', false, Doc::error_handler_t::replace);
}

TaskSpec subset_task(const Subset& subset) {
  TaskSpec t = new_task(subset.task, 1, OutputType::GenerateUntil, 0);
  t.groups = {"indicgenbench"};
  t.load_eval = [subset](const std::filesystem::path& dir) { return load_subset(dir, subset, "test"); };
  t.load_fewshot = [subset](const std::filesystem::path& dir) { return load_subset(dir, subset, "dev"); };
  t.until = {"\n"};
  return t;
}

// The registry's squad:max, reporting its `sub_score` ("exact_match" or "f1").
MetricSpec squad_metric(const char* sub_score) {
  MetricSpec m = registry_metric("squad:max", sub_score, {}, sub_score);
  m.variant = "squad-v1.1 (max over references)";
  return m;
}

TaskSpec qa_task(const Subset& subset) {
  TaskSpec t = subset_task(subset);
  t.doc_to_text = [](const Doc& doc) {
    return "Context: " + doc.at("context").get<std::string>() +
           "\n\nQuestion: " + doc.at("question").get<std::string>() + "\n\nAnswer:";
  };
  t.doc_to_target = [](const Doc& doc) { return doc.at("answers").at(0).get<std::string>(); };
  t.doc_to_references = [](const Doc& doc) { return doc.at("answers").get<std::vector<std::string>>(); };
  t.metrics = {squad_metric("exact_match"), squad_metric("f1")};
  return t;
}

// The registry's chrf:indicgenbench (scorers/chrf.h mean_group_chrf over the {"target", "group"} references).
MetricSpec chrf_metric() {
  MetricSpec m = registry_metric("chrf:indicgenbench");
  m.variant = "mean over files of corpus chrF (" + scorers::chrf_signature() + ")";
  return m;
}

TaskSpec flores_in_task(const Subset& subset) {
  TaskSpec t = subset_task(subset);
  t.doc_to_text = [](const Doc& doc) {
    const std::string language = language_name(doc.at("lang").get<std::string>());
    const bool from_english = doc.at("translation_direction") == "enxx";
    return (from_english ? std::string("English") : language) + " sentence: " + doc.at("source").get<std::string>() +
           "\n" + (from_english ? language : std::string("English")) + " sentence:";
  };
  t.doc_to_target = [](const Doc& doc) { return doc.at("target").get<std::string>(); };
  t.doc_to_references = [](const Doc& doc) {
    return std::vector<std::string>{group_reference(doc.at("target"), doc.at("file"))};
  };
  t.metrics = {chrf_metric()};
  return t;
}

TaskSpec crosssum_in_task(const Subset& subset) {
  TaskSpec t = subset_task(subset);
  t.doc_to_text = [](const Doc& doc) {
    return "Summarize the following English article in " + language_name(doc.at("lang").get<std::string>()) +
           ".\n\nArticle: " + doc.at("text").get<std::string>() + "\n\nSummary:";
  };
  t.doc_to_target = [](const Doc& doc) { return doc.at("summary").get<std::string>(); };
  t.doc_to_references = [](const Doc& doc) {
    return std::vector<std::string>{group_reference(doc.at("summary"), doc.at("file"))};
  };
  t.max_gen_toks = 128;  // one-sentence summaries
  t.metrics = {chrf_metric()};
  return t;
}

std::vector<TaskSpec> indicgenbench_tasks() {
  return {qa_task({"indicgenbench_xquad_in", "xquad_in", "xquad_", xquad_in_doc}),
          qa_task({"indicgenbench_xorqa_in", "xorqa_in", "xorqa_", xorqa_in_doc}),
          flores_in_task({"indicgenbench_flores_in", "flores_in", "flores_", flores_in_doc}),
          crosssum_in_task({"indicgenbench_crosssum_in", "crosssum_in", "crosssum_english-", crosssum_in_doc})};
}

}  // namespace

const TaskRegistration kIndicgenbenchRegistration{2200, &indicgenbench_tasks};

}  // namespace gemma::evals::tasks
