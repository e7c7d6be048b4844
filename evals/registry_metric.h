#pragma once
// A task's metric taken from the metric registry (scorers/metric_registry.h), so a task and
// `gemma-eval score --metric NAME:VARIANT` score with the same function. Torch-free.
#include <string>

#include "evals/task.h"

namespace gemma::evals {

// The metric the registry names by `key` (NAME[:VARIANT]; an unknown one is a gemma::Error naming the
// known ones), reported under `reported_name` (the row name lm-eval or lmms-eval gives it; "" = the
// registry's name), with the entry's variant, direction and bootstrap. The per-doc value is the
// entry's headline score. Metrics that run code are not taken this way (they need the sandbox).
MetricSpec registry_metric(const std::string& key, const std::string& reported_name = "");

}  // namespace gemma::evals
