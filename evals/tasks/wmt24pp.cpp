// WMT24++ (the WMT24++ dataset card (google/wmt24pp); no lm-eval config exists: dataset card + lm-eval's
// translation task style). Data: google/wmt24pp, one JSONL per pair, data_dir/wmt24pp/en-<xx_YY>.jsonl with
// {lp, domain, document_id, segment_id, is_bad_source, source, target, original_target}; the only
// split is `train`. Also the chrF metric and generation settings shared with flores.cpp.
#include <fmt/format.h>

#include "common/error.h"
#include "common/python_text.h"
#include "datasets/jsonl.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/translation.h"

namespace gemma::evals::tasks {
namespace {

// The dataset card's 55 pairs with its LANGUAGE_BY_CODE names (README "Helpful Python Constants").
struct Wmt24ppPair {
  const char* code;  // xx_YY of config en-xx_YY
  const char* language;
};
const Wmt24ppPair kPairs[] = {
    {"ar_EG", "Arabic"},     {"ar_SA", "Arabic"},     {"bg_BG", "Bulgarian"}, {"bn_IN", "Bengali"},
    {"ca_ES", "Catalan"},    {"cs_CZ", "Czech"},      {"da_DK", "Danish"},    {"de_DE", "German"},
    {"el_GR", "Greek"},      {"es_MX", "Spanish"},    {"et_EE", "Estonian"},  {"fa_IR", "Farsi"},
    {"fi_FI", "Finnish"},    {"fil_PH", "Filipino"},  {"fr_CA", "French"},    {"fr_FR", "French"},
    {"gu_IN", "Gujarati"},   {"he_IL", "Hebrew"},     {"hi_IN", "Hindi"},     {"hr_HR", "Croatian"},
    {"hu_HU", "Hungarian"},  {"id_ID", "Indonesian"}, {"is_IS", "Icelandic"}, {"it_IT", "Italian"},
    {"ja_JP", "Japanese"},   {"kn_IN", "Kannada"},    {"ko_KR", "Korean"},    {"lt_LT", "Lithuanian"},
    {"lv_LV", "Latvian"},    {"ml_IN", "Malayalam"},  {"mr_IN", "Marathi"},   {"nl_NL", "Dutch"},
    {"no_NO", "Norwegian"},  {"pa_IN", "Punjabi"},    {"pl_PL", "Polish"},    {"pt_BR", "Portuguese"},
    {"pt_PT", "Portuguese"}, {"ro_RO", "Romanian"},   {"ru_RU", "Russian"},   {"sk_SK", "Slovak"},
    {"sl_SI", "Slovenian"},  {"sr_RS", "Serbian"},    {"sv_SE", "Swedish"},   {"sw_KE", "Swahili"},
    {"sw_TZ", "Swahili"},    {"ta_IN", "Tamil"},      {"te_IN", "Telugu"},    {"th_TH", "Thai"},
    {"tr_TR", "Turkish"},    {"uk_UA", "Ukrainian"},  {"ur_PK", "Urdu"},      {"vi_VN", "Vietnamese"},
    {"zh_CN", "Mandarin"},   {"zh_TW", "Mandarin"},   {"zu_ZA", "Zulu"},
};

// The card: "drop rows with is_bad_source=true" (the canary row is one); reference = `target`, the
// post-edit, not `original_target`. Rows are kept whole (they show in logged samples).
DocSplit load_wmt24pp(const std::filesystem::path& data_dir, const std::string& pair) {
  SourceFile file = read_source(data_dir / "wmt24pp" / (pair + ".jsonl"));
  DocSplit split;
  split.name = "train";
  for (const auto& record : datasets::parse_jsonl(file.bytes, file.info.path)) {
    const RowSource at{file.info.path, record.line};
    string_field(record.value, "source", at);
    string_field(record.value, "target", at);
    const auto bad = record.value.find("is_bad_source");
    if (bad == record.value.end()) fail_field(at, "is_bad_source", "missing");
    if (!bad->is_boolean())
      fail_field(at, "is_bad_source", fmt::format("expected a boolean, got {}", bad->type_name()));
    if (!bad->get<bool>()) split.docs.push_back(record.value);
  }
  file.info.rows = split.docs.size();
  split.files.push_back(std::move(file.info));
  return split;
}

TaskSpec wmt24pp_task(const Wmt24ppPair& pair) {
  const std::string config = std::string("en-") + pair.code;
  TaskSpec t = new_task("wmt24pp_" + config, 1, OutputType::GenerateUntil, 0);
  t.groups = {"wmt24pp"};  // the card reports the mean over pairs
  t.load_eval = [config](const std::filesystem::path& dir) { return load_wmt24pp(dir, config); };
  // No shot split: `train` is the only split and is evaluated whole.
  const std::string language = pair.language;
  t.doc_to_text = [language](const Doc& doc) {
    return fmt::format("English sentence: {}\n{} sentence:", doc.at("source").get<std::string>(), language);
  };
  t.doc_to_target = [](const Doc& doc) { return doc.at("target").get<std::string>(); };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("target").get<std::string>()}; };
  set_translation_generation(t);
  return t;
}

}  // namespace

MetricSpec corpus_chrf_metric(const scorers::ChrfOptions& options, const std::string& name) {
  // The registry's chrf (word_order 0) or chrf++ (word_order 2): per-segment statistics prepared once,
  // summed over each bootstrap resample. It registers sacrebleu CHRF()'s other settings only.
  const scorers::ChrfOptions defaults;
  if (options.char_order != defaults.char_order || options.beta != defaults.beta ||
      options.lowercase != defaults.lowercase || options.whitespace != defaults.whitespace ||
      options.eps_smoothing != defaults.eps_smoothing || (options.word_order != 0 && options.word_order != 2))
    fail(
        "metric {}: the metric registry has chrF with sacrebleu's defaults and word_order 0 (chrf) or 2 (chrf++) "
        "only; asked for {}",
        name, scorers::chrf_signature(options));
  MetricSpec m = registry_metric(options.word_order == 2 ? "chrf++" : "chrf", name);
  m.variant = "sacrebleu:" + scorers::chrf_signature(options);
  return m;
}

void set_translation_generation(TaskSpec& task) {
  task.output_type = OutputType::GenerateUntil;
  task.until = {"\n"};
  // A "strip" extraction, as lm-eval's FloRes configs (lm_eval/tasks/galician_bench/flores_gl/@4e7e0d47) have. It
  // cannot change chrF (whitespace is removed before character n-grams, words come from split()) but keeps the logged
  // answer clean.
  FilterStep strip;
  strip.kind = FilterStep::Kind::RemoveWhitespace;  // str.strip(); it cannot fail, so no invalid_rate row
  task.filters = {{"strip", {strip}}};
  task.metrics = {corpus_chrf_metric()};
}

namespace {

std::vector<TaskSpec> wmt24pp_tasks() {
  std::vector<TaskSpec> tasks;
  for (const Wmt24ppPair& pair : kPairs) tasks.push_back(wmt24pp_task(pair));
  return tasks;
}

}  // namespace

const TaskRegistration kWmt24ppRegistration{2500, &wmt24pp_tasks};

}  // namespace gemma::evals::tasks
