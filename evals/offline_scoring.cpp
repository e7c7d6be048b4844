#include "evals/offline_scoring.h"

#include <algorithm>
#include <functional>
#include <map>

#include "common/error.h"
#include "datasets/jsonl.h"
#include "evals/bootstrap.h"
#include "evals/evaluator.h"
#include "evals/filters.h"
#include "common/python_text.h"
#include "sandbox/sandbox.h"
#include "evals/task_registry.h"
#include "evals/tasks/code.h"
#include "scorers/anls.h"
#include "scorers/bleu.h"
#include "scorers/chrf.h"
#include "scorers/cider.h"
#include "scorers/drop.h"
#include "scorers/exact_match.h"
#include "scorers/math_answer.h"
#include "scorers/ptb_tokenizer.h"
#include "scorers/relaxed_accuracy.h"
#include "scorers/squad.h"
#include "scorers/vqa_accuracy.h"

namespace gemma::evals {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

struct Item {
  std::string id;
  size_t line = 0;  // in the predictions file
  std::string prediction;
  std::vector<std::string> references;
};

// Named per-item values; the first is the headline "score".
using ItemScores = std::vector<std::pair<std::string, double>>;

struct OfflineMetric {
  std::string name;                   // canonical
  std::vector<std::string> aliases;
  std::vector<std::string> variants;  // the first is the default; empty = no variants
  std::function<ItemScores(const Item&, const std::string& variant)> item;  // averaged over the items
  std::function<ordered_json(const std::vector<Item>&, const std::string& variant)> corpus;  // or one corpus value
  bool executes_code = false;
};

ordered_json chrf_corpus(const std::vector<Item>& items, const scorers::ChrfOptions& options) {
  // Per-segment statistics once; the corpus score and every bootstrap resample sum them.
  std::vector<std::vector<long long>> statistics;
  for (const Item& item : items) statistics.push_back(scorers::chrf_segment_statistics(item.prediction, item.references, options));
  auto corpus = [&](const std::vector<size_t>& picked) {
    std::vector<long long> total(statistics.front().size(), 0);
    for (size_t i : picked)
      for (size_t k = 0; k < total.size(); ++k) total[k] += statistics[i][k];
    return scorers::chrf_from_statistics(total, options);
  };
  std::vector<size_t> all(items.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  ordered_json out = {{"score", corpus(all)}};
  const auto stderr_value = bootstrap_stderr(items.size(), 100, corpus);  // lm-eval: chrf uses min(iters, 100)
  out["stderr"] = stderr_value ? ordered_json(*stderr_value) : ordered_json("N/A");
  out["signature"] = scorers::chrf_signature(options, static_cast<int>(items.front().references.size()));
  return out;
}

// pycocoevalcap tokenises all references (one stream) and all candidates (another) before CIDEr/BLEU.
std::pair<std::vector<std::string>, std::vector<std::vector<std::string>>> caption_corpus(
    const std::vector<Item>& items, const std::string& variant) {
  std::vector<std::string> hypotheses;
  std::vector<std::vector<std::string>> references;
  for (const Item& item : items) {
    hypotheses.push_back(item.prediction);
    references.push_back(item.references);
  }
  if (variant == "ptb") {
    hypotheses = scorers::ptb_tokenize_captions(hypotheses);
    std::vector<std::string> flat;
    for (const auto& r : references) flat.insert(flat.end(), r.begin(), r.end());
    const std::vector<std::string> tokenized = scorers::ptb_tokenize_captions(flat);
    size_t k = 0;
    for (auto& r : references)
      for (auto& caption : r) caption = tokenized[k++];
  }
  return {hypotheses, references};
}

bool passes_tests(const Item& item) {
  std::string program = item.prediction;
  for (const std::string& test : item.references) program += "\n" + test;
  return sandbox::python_program_passes(program + "\n", tasks::code_scoring_limits());
}

const std::vector<OfflineMetric>& metrics() {
  static const std::vector<OfflineMetric> table = {
      {"exact_match", {"em"}, {},
       [](const Item& i, const std::string&) -> ItemScores {
         return {{"exact_match", scorers::exact_match(i.prediction, i.references, ExactMatchOptions{})}};
       }, {}},
      {"acc", {}, {},
       [](const Item& i, const std::string&) -> ItemScores {
         const std::string label = python_strip(i.prediction);
         const bool hit = std::any_of(i.references.begin(), i.references.end(),
                                      [&](const std::string& r) { return python_strip(r) == label; });
         return {{"acc", hit ? 1.0 : 0.0}};
       }, {}},
      {"f1", {}, {},
       [](const Item& i, const std::string&) -> ItemScores {
         return {{"f1", scorers::squad_f1_max_over_references(i.prediction, i.references)}};
       }, {}},
      {"squad", {}, {"max", "first"},
       [](const Item& i, const std::string& variant) -> ItemScores {
         if (variant == "first")
           return {{"exact_match", scorers::squad_exact_first_reference(i.prediction, i.references)},
                   {"f1", scorers::squad_f1_first_reference(i.prediction, i.references)}};
         return {{"exact_match", scorers::squad_exact_max_over_references(i.prediction, i.references)},
                 {"f1", scorers::squad_f1_max_over_references(i.prediction, i.references)}};
       }, {}},
      {"drop", {}, {},
       [](const Item& i, const std::string&) -> ItemScores {
         // A plain-text reference is a one-span gold answer; the task's own references are JSON arrays.
         std::vector<std::string> golds;
         for (const std::string& r : i.references)
           golds.push_back(!r.empty() && r.front() == '[' ? r : scorers::drop::encode_gold({r}));
         return {{"exact_match", scorers::drop::drop_exact_match(i.prediction, golds)},
                 {"f1", scorers::drop::drop_f1(i.prediction, golds)}};
       }, {}},
      {"chrf", {}, {}, {}, [](const std::vector<Item>& items, const std::string&) { return chrf_corpus(items, {}); }},
      {"chrf++", {"chrfpp"}, {}, {},
       [](const std::vector<Item>& items, const std::string&) {
         scorers::ChrfOptions options;
         options.word_order = 2;
         return chrf_corpus(items, options);
       }},
      {"math", {"minerva_math"}, {scorers::kMinervaSympyVariant, scorers::kMinervaStringVariant},
       [](const Item& i, const std::string& variant) -> ItemScores {
         const auto equivalent = variant == scorers::kMinervaStringVariant ? scorers::minerva_string_equivalent
                                                                           : scorers::minerva_is_equiv;
         const bool same = std::any_of(i.references.begin(), i.references.end(),
                                       [&](const std::string& r) { return equivalent(i.prediction, r); });
         return {{"exact_match", same ? 1.0 : 0.0}};
       }, {}},
      {"pass@1", {"pass_at_1"}, {},
       [](const Item& i, const std::string&) -> ItemScores { return {{"pass@1", passes_tests(i) ? 1.0 : 0.0}}; },
       {}, /*executes_code=*/true},
      {"anls", {}, {"lmms", "official"},
       [](const Item& i, const std::string& variant) -> ItemScores {
         return {{"anls", scorers::anls(i.prediction, i.references, *scorers::parse_anls_variant(variant))}};
       }, {}},
      {"vqa", {"vqa_accuracy"}, {"lmms_vqav2", "lmms_textvqa", "lmms_okvqa", "official"},
       [](const Item& i, const std::string& variant) -> ItemScores {
         // lmms-eval's OK-VQA scorer is its TextVQA one.
         const std::string v = variant == "lmms_okvqa" ? "lmms_textvqa" : variant;
         return {{"vqa", scorers::vqa_accuracy(i.prediction, i.references, *scorers::parse_vqa_variant(v))}};
       }, {}},
      {"relaxed", {"relaxed_accuracy"}, {scorers::kRelaxedAccuracyVariant},
       [](const Item& i, const std::string&) -> ItemScores {
         return {{"relaxed", scorers::relaxed_accuracy(i.prediction, i.references)}};
       }, {}},
      {"cider", {"cider_d"}, {"ptb", "tokenized"}, {},
       [](const std::vector<Item>& items, const std::string& variant) {
         const auto [hypotheses, references] = caption_corpus(items, variant);
         return ordered_json{{"score", scorers::cider_d(hypotheses, references).score}};
       }},
      {"bleu", {"bleu_4"}, {"ptb", "tokenized"}, {},
       [](const std::vector<Item>& items, const std::string& variant) {
         const auto [hypotheses, references] = caption_corpus(items, variant);
         const scorers::CocoBleuResult bleu = scorers::coco_bleu(hypotheses, references);
         return ordered_json{
             {"score", bleu.bleu[3]},
             {"components", {{"Bleu_1", bleu.bleu[0]}, {"Bleu_2", bleu.bleu[1]}, {"Bleu_3", bleu.bleu[2]},
                             {"Bleu_4", bleu.bleu[3]}, {"testlen", bleu.testlen}, {"reflen", bleu.reflen},
                             {"ref_length_rule", scorers::bleu_ref_length_name(scorers::BleuRefLength::kClosest)}}}};
       }},
  };
  return table;
}

const OfflineMetric& find_metric(const std::string& name, const std::string& spelled) {
  for (const auto& metric : metrics()) {
    if (metric.name == name || std::find(metric.aliases.begin(), metric.aliases.end(), name) != metric.aliases.end())
      return metric;
  }
  fail("--metric {}: unknown metric (known: {})", spelled, known_offline_metrics());
}

std::string id_of(const datasets::JsonlRecord& record, const fs::path& file) {
  const auto& v = record.value;
  if (!v.is_object() || !v.contains("id")) fail("{}:{}: missing field \"id\"", file.string(), record.line);
  const auto& id = v["id"];
  if (id.is_string()) return id.get<std::string>();
  if (id.is_number_integer()) return std::to_string(id.get<long long>());
  fail("{}:{}: field \"id\" must be a string or an integer", file.string(), record.line);
}

// Pairs the two files by id, in the order of the predictions file. Every error names the file and
// line: bad JSON, a missing or ill-typed field, an empty reference list, a duplicate id, an id on
// one side only.
std::vector<Item> read_items(const fs::path& predictions, const fs::path& references) {
  std::map<std::string, std::pair<std::vector<std::string>, size_t>> refs;
  for (const auto& record : datasets::read_jsonl(references)) {
    std::string id = id_of(record, references);
    const auto& value = record.value;
    if (!value.contains("references") || !value["references"].is_array() || value["references"].empty())
      fail("{}:{}: id \"{}\": field \"references\" must be a non-empty array of strings", references.string(),
           record.line, id);
    std::vector<std::string> texts;
    for (const auto& r : value["references"]) {
      if (!r.is_string())
        fail("{}:{}: id \"{}\": every reference must be a string (found {})", references.string(), record.line, id,
             r.type_name());
      texts.push_back(r.get<std::string>());
    }
    if (!refs.emplace(id, std::make_pair(std::move(texts), record.line)).second)
      fail("{}:{}: duplicate id \"{}\"", references.string(), record.line, id);
  }

  std::vector<Item> items;
  std::map<std::string, size_t> seen;
  for (const auto& record : datasets::read_jsonl(predictions)) {
    std::string id = id_of(record, predictions);
    if (!seen.emplace(id, record.line).second) fail("{}:{}: duplicate id \"{}\"", predictions.string(), record.line, id);
    const auto& value = record.value;
    if (!value.contains("prediction")) fail("{}:{}: id \"{}\": missing field \"prediction\"", predictions.string(), record.line, id);
    if (!value["prediction"].is_string())
      fail("{}:{}: id \"{}\": field \"prediction\" must be a string (found {})", predictions.string(), record.line, id,
           value["prediction"].type_name());
    auto ref = refs.find(id);
    if (ref == refs.end()) fail("{}:{}: id \"{}\" has no line in {}", predictions.string(), record.line, id, references.string());
    items.push_back({id, record.line, value["prediction"].get<std::string>(), ref->second.first});
  }
  for (const auto& [id, entry] : refs)
    if (!seen.count(id))
      fail("{}:{}: id \"{}\" has no prediction in {}", references.string(), entry.second, id, predictions.string());
  if (items.empty()) fail("{}: no predictions", predictions.string());
  return items;
}

// The task and filter pipeline NAME names: TASK:PIPELINE or a short alias of one.
struct TaskFilter {
  const TaskSpec* task = nullptr;
  FilterPipeline pipeline;
};

TaskFilter resolve_filter(const std::string& name) {
  std::string qualified = name;
  for (const auto& [alias, target] : filter_aliases())
    if (alias == name) qualified = target;
  const size_t colon = qualified.rfind(':');
  auto known = [] {
    std::string list;
    for (const auto& [alias, target] : filter_aliases()) list += (list.empty() ? "" : ", ") + alias;
    return list + ", or TASK:PIPELINE";
  };
  if (colon == std::string::npos) fail("--filter {}: unknown filter (known: {})", name, known());
  const std::string task_name = qualified.substr(0, colon), pipeline = qualified.substr(colon + 1);
  const auto tasks = resolve_tasks(task_name);  // errors for an unknown task, listing close names
  // A task without filters scores its generations through lm-eval's implicit "none" (take_first).
  if (tasks.front()->filters.empty() && pipeline == "none") return {tasks.front(), FilterPipeline{}};
  std::string pipelines;
  for (const FilterPipeline& candidate : tasks.front()->filters) {
    if (candidate.name == pipeline) return {tasks.front(), candidate};
    pipelines += (pipelines.empty() ? "" : ", ") + candidate.name;
  }
  fail("--filter {}: task {} has no filter pipeline \"{}\" (it has: {})", name, tasks.front()->name, pipeline,
       pipelines.empty() ? "none" : pipelines);
}

// The task's own metric that --metric names (by its name or an alias), if the task scores one.
const MetricSpec* task_metric_named(const TaskSpec& task, const OfflineMetric& metric) {
  for (const MetricSpec& candidate : task.metrics) {
    if (candidate.name == metric.name ||
        std::find(metric.aliases.begin(), metric.aliases.end(), candidate.name) != metric.aliases.end())
      return &candidate;
  }
  return nullptr;
}

// Scores the items as `run` and `rescore` score the task's generations: the task narrowed to the one
// pipeline and the one metric, each item a doc record whose generation is the prediction, through
// rescore_records (the filter, then the metric with the task's options -- regexes_to_ignore,
// ignore_case, ignore_punctuation -- on prediction and reference alike) and aggregate_task_metrics
// (mean, stderr). A second scoring path here could drift from the task's; this one cannot.
ordered_json score_as_task(const TaskFilter& filter, const MetricSpec& task_metric, const std::vector<Item>& items,
                           const OfflineRequest& request) {
  const std::string& filter_name = request.filter;
  TaskSpec task = *filter.task;
  task.filters = {filter.pipeline};
  task.metrics = {task_metric};
  std::vector<DocRecord> docs(items.size());
  std::map<std::string, size_t> invalid_by_filter;
  for (size_t i = 0; i < items.size(); ++i) {
    docs[i].doc_id = static_cast<int64_t>(i);
    docs[i].generated = items[i].prediction;
    docs[i].target = items[i].references.size() == 1 ? nlohmann::json(items[i].references.front())
                                                     : nlohmann::json(items[i].references);
    // One record at a time, so an error names the item's line and id.
    std::vector<DocRecord> one = {std::move(docs[i])};
    try {
      rescore_records(task, one, invalid_by_filter);
    } catch (const Error& e) {
      fail("{}:{}: id \"{}\": {}", request.predictions.string(), items[i].line, items[i].id, e.what());
    }
    docs[i] = std::move(one.front());
  }
  const std::vector<MetricValue> values = aggregate_task_metrics(task, docs, invalid_by_filter);
  const auto value = std::find_if(values.begin(), values.end(), [&](const MetricValue& v) {
    return v.metric == task_metric.name && v.filter == filter.pipeline.name;
  });
  if (value == values.end())  // a metric over one subset of the docs: offline items name no subset
    fail("--filter {}: task {} scores {} only on the docs of subset {}, which offline items do not name", filter_name,
         task.name, task_metric.name, task_metric.subset);
  ordered_json out = {{"score", value->value}, {"n", items.size()}};
  out["stderr"] = value->stderr_value ? ordered_json(*value->stderr_value) : ordered_json("N/A");
  out["scored_as"] = "task " + task.name + " metric " + task_metric.name + " (as run and rescore score it)";
  ordered_json extracted = ordered_json::array();
  for (size_t i = 0; i < items.size(); ++i)
    extracted.push_back({{"id", items[i].id}, {"extracted", docs[i].extracted.at(filter.pipeline.name)}});
  out["filter"] = filter_name;
  out["invalid"] = value->invalid;
  out["extracted"] = std::move(extracted);
  return out;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& filter_aliases() {
  static const std::vector<std::pair<std::string, std::string>> table = {
      {"gsm8k-strict", "gsm8k:strict-match"},
      {"gsm8k-flexible", "gsm8k:flexible-extract"},
      {"gsm8k-cot-strict", "gsm8k_cot:strict-match"},
      {"gsm8k-cot-flexible", "gsm8k_cot:flexible-extract"},
      // The same extraction serves every subtask of these families.
      {"bbh", "bbh_cot_fewshot_boolean_expressions:get-answer"},
      {"mmlu-pro", "mmlu_pro_biology:custom-extract"},
      {"minerva-math", "minerva_math_algebra:none"},
      {"gpqa-strict", "gpqa_main_generative_n_shot:strict-match"},
      {"gpqa-flexible", "gpqa_main_generative_n_shot:flexible-extract"},
      {"mgsm-en-strict", "mgsm_native_cot_en:strict-match"},
      {"mgsm-en-flexible", "mgsm_native_cot_en:flexible-extract"},
  };
  return table;
}

std::string known_offline_metrics() {
  std::string known;
  for (const auto& metric : metrics()) {
    known += (known.empty() ? "" : ", ") + metric.name;
    for (const auto& alias : metric.aliases) known += ", " + alias;
    if (metric.variants.empty()) continue;
    known += "[:" + metric.variants.front();
    for (size_t i = 1; i < metric.variants.size(); ++i) known += "|" + metric.variants[i];
    known += "]";
  }
  return known;
}

ordered_json score_offline(const OfflineRequest& request) {
  const size_t colon = request.metric.find(':');
  const OfflineMetric& metric = find_metric(request.metric.substr(0, colon), request.metric);
  std::string variant = metric.variants.empty() ? "" : metric.variants.front();
  if (colon != std::string::npos) {
    variant = request.metric.substr(colon + 1);
    if (std::find(metric.variants.begin(), metric.variants.end(), variant) == metric.variants.end()) {
      std::string known;
      for (const auto& v : metric.variants) known += (known.empty() ? "" : ", ") + v;
      fail("--metric {}: unknown variant \"{}\" of {} (known: {})", request.metric, variant, metric.name,
           known.empty() ? "it has none" : known);
    }
  }
  if (metric.executes_code && !request.allow_code_execution)
    fail("--metric {} runs the predictions as programs: pass --allow-code-execution to allow it (each runs in a "
         "sandbox: no network, time, memory and process limits, a throwaway folder)", request.metric);
  std::optional<TaskFilter> task_filter;
  std::optional<CompiledFilterPipeline> filter;
  if (!request.filter.empty()) {
    task_filter = resolve_filter(request.filter);
    filter.emplace(task_filter->pipeline);
  }
  // With a task's filter, a metric the task scores is the task's own (options, variant), so `score`
  // gives the number `run` and `rescore` give for those generations.
  const MetricSpec* task_metric = task_filter && task_filter->task->output_type == OutputType::GenerateUntil
                                      ? task_metric_named(*task_filter->task, metric)
                                      : nullptr;
  if (task_metric) {
    if (colon != std::string::npos)
      fail("--metric {} with --filter {}: task {} scores {} its own way{}; drop the \":{}\"", request.metric,
           request.filter, task_filter->task->name, task_metric->name,
           task_metric->variant.empty() ? "" : " (variant " + task_metric->variant + ")", variant);
    require_code_execution_allowed(*task_filter->task, request.allow_code_execution);
  }

  std::vector<Item> items = read_items(request.predictions, request.references);
  ordered_json out = {{"metric", metric.name}};
  if (task_metric) {
    if (!task_metric->variant.empty()) out["variant"] = task_metric->variant;
    out.update(score_as_task(*task_filter, *task_metric, items, request));
    return out;
  }
  if (!variant.empty()) out["variant"] = variant;
  ordered_json filtered = ordered_json::object();  // appended last: the per-id answers can be long
  if (filter) {
    ordered_json extracted = ordered_json::array();
    size_t invalid = 0;
    for (Item& item : items) {
      const FilterOutcome outcome = filter->apply(item.prediction);
      invalid += outcome.fell_back ? 1 : 0;
      item.prediction = outcome.text;
      extracted.push_back({{"id", item.id}, {"extracted", outcome.text}});
    }
    filtered = {{"filter", request.filter}, {"invalid", invalid}, {"extracted", std::move(extracted)}};
  }

  if (metric.corpus) {
    ordered_json corpus = metric.corpus(items, variant);
    out["score"] = corpus["score"];
    out["n"] = items.size();
    for (const auto& [key, value] : corpus.items())
      if (key != "score") out[key] = value;
    out.update(filtered);
    return out;
  }
  std::vector<std::pair<std::string, double>> totals;
  for (const Item& item : items) {
    ItemScores scores;
    try {
      scores = metric.item(item, variant);
    } catch (const Error& e) {
      fail("{}:{}: id \"{}\": {}", request.predictions.string(), item.line, item.id, e.what());
    }
    if (totals.empty()) totals = scores;
    else
      for (size_t k = 0; k < scores.size(); ++k) totals[k].second += scores[k].second;
  }
  const double n = static_cast<double>(items.size());
  out["score"] = totals.front().second / n;
  out["n"] = items.size();
  if (totals.size() > 1) {
    ordered_json scores = ordered_json::object();
    for (const auto& [name, total] : totals) scores[name] = total / n;
    out["scores"] = std::move(scores);
  }
  out.update(filtered);
  return out;
}

}  // namespace gemma::evals
