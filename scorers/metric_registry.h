#pragma once
// One registry of metrics, keyed NAME[:VARIANT]: what `gemma-eval score --metric` accepts, and what a
// task file's metric_list entry (lm-eval's `metric: exact_match` plus its arguments, e.g. ignore_case,
// regexes_to_ignore) will name. Each entry is one (name, variant) pair with its aggregation, direction,
// options and scoring function. A name's default is its entry without a variant where it has one (registered
// first: "acc" beside "acc:remi"), else its first variant.
//
// scorers/ links only common/, so a metric that runs code (pass@1) does not call the sandbox itself:
// the caller hands it a program runner in MetricContext (evals/ passes sandbox::python_program_passes),
// and the entry says executes_code so callers can refuse it unless code execution is allowed.
// Corpus metrics (chrF, CIDEr, BLEU) are scored over the picked items of a prepared corpus, so the
// caller computes the score over all items and, where the entry asks for it, lm-eval's bootstrap
// stderr (api/metrics.py::bootstrap_stderr) over resamples -- without scorers/ knowing the resampler.
// Torch-free.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace gemma::scorers {

// The dataset row a prediction answers (null when scored offline, where there is no document).
using MetricDoc = nlohmann::ordered_json;

// Named per-item values; the first is the headline score (SQuAD and DROP report exact_match and f1).
using ItemScores = std::vector<std::pair<std::string, double>>;

enum class Aggregation { kMean, kCorpus };
const char* aggregation_name(Aggregation aggregation);  // "mean", "corpus"

// What a metric may need beyond the texts. program_passes: runs a Python program (the prediction with
// its tests), true when it ran to exit 0; only metrics with executes_code call it.
struct MetricContext {
  std::function<bool(const std::string& program)> program_passes;
};

using ItemScoreFn = std::function<ItemScores(const MetricDoc& doc, const std::string& prediction,
                                             const std::vector<std::string>& references, const MetricContext& context)>;

// A corpus prepared once: its statistic over any multiset of its items (indices may repeat, as
// bootstrap resamples do), and the fields reported beside the score (chrF's signature, BLEU's parts).
struct PreparedCorpus {
  std::function<double(const std::vector<size_t>& picked)> score;
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
};
using CorpusScoreFn = std::function<PreparedCorpus(const std::vector<std::string>& predictions,
                                                   const std::vector<std::vector<std::string>>& references)>;

struct Metric {
  std::string name;                  // canonical, e.g. "anls"
  std::string variant;               // "" when the metric has none, else e.g. "lmms"
  std::vector<std::string> aliases;  // other spellings of `name` ("em" for exact_match)
  Aggregation aggregation = Aggregation::kMean;
  bool higher_is_better = true;
  // The options the scoring function was built with (exact_match: ignore_case, ignore_punctuation,
  // ignore_numbers, regexes_to_ignore); an object, empty for metrics without options.
  nlohmann::ordered_json options = nlohmann::ordered_json::object();
  bool executes_code = false;
  int bootstrap_iters = 0;     // corpus metrics: lm-eval's bootstrap resamples for the stderr; 0 = none
  ItemScoreFn score;           // kMean: averaged over the items
  CorpusScoreFn corpus_score;  // kCorpus
  // Metrics that take options: builds `score` from them (every key of `options` has its default
  // there). Unset: the metric takes none.
  std::function<ItemScoreFn(const nlohmann::ordered_json& options)> configure;

  std::string key() const;  // "name" or "name:variant"
};

// NAME[:VARIANT] split at the first colon; has_variant tells "anls" from "anls:" (an empty variant).
struct MetricKey {
  std::string name, variant;
  bool has_variant = false;
};
MetricKey parse_metric_key(const std::string& key);

class MetricRegistry {
 public:
  // Errors (gemma::Error) on an entry without a scoring function for its aggregation or a key that is
  // already registered.
  void add(Metric metric);

  // The entry NAME[:VARIANT] names (NAME may be an alias; no variant = the name's default), or null.
  const Metric* lookup(const std::string& key) const;
  // As lookup, but an unknown name or variant is an error naming the known ones.
  const Metric& find(const std::string& key) const;
  // As find, with options (a JSON object) overriding the entry's: an unknown option, or options for a
  // metric that takes none, is an error naming the metric and its options.
  Metric find(const std::string& key, const nlohmann::ordered_json& options) const;

  // The variants of a canonical name or alias, in registration order (default first); empty if unknown.
  std::vector<std::string> variants(const std::string& name) const;
  const std::vector<Metric>& entries() const { return entries_; }
  // "exact_match, em, acc, ..., anls[:lmms|official], ...": every name and alias, variants after the
  // last spelling of a name; for --help and errors.
  std::string describe() const;

 private:
  const Metric* first_of(const std::string& name) const;
  std::vector<Metric> entries_;  // registration order
};

// The doc the multiple-choice metrics (acc, acc_norm, acc_bytes) score: a request's loglikelihoods,
// greedy flags, the choice texts that normalise acc_norm, and the gold indices
// (scorers/multiple_choice.h; lm-eval api/task.py::process_results for output_type multiple_choice).
MetricDoc multiple_choice_record(const std::vector<double>& loglikelihoods, const std::vector<bool>& is_greedy,
                                 const std::vector<std::string>& choices, const std::vector<long>& golds);

// The built-in metrics (scorers/*.h), registered once on first use.
const MetricRegistry& metric_registry();

}  // namespace gemma::scorers
