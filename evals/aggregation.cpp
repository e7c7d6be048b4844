#include "evals/aggregation.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "common/sha256.h"
#include "evals/bootstrap.h"
#include "evals/perplexity.h"
#include "scorers/metric_registry.h"
#include "scorers/stderr.h"

namespace gemma::evals {
namespace {

void require(bool present, const TaskSpec& task, const char* field) {
  if (!present) fail("task {}: the task adapter does not set {}", task.name, field);
}

// ---- task metrics ----

// The aggregations over per-doc log-likelihoods (MetricAggregation): the weighted ones divide by each
// doc's word or byte count, taken from the text the doc scored (DocRecord::prompt of a rolling doc).
MetricValue aggregate_loglikelihoods(const std::vector<DocRecord>& docs, const MetricSpec& metric,
                                     const std::string& filter, size_t invalid) {
  const std::string key = metric_key(metric.name, filter);
  std::vector<double> loglikelihoods;
  loglikelihoods.reserve(docs.size());
  for (const DocRecord& doc : docs) loglikelihoods.push_back(doc.metrics.at(key));
  MetricValue value;
  value.metric = metric.name;
  value.filter = filter;
  value.higher_is_better = metric.higher_is_better;
  value.invalid = invalid;
  if (metric.aggregation == MetricAggregation::Perplexity) {
    value.value = perplexity(loglikelihoods);
    // lm-eval bootstraps perplexity's stderr (metrics.py::stderr_for_metric lists it as bootstrappable).
    value.stderr_value = bootstrap_stderr(docs.size(), metric.bootstrap_iters, [&](const std::vector<size_t>& picked) {
      std::vector<double> resampled;
      resampled.reserve(picked.size());
      for (size_t i : picked) resampled.push_back(loglikelihoods[i]);
      return perplexity(resampled);
    });
    return value;
  }
  std::vector<std::pair<double, double>> items;
  items.reserve(docs.size());
  for (size_t i = 0; i < docs.size(); ++i)
    items.emplace_back(loglikelihoods[i], rolling_metric_count(metric.name, docs[i].prompt));
  // weighted_perplexity and bits_per_byte have no stderr in lm-eval ("N/A").
  value.value =
      metric.aggregation == MetricAggregation::BitsPerByte ? bits_per_byte(items) : weighted_perplexity(items);
  return value;
}

MetricValue aggregate_metric(const std::vector<DocRecord>& docs, const MetricSpec& metric, const std::string& filter,
                             size_t invalid) {
  if (metric.aggregation != MetricAggregation::Mean) return aggregate_loglikelihoods(docs, metric, filter, invalid);
  if (metric.corpus_score) {
    std::vector<std::string> predictions;
    std::vector<std::vector<std::string>> references;
    for (const DocRecord& doc : docs) {
      predictions.push_back(doc.extracted.at(filter));
      references.push_back(doc.target.is_array() ? doc.target.get<std::vector<std::string>>()
                                                 : std::vector<std::string>{doc.target.get<std::string>()});
    }
    MetricValue value;
    value.metric = metric.name;
    value.filter = filter;
    value.higher_is_better = metric.higher_is_better;
    value.invalid = invalid;
    if (metric.prepare_corpus) {  // a registry metric: prepared once, resamples pick its items
      const scorers::PreparedCorpus corpus = metric.prepare_corpus(predictions, references);
      std::vector<size_t> all(docs.size());
      for (size_t i = 0; i < all.size(); ++i) all[i] = i;
      value.value = corpus.score(all);
      value.stderr_value = bootstrap_stderr(docs.size(), metric.bootstrap_iters, corpus.score);
      return value;
    }
    value.value = metric.corpus_score(predictions, references);
    // A corpus statistic has no per-doc values, so no closed-form stderr: lm-eval's bootstrap where the
    // metric asks for it, else none.
    value.stderr_value = bootstrap_stderr(docs.size(), metric.bootstrap_iters, [&](const std::vector<size_t>& picked) {
      std::vector<std::string> resampled_predictions;
      std::vector<std::vector<std::string>> resampled_references;
      for (size_t i : picked) {
        resampled_predictions.push_back(predictions[i]);
        resampled_references.push_back(references[i]);
      }
      return metric.corpus_score(resampled_predictions, resampled_references);
    });
    return value;
  }
  const std::string key = metric_key(metric.name, filter);
  std::vector<double> values;
  values.reserve(docs.size());
  for (const DocRecord& doc : docs)
    if (metric.subset.empty() || doc.subset == metric.subset) values.push_back(doc.metrics.at(key));
  MetricValue value;
  value.metric = metric.name;
  value.filter = filter;
  value.value = scorers::mean(values);
  value.stderr_value = scorers::mean_stderr(values);
  value.higher_is_better = metric.higher_is_better;
  value.invalid = invalid;
  return value;
}

std::vector<std::string> filter_names(const TaskSpec& task) {
  if (task.output_type != OutputType::GenerateUntil) return {kNoFilter};
  std::vector<std::string> names;
  for (const FilterPipeline& pipeline : effective_filters(task)) names.push_back(pipeline.name);
  return names;
}

// ---- groups ----

struct MetricId {
  std::string metric, filter;
  bool operator==(const MetricId& other) const { return metric == other.metric && filter == other.filter; }
};

const MetricValue* find_metric(const TaskResult& task, const MetricId& id) {
  for (const MetricValue& value : task.metrics)
    if (value.metric == id.metric && value.filter == id.filter) return &value;
  return nullptr;
}

// (metric, filter) pairs every member reports, in the first member's order.
std::vector<MetricId> shared_metrics(const std::vector<const TaskResult*>& members) {
  std::vector<MetricId> shared;
  for (const MetricValue& value : members.front()->metrics) {
    const MetricId id{value.metric, value.filter};
    const bool everywhere = std::all_of(members.begin(), members.end(),
                                        [&](const TaskResult* task) { return find_metric(*task, id) != nullptr; });
    if (everywhere && std::find(shared.begin(), shared.end(), id) == shared.end()) shared.push_back(id);
  }
  return shared;
}

// lm-eval aggregates a group over its leaf tasks (nested groups flattened), weighting by the number
// of evaluated docs, with the pooled stderr; any member without a stderr makes the group's "N/A".
MetricValue aggregate_group_metric(const std::vector<const TaskResult*>& members, const MetricId& id) {
  std::vector<double> values, stderrs;
  std::vector<size_t> sizes;
  MetricValue aggregated;
  aggregated.metric = id.metric;
  aggregated.filter = id.filter;
  bool every_stderr = true;
  for (const TaskResult* task : members) {
    const MetricValue& value = *find_metric(*task, id);
    values.push_back(value.value);
    sizes.push_back(task->doc_ids.size());
    if (value.stderr_value) stderrs.push_back(*value.stderr_value);
    every_stderr = every_stderr && value.stderr_value.has_value();
    aggregated.higher_is_better = value.higher_is_better;
    aggregated.invalid += value.invalid;
  }
  aggregated.value = scorers::weighted_mean(values, sizes);
  if (every_stderr) aggregated.stderr_value = scorers::pooled_sample_stderr(stderrs, sizes);
  return aggregated;
}

const char* aggregation_label(MetricAggregation aggregation) {
  switch (aggregation) {
    case MetricAggregation::Mean:
      return "mean";
    case MetricAggregation::Perplexity:
      return "perplexity";
    case MetricAggregation::WeightedPerplexity:
      return "weighted_perplexity";
    case MetricAggregation::BitsPerByte:
      return "bits_per_byte";
  }
  return "?";
}

// The aggregation lm-eval gives a metric of a loglikelihood / loglikelihood_rolling task (its
// process_results knows only these names); another name is an error naming the ones there are.
MetricAggregation loglikelihood_metric_aggregation(const TaskSpec& task, const MetricSpec& metric) {
  const bool rolling = task.output_type == OutputType::LoglikelihoodRolling;
  const bool known =
      rolling ? (metric.name == "word_perplexity" || metric.name == "byte_perplexity" || metric.name == "bits_per_byte")
              : (metric.name == "perplexity" || metric.name == "acc");
  if (!known)
    fail("task {}: metric \"{}\" is not a metric of output_type {} ({})", task.name, metric.name,
         rolling ? "loglikelihood_rolling" : "loglikelihood",
         rolling ? "word_perplexity, byte_perplexity, bits_per_byte" : "perplexity, acc");
  return loglikelihood_metric(metric.name).aggregation;
}

}  // namespace

void check_task_spec(const TaskSpec& task) {
  require(static_cast<bool>(task.load_eval), task, "load_eval");
  if (task.metrics.empty()) fail("task {}: no metrics are declared", task.name);
  if (task.output_type == OutputType::Loglikelihood || task.output_type == OutputType::LoglikelihoodRolling) {
    const bool rolling = task.output_type == OutputType::LoglikelihoodRolling;
    if (!rolling) require(static_cast<bool>(task.doc_to_text), task, "doc_to_text");
    require(static_cast<bool>(task.doc_to_target), task,
            rolling ? "doc_to_target (the text to score)" : "doc_to_target (the continuation to score)");
    for (const MetricSpec& metric : task.metrics) {
      const MetricAggregation expected = loglikelihood_metric_aggregation(task, metric);
      if (metric.aggregation != expected)
        fail("task {}: metric \"{}\" must aggregate as lm-eval's {}", task.name, metric.name,
             aggregation_label(expected));
    }
    return;
  }
  for (const MetricSpec& metric : task.metrics)
    if (metric.aggregation != MetricAggregation::Mean)
      fail(
          "task {}: metric \"{}\" aggregates as {}, which only metrics of output_type loglikelihood or "
          "loglikelihood_rolling do",
          task.name, metric.name, aggregation_label(metric.aggregation));
  if (task.output_type == OutputType::MultipleChoice) {
    require(static_cast<bool>(task.doc_to_choice), task, "doc_to_choice");
    require(static_cast<bool>(task.doc_to_gold), task, "doc_to_gold");
    require(task.multiple_inputs ? static_cast<bool>(task.doc_to_target) : static_cast<bool>(task.doc_to_text), task,
            task.multiple_inputs ? "doc_to_target (the shared continuation)" : "doc_to_text");
    for (const MetricSpec& metric : task.metrics) {
      if (metric.name != "acc" && metric.name != "acc_norm" && metric.name != "acc_bytes" &&
          metric.name != "exact_match")
        fail("task {}: metric \"{}\" is not a multiple-choice metric (acc, acc_norm, acc_bytes, exact_match)",
             task.name, metric.name);
    }
  } else {
    require(static_cast<bool>(task.doc_to_text), task, "doc_to_text");
    require(static_cast<bool>(task.doc_to_references), task, "doc_to_references");
    for (const MetricSpec& metric : task.metrics) {
      if (metric.name != "exact_match" && !metric.score && !metric.corpus_score)
        fail("task {}: metric \"{}\" has no scorer (generation tasks take exact_match or a score function)", task.name,
             metric.name);
      if (!metric.subset.empty() && (metric.corpus_score || !task.doc_to_subset))
        fail(
            "task {}: metric \"{}\" is restricted to subset {} but is a corpus metric or the task has no "
            "doc_to_subset",
            task.name, metric.name, metric.subset);
    }
  }
}

std::string metric_key(const std::string& metric, const std::string& filter) { return metric + "," + filter; }

double multiple_choice_metric(const std::string& name, const scorers::MultipleChoiceScores& scores) {
  if (name == "acc") return scores.acc;
  if (name == "acc_norm") return scores.acc_norm;
  if (name == "acc_bytes") return scores.acc_bytes;
  return scores.exact_match;  // check_task_spec admitted only these four
}

void score_multiple_choice_metrics(const TaskSpec& task, const std::vector<std::string>& choices,
                                   const std::vector<long>& golds, DocRecord& record) {
  const scorers::MultipleChoiceScores scores =
      scorers::score_multiple_choice(record.loglikelihoods, record.is_greedy, choices, golds);
  const bool any_from_registry = std::any_of(task.metrics.begin(), task.metrics.end(),
                                             [](const MetricSpec& metric) { return bool(metric.score_record); });
  const scorers::MetricDoc mc_record =
      any_from_registry ? scorers::multiple_choice_record(record.loglikelihoods, record.is_greedy, choices, golds)
                        : scorers::MetricDoc();
  for (const MetricSpec& metric : task.metrics)
    record.metrics[metric_key(metric.name, kNoFilter)] =
        metric.score_record ? metric.score_record(mc_record, "", {}) : multiple_choice_metric(metric.name, scores);
}

void score_loglikelihood_metrics(const TaskSpec& task, DocRecord& record) {
  if (record.loglikelihoods.size() != 1 || record.is_greedy.size() != 1)
    fail("task {}: doc {} has {} log-likelihoods; a loglikelihood or loglikelihood_rolling doc has one", task.name,
         record.doc_id, record.loglikelihoods.size());
  for (const MetricSpec& metric : task.metrics)
    record.metrics[metric_key(metric.name, kNoFilter)] =
        metric.name == "acc" ? (record.is_greedy.front() ? 1.0 : 0.0) : record.loglikelihoods.front();
}

std::vector<FilterPipeline> effective_filters(const TaskSpec& task) {
  if (!task.filters.empty()) return task.filters;
  return {FilterPipeline{}};  // lm-eval's implicit "none" = take_first
}

GenerationScoring::GenerationScoring(const TaskSpec& task) {
  for (const FilterPipeline& pipeline : effective_filters(task)) {
    pipelines.emplace_back(pipeline);
    can_fall_back.push_back(extraction_can_fail(pipeline));
  }
  for (const MetricSpec& metric : task.metrics) exact_match.emplace_back(metric.exact_match);
}

void score_generation(const TaskSpec& task, const GenerationScoring& scoring,
                      const std::vector<std::string>& references, DocRecord& record,
                      std::map<std::string, size_t>& invalid_by_filter) {
  for (size_t p = 0; p < scoring.pipelines.size(); ++p) {
    const CompiledFilterPipeline& pipeline = scoring.pipelines[p];
    const FilterOutcome outcome = pipeline.apply(record.generated, &record.doc);
    if (outcome.fell_back) ++invalid_by_filter[pipeline.name()];
    record.extracted[pipeline.name()] = outcome.text;
    if (scoring.can_fall_back[p])
      record.metrics[metric_key(kInvalidRate, pipeline.name())] = outcome.fell_back ? 1.0 : 0.0;
    for (size_t m = 0; m < task.metrics.size(); ++m) {
      const MetricSpec& metric = task.metrics[m];
      if (metric.corpus_score || (!metric.subset.empty() && metric.subset != record.subset)) continue;
      record.metrics[metric_key(metric.name, pipeline.name())] =
          metric.score ? metric.score(outcome.text, references)
                       : scoring.exact_match[m].score(outcome.text, references);
    }
  }
}

void extract_answers(const GenerationScoring& scoring, DocRecord& record) {
  for (const CompiledFilterPipeline& pipeline : scoring.pipelines)
    record.extracted[pipeline.name()] = pipeline.apply(record.generated, &record.doc).text;
}

void require_code_execution_allowed(const TaskSpec& task, bool allowed) {
  if (task.executes_code && !allowed)
    fail(
        "task {} scores answers by running the model's programs: pass --allow-code-execution to allow it (each "
        "runs in a sandbox: no network, time, memory and process limits, a throwaway folder)",
        task.name);
}

std::map<std::string, std::string> metric_variants(const TaskSpec& task) {
  std::map<std::string, std::string> variants;
  for (const MetricSpec& metric : task.metrics)
    if (!metric.variant.empty()) variants[metric.name] = metric.variant;
  return variants;
}

void rescore_records(const TaskSpec& task, std::vector<DocRecord>& docs,
                     std::map<std::string, size_t>& invalid_by_filter) {
  check_task_spec(task);
  if (task.output_type == OutputType::GenerateUntil) {
    const GenerationScoring scoring(task);
    for (DocRecord& record : docs) {
      if (!record.continuations.empty() || !record.loglikelihoods.empty())
        fail("task {}: doc {} holds loglikelihoods, not a generation", task.name, record.doc_id);
      const std::vector<std::string> references = record.target.is_array()
                                                      ? record.target.get<std::vector<std::string>>()
                                                      : std::vector<std::string>{record.target.get<std::string>()};
      record.extracted.clear();
      record.metrics.clear();
      score_generation(task, scoring, references, record, invalid_by_filter);
    }
    return;
  }
  if (task.output_type == OutputType::Loglikelihood || task.output_type == OutputType::LoglikelihoodRolling) {
    for (DocRecord& record : docs) {
      record.metrics.clear();
      score_loglikelihood_metrics(task, record);
    }
    return;
  }
  for (DocRecord& record : docs) {
    const bool gold_list = record.target.is_array() && !record.target.empty() &&
                           std::all_of(record.target.begin(), record.target.end(),
                                       [](const nlohmann::json& g) { return g.is_number_integer(); });
    if (!(record.target.is_number_integer() || gold_list) ||
        record.loglikelihoods.size() != record.continuations.size() ||
        record.is_greedy.size() != record.continuations.size() || record.continuations.empty())
      fail("task {}: doc {} is not a multiple-choice record (gold index, continuations, loglikelihoods)", task.name,
           record.doc_id);
    // The choice texts acc_norm divides by are the continuations without the target delimiter (one
    // context per choice and one shared continuation for multiple-input tasks, which report acc only).
    std::vector<std::string> choices;
    for (const std::string& continuation : record.continuations)
      choices.push_back(continuation.rfind(task.target_delimiter, 0) == 0 && !task.multiple_inputs
                            ? continuation.substr(task.target_delimiter.size())
                            : continuation);
    const std::vector<long> golds =
        gold_list ? record.target.get<std::vector<long>>() : std::vector<long>{record.target.get<long>()};
    for (long gold : golds)
      if (gold < 0 || gold >= static_cast<long>(choices.size()))
        fail("task {}: doc {} has gold index {} for {} choices", task.name, record.doc_id, gold, choices.size());
    record.metrics.clear();
    score_multiple_choice_metrics(task, choices, golds, record);
  }
}

std::vector<MetricValue> aggregate_task_metrics(const TaskSpec& task, const std::vector<DocRecord>& docs,
                                                const std::map<std::string, size_t>& invalid_by_filter) {
  std::vector<MetricValue> metrics;
  for (const std::string& filter : filter_names(task)) {
    const auto invalid = invalid_by_filter.find(filter);
    const size_t invalid_count = invalid == invalid_by_filter.end() ? 0 : invalid->second;
    for (const MetricSpec& metric : task.metrics) {
      const bool any_doc = metric.subset.empty() || std::any_of(docs.begin(), docs.end(), [&](const DocRecord& doc) {
                             return doc.subset == metric.subset;
                           });
      if (any_doc) metrics.push_back(aggregate_metric(docs, metric, filter, invalid_count));
    }
    // Beside the metrics of a pipeline whose extraction can fail: the share of docs it fell back to
    // "[invalid]" on (lower is better), from the per-doc indicator (absent in samples of older runs).
    const std::string key = metric_key(kInvalidRate, filter);
    const bool every_doc = !docs.empty() && std::all_of(docs.begin(), docs.end(), [&](const DocRecord& doc) {
      return doc.metrics.count(key) > 0;
    });
    if (every_doc)
      metrics.push_back(aggregate_metric(docs, MetricSpec{kInvalidRate, false, {}}, filter, invalid_count));
  }
  return metrics;
}

void fingerprint_records(const std::vector<DocRecord>& docs, TaskResult& result) {
  if (docs.empty()) fail("task {}: no documents to fingerprint", result.task);
  result.first_prompt_sha256 = sha256_hex(docs.front().prompt);
  Sha256 all;
  for (const DocRecord& doc : docs) {
    const std::vector<std::string> single{doc.prompt};
    for (const std::string& context : doc.contexts.empty() ? single : doc.contexts) {
      all.update(context);
      all.update(std::string_view("\0", 1));
    }
  }
  result.all_prompts_sha256 = all.hex_digest();
}

std::vector<GroupResult> aggregate_groups(const std::vector<TaskResult>& tasks) {
  std::vector<std::string> group_names;  // in order of first appearance
  for (const TaskResult& task : tasks)
    for (const std::string& group : task.groups)
      if (std::find(group_names.begin(), group_names.end(), group) == group_names.end()) group_names.push_back(group);

  std::vector<GroupResult> groups;
  for (const std::string& name : group_names) {
    std::vector<const TaskResult*> members;
    GroupResult group;
    group.group = name;
    for (const TaskResult& task : tasks) {
      if (std::find(task.groups.begin(), task.groups.end(), name) == task.groups.end()) continue;
      members.push_back(&task);
      group.tasks.push_back(task.task);
    }
    for (const MetricId& id : shared_metrics(members)) group.metrics.push_back(aggregate_group_metric(members, id));
    group.aggregation = fmt::format("document-weighted mean over {} subtasks (lm-eval weight_by_size)", members.size());
    groups.push_back(std::move(group));
  }
  return groups;
}
}  // namespace gemma::evals
