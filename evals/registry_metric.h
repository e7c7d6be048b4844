#pragma once
// A task's metric taken from the metric registry (scorers/metric_registry.h), so a task and
// `gemma-eval score --metric NAME:VARIANT` score with the same function. Torch-free.
#include <string>

#include <nlohmann/json.hpp>

#include "evals/task.h"

namespace gemma::evals {

// The metric the registry names by `key` (NAME[:VARIANT]; an unknown one is a gemma::Error naming the
// known ones), reported under `reported_name` (the row name lm-eval or lmms-eval gives it; "" = the
// registry's name), with the entry's variant, direction and bootstrap. `options` override the entry's
// (exact_match: lm-eval's metric_list arguments; an unknown one is an error). The per-doc value is the
// entry's headline score, or its sub-score named `sub_score` (SQuAD's and DROP's "exact_match" and
// "f1"; an unknown one is an error naming the entry's). Metrics that run code are not taken this way
// (they need the sandbox).
MetricSpec registry_metric(const std::string& key, const std::string& reported_name = "",
                           const nlohmann::ordered_json& options = nlohmann::ordered_json::object(),
                           const std::string& sub_score = "");

}  // namespace gemma::evals
