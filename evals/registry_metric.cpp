#include "evals/registry_metric.h"

#include <memory>

#include "common/error.h"
#include "scorers/metric_registry.h"

namespace gemma::evals {

MetricSpec registry_metric(const std::string& key, const std::string& reported_name,
                           const nlohmann::ordered_json& options, const std::string& sub_score) {
  // Configured entries are copies (find with options builds their scoring function), so the spec shares one.
  // A braced `{}` argument arrives as null: no options.
  const nlohmann::ordered_json given = options.is_null() ? nlohmann::ordered_json::object() : options;
  auto entry = std::make_shared<const scorers::Metric>(scorers::metric_registry().find(key, given));
  if (entry->executes_code) fail("metric {} runs code; a task declares it with its own program builder", entry->key());
  MetricSpec metric;
  metric.name = reported_name.empty() ? entry->name : reported_name;
  metric.higher_is_better = entry->higher_is_better;
  metric.variant = entry->variant;
  metric.bootstrap_iters = entry->bootstrap_iters;
  metric.registry_key = entry->key();
  metric.registry_options = entry->options;
  metric.registry_sub_score = sub_score;
  // What results and tests read of lm-eval's metric_list arguments (exact_match variants without them,
  // e.g. lmms_realworldqa, take none).
  if (entry->name == "exact_match" && entry->options.contains("ignore_case")) {
    metric.exact_match.ignore_case = entry->options.at("ignore_case").get<bool>();
    metric.exact_match.ignore_punctuation = entry->options.at("ignore_punctuation").get<bool>();
    metric.exact_match.ignore_numbers = entry->options.at("ignore_numbers").get<bool>();
    metric.exact_match.regexes_to_ignore = entry->options.at("regexes_to_ignore").get<std::vector<std::string>>();
  }
  if (entry->aggregation == scorers::Aggregation::kCorpus) {
    if (!sub_score.empty()) fail("metric {} is a corpus metric and has no sub-score \"{}\"", entry->key(), sub_score);
    metric.prepare_corpus = entry->corpus_score;
    metric.corpus_score = [entry](const std::vector<std::string>& predictions,
                                  const std::vector<std::vector<std::string>>& references) {
      std::vector<size_t> all(predictions.size());
      for (size_t i = 0; i < all.size(); ++i) all[i] = i;
      return entry->corpus_score(predictions, references).score(all);
    };
    return metric;
  }
  metric.score_record = [entry, sub_score](const scorers::MetricDoc& doc, const std::string& prediction,
                                           const std::vector<std::string>& references) {
    const scorers::ItemScores scores = entry->score(doc, prediction, references, scorers::MetricContext{});
    if (sub_score.empty()) return scores.front().second;
    std::string known;
    for (const auto& [name, value] : scores) {
      if (name == sub_score) return value;
      known += (known.empty() ? "" : ", ") + name;
    }
    fail("metric {} has no sub-score \"{}\" (it reports: {})", entry->key(), sub_score, known);
  };
  metric.score = [score_record = metric.score_record](const std::string& prediction,
                                                      const std::vector<std::string>& references) {
    return score_record(scorers::MetricDoc(), prediction, references);
  };
  return metric;
}

}  // namespace gemma::evals
