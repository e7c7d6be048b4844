// FloRes (lm-eval tasks/galician_bench/flores_gl/_flores_common_yaml pattern): translate
// FLORES-200 devtest sentences English <-> 19 languages, corpus chrF. Data: the flores200_dataset
// tarball layout, data_dir/flores200/{devtest,dev}/<lang_Script>.{devtest,dev}, one sentence per
// line, line i of every language file being the same sentence. A doc is the HF facebook/flores row
// trimmed to its id and the two sentences: {id, sentence_<src>, sentence_<tgt>}.
#include <fmt/format.h>

#include "common/error.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/translation.h"

namespace gemma::evals::tasks {
namespace {

struct FloresLanguage {
  const char* short_code;  // in the task name, as lm-eval's flores_<src>-<tgt> tasks write it
  const char* flores_code;
  const char* name;  // in the prompt
};

const FloresLanguage kEnglish = {"en", "eng_Latn", "English"};

// The card does not list its FloRes directions, so (inferred) xx->en and en->xx over the Gemma language list:
// the 19 languages of data/flores200 besides English.
const FloresLanguage kLanguages[] = {
    {"de", "deu_Latn", "German"},
    {"fr", "fra_Latn", "French"},
    {"es", "spa_Latn", "Spanish"},
    {"pt", "por_Latn", "Portuguese"},
    {"it", "ita_Latn", "Italian"},
    {"ru", "rus_Cyrl", "Russian"},
    {"zh", "zho_Hans", "Chinese (Simplified)"},
    {"zh_Hant", "zho_Hant", "Chinese (Traditional)"},
    {"ja", "jpn_Jpan", "Japanese"},
    {"ko", "kor_Hang", "Korean"},
    {"ar", "arb_Arab", "Arabic"},
    {"hi", "hin_Deva", "Hindi"},
    {"bn", "ben_Beng", "Bengali"},
    {"te", "tel_Telu", "Telugu"},
    {"th", "tha_Thai", "Thai"},
    {"vi", "vie_Latn", "Vietnamese"},
    {"tr", "tur_Latn", "Turkish"},
    {"sw", "swh_Latn", "Swahili"},
    {"id", "ind_Latn", "Indonesian"},
};

struct SentenceLine {
  size_t line;
  std::string text;
};

// A language file's sentences; an empty line other than the final newline is a damaged file.
std::vector<SentenceLine> sentence_lines(const SourceFile& file) {
  std::vector<SentenceLine> lines;
  const std::string& bytes = file.bytes;
  size_t pos = 0, line = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string::npos) end = bytes.size();
    std::string text = bytes.substr(pos, end - pos);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    pos = end + 1;
    ++line;
    if (text.empty()) fail("{}:{}: empty line: every line must hold one sentence", file.info.path, line);
    lines.push_back({line, std::move(text)});
  }
  return lines;
}

DocSplit load_flores(const std::filesystem::path& data_dir, const std::string& split, const FloresLanguage& source,
                     const FloresLanguage& target) {
  const auto path = [&](const FloresLanguage& l) {
    return data_dir / "flores200" / split / fmt::format("{}.{}", l.flores_code, split);
  };
  SourceFile source_file = read_source(path(source));
  SourceFile target_file = read_source(path(target));
  const std::vector<SentenceLine> sources = sentence_lines(source_file);
  const std::vector<SentenceLine> targets = sentence_lines(target_file);
  if (sources.size() != targets.size())
    fail("{} has {} sentences but {} has {}; FLORES files must be line-aligned", source_file.info.path, sources.size(),
         target_file.info.path, targets.size());
  DocSplit out;
  out.name = split;
  for (size_t i = 0; i < sources.size(); ++i) {
    Doc doc;
    doc["id"] = i + 1;  // HF facebook/flores numbers sentences from 1
    doc[std::string("sentence_") + source.flores_code] = sources[i].text;
    doc[std::string("sentence_") + target.flores_code] = targets[i].text;
    out.docs.push_back(std::move(doc));
  }
  source_file.info.rows = target_file.info.rows = out.docs.size();
  out.files = {std::move(source_file.info), std::move(target_file.info)};
  return out;
}

TaskSpec flores_task(const FloresLanguage& source, const FloresLanguage& target) {
  TaskSpec t =
      new_task(fmt::format("flores_{}-{}", source.short_code, target.short_code), 1, OutputType::GenerateUntil, 0);
  t.groups = {"flores"};
  t.load_eval = [source, target](const std::filesystem::path& dir) {
    return load_flores(dir, "devtest", source, target);
  };
  t.load_fewshot = [source, target](const std::filesystem::path& dir) {
    return load_flores(dir, "dev", source, target);
  };
  t.sampler_gets_eval_doc = false;  // fewshot_split dev != test_split devtest
  const std::string source_field = std::string("sentence_") + source.flores_code;
  const std::string target_field = std::string("sentence_") + target.flores_code;
  const std::string source_name = source.name, target_name = target.name;
  t.doc_to_text = [=](const Doc& doc) {
    return fmt::format("{} sentence: {}\n{} sentence:", source_name, doc.at(source_field).get<std::string>(),
                       target_name);
  };
  // lm-eval's YAML has target_delimiter '' (shots render "sentence:Hello"); the spec says use " ".
  t.target_delimiter = " ";
  t.doc_to_target = [target_field](const Doc& doc) { return doc.at(target_field).get<std::string>(); };
  t.doc_to_references = [target_field](const Doc& doc) {
    return std::vector<std::string>{doc.at(target_field).get<std::string>()};
  };
  set_translation_generation(t);
  return t;
}

std::vector<TaskSpec> flores_tasks() {
  std::vector<TaskSpec> tasks;
  for (const FloresLanguage& language : kLanguages) {
    tasks.push_back(flores_task(kEnglish, language));
    tasks.push_back(flores_task(language, kEnglish));
  }
  return tasks;
}

}  // namespace

const TaskRegistration kFloresRegistration{2600, &flores_tasks};

}  // namespace gemma::evals::tasks
