#include "evals/offline_scoring.h"

#include <algorithm>
#include <functional>
#include <map>

#include "common/error.h"
#include "datasets/jsonl.h"
#include "evals/aggregation.h"
#include "evals/bootstrap.h"
#include "evals/filters.h"
#include "evals/task_registry.h"
#include "evals/tasks/code.h"
#include "sandbox/sandbox.h"
#include "scorers/metric_registry.h"

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

using scorers::ItemScores;
using scorers::Metric;

// Code-executing metrics run their programs in the sandbox with HF code_eval's per-program limits.
scorers::MetricContext sandbox_context() {
  scorers::MetricContext context;
  context.program_passes = [](const std::string& program) {
    return sandbox::python_program_passes(program, tasks::code_scoring_limits());
  };
  return context;
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
    if (!seen.emplace(id, record.line).second)
      fail("{}:{}: duplicate id \"{}\"", predictions.string(), record.line, id);
    const auto& value = record.value;
    if (!value.contains("prediction"))
      fail("{}:{}: id \"{}\": missing field \"prediction\"", predictions.string(), record.line, id);
    if (!value["prediction"].is_string())
      fail("{}:{}: id \"{}\": field \"prediction\" must be a string (found {})", predictions.string(), record.line, id,
           value["prediction"].type_name());
    auto ref = refs.find(id);
    if (ref == refs.end())
      fail("{}:{}: id \"{}\" has no line in {}", predictions.string(), record.line, id, references.string());
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
const MetricSpec* task_metric_named(const TaskSpec& task, const Metric& metric) {
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

std::string known_offline_metrics() { return scorers::metric_registry().describe(); }

ordered_json score_offline(const OfflineRequest& request) {
  const scorers::MetricRegistry& registry = scorers::metric_registry();
  const scorers::MetricKey key = scorers::parse_metric_key(request.metric);
  const Metric* metric = registry.lookup(request.metric);
  if (!metric) {
    const std::vector<std::string> variants = registry.variants(key.name);
    if (!registry.lookup(key.name))
      fail("--metric {}: unknown metric (known: {})", request.metric, registry.describe());
    std::string known;
    for (const auto& v : variants) known += (known.empty() ? "" : ", ") + v;
    fail("--metric {}: unknown variant \"{}\" of {} (known: {})", request.metric, key.variant,
         registry.lookup(key.name)->name, known.empty() ? "it has none" : known);
  }
  const std::string& variant = metric->variant;
  const size_t colon = key.has_variant ? key.name.size() : std::string::npos;
  if (metric->executes_code && !request.allow_code_execution)
    fail(
        "--metric {} runs the predictions as programs: pass --allow-code-execution to allow it (each runs in a "
        "sandbox: no network, time, memory and process limits, a throwaway folder)",
        request.metric);
  std::optional<TaskFilter> task_filter;
  std::optional<CompiledFilterPipeline> filter;
  if (!request.filter.empty()) {
    task_filter = resolve_filter(request.filter);
    filter.emplace(task_filter->pipeline);
  }
  // With a task's filter, a metric the task scores is the task's own (options, variant), so `score`
  // gives the number `run` and `rescore` give for those generations.
  const MetricSpec* task_metric = task_filter && task_filter->task->output_type == OutputType::GenerateUntil
                                      ? task_metric_named(*task_filter->task, *metric)
                                      : nullptr;
  if (task_metric) {
    if (colon != std::string::npos && task_metric->registry_key != metric->key())
      fail("--metric {} with --filter {}: task {} scores {} its own way{}; drop the \":{}\"", request.metric,
           request.filter, task_filter->task->name, task_metric->name,
           task_metric->variant.empty() ? "" : " (variant " + task_metric->variant + ")", variant);
    require_code_execution_allowed(*task_filter->task, request.allow_code_execution);
  }

  std::vector<Item> items = read_items(request.predictions, request.references);
  ordered_json out = {{"metric", metric->name}};
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

  if (metric->aggregation == scorers::Aggregation::kCorpus) {
    std::vector<std::string> predictions;
    std::vector<std::vector<std::string>> references;
    for (const Item& item : items) {
      predictions.push_back(item.prediction);
      references.push_back(item.references);
    }
    std::vector<size_t> all(items.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    scorers::PreparedCorpus corpus;
    try {  // e.g. chrf:indicgenbench given references that are not its {"target", "group"} objects
      corpus = metric->corpus_score(predictions, references);
      out["score"] = corpus.score(all);
    } catch (const Error& e) {
      fail("--metric {}: {}", request.metric, e.what());
    }
    out["n"] = items.size();
    if (metric->bootstrap_iters > 0) {
      const auto stderr_value = bootstrap_stderr(items.size(), metric->bootstrap_iters, corpus.score);
      out["stderr"] = stderr_value ? ordered_json(*stderr_value) : ordered_json("N/A");
    }
    for (const auto& [name, value] : corpus.details.items()) out[name] = value;
    out.update(filtered);
    return out;
  }
  const scorers::MetricContext context = sandbox_context();
  const scorers::MetricDoc no_doc;  // offline items have no dataset row
  std::vector<std::pair<std::string, double>> totals;
  for (const Item& item : items) {
    ItemScores scores;
    try {
      scores = metric->score(no_doc, item.prediction, item.references, context);
    } catch (const Error& e) {
      fail("{}:{}: id \"{}\": {}", request.predictions.string(), item.line, item.id, e.what());
    }
    if (totals.empty())
      totals = scores;
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
