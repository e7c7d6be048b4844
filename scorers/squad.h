#pragma once
// SQuAD v1.1 exact match and token F1: the official evaluate-v1.1.py
// normalisation as ported by transformers `data/metrics/squad_metrics.py`, which lm-eval's XQuAD
// tasks call (`tasks/xquad/utils.py::process_results_qa`). Pure functions of (gold, prediction);
// Python str semantics on UTF-8 text. Torch-free.
#include <string>
#include <string_view>
#include <vector>

namespace gemma::scorers {

// Python's `"".join(ch for ch in s if ch not in set(string.punctuation))`: ASCII punctuation only.
std::string remove_ascii_punctuation(std::string_view text);

// re.sub(r"\b(a|an|the)\b", " ", text) with Python's Unicode word boundaries (re.UNICODE is the
// default for str patterns): "a" in "á" or "the" in "théâtre" is not a word of its own.
std::string remove_english_articles(std::string_view text);

// normalize_answer(s) = white_space_fix(remove_articles(remove_punc(lower(s)))).
std::string squad_normalize_answer(std::string_view text);

// compute_exact(gold, prediction): 1.0 when the normalised strings are equal.
double squad_exact(std::string_view gold, std::string_view prediction);

// compute_f1(gold, prediction): bag-of-tokens F1 over whitespace tokens of the normalised strings;
// an empty side scores 1.0 only when both are empty.
double squad_f1(std::string_view gold, std::string_view prediction);

// MetricSpec::score adapters. lm-eval's XQuAD scores against references[0] only ("first"); the
// official SQuAD script takes the max over every reference ("max"). No references: 0.0.
double squad_exact_first_reference(const std::string& prediction, const std::vector<std::string>& references);
double squad_f1_first_reference(const std::string& prediction, const std::vector<std::string>& references);
double squad_exact_max_over_references(const std::string& prediction, const std::vector<std::string>& references);
double squad_f1_max_over_references(const std::string& prediction, const std::vector<std::string>& references);

}  // namespace gemma::scorers
