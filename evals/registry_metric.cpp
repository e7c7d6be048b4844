#include "evals/registry_metric.h"

#include "common/error.h"
#include "scorers/metric_registry.h"

namespace gemma::evals {

MetricSpec registry_metric(const std::string& key, const std::string& reported_name) {
  const scorers::Metric& entry = scorers::metric_registry().find(key);
  if (entry.executes_code) fail("metric {} runs code; a task declares it with its own program builder", entry.key());
  MetricSpec metric;
  metric.name = reported_name.empty() ? entry.name : reported_name;
  metric.higher_is_better = entry.higher_is_better;
  metric.variant = entry.variant;
  metric.bootstrap_iters = entry.bootstrap_iters;
  metric.registry_key = entry.key();
  const scorers::Metric* found = &entry;  // registry entries live as long as the program
  if (entry.aggregation == scorers::Aggregation::kCorpus) {
    metric.corpus_score = [found](const std::vector<std::string>& predictions,
                                  const std::vector<std::vector<std::string>>& references) {
      std::vector<size_t> all(predictions.size());
      for (size_t i = 0; i < all.size(); ++i) all[i] = i;
      return found->corpus_score(predictions, references).score(all);
    };
  } else {
    metric.score = [found](const std::string& prediction, const std::vector<std::string>& references) {
      return found->score(scorers::MetricDoc(), prediction, references, scorers::MetricContext{}).front().second;
    };
  }
  return metric;
}

}  // namespace gemma::evals
