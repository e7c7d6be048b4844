#pragma once
// DROP exact match and F1 as lm-eval computes them (LME
// `tasks/drop/utils.py`, itself the AllenNLP `drop_eval.py`): answers are tuples of spans, each span
// normalised token by token (numbers canonicalised through Python's float), EM compares the span
// sets, F1 aligns predicted and gold span bags one-to-one (maximum-weight matching) and rounds to two
// decimals; a document scores the max over its gold answers. Pure functions. Torch-free.
//
// References encoding (what a DROP task's doc_to_references writes, so `gemma-eval rescore` needs
// only samples.jsonl): one reference per gold answer, each the JSON array of its spans, e.g.
// `["Titans","Jets"]` for a two-span answer, `["4"]` for a number, `["16 November 1995"]` for a date.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/python_float.h"

namespace gemma::scorers::drop {

using gemma::python_float;              // Python's float(text), common/python_float.h
bool is_number(std::string_view text);  // _is_number

// Python's repr(float) / str(float): shortest round-trip digits, fixed notation for decimal
// exponents -4..15 (always with a fractional part: "4.0"), else "1e+16" / "1.5e-05"; "inf", "nan".
std::string python_float_repr(double value);

// _tokenize + _normalize: split on " " and "-"; per token lower, drop ASCII punctuation unless the
// token is a number, numbers -> str(float), articles removed, whitespace collapsed; blank tokens
// dropped; joined with " ".
std::string normalize(std::string_view answer);

struct AnswerBags {
  std::vector<std::string> normalized_spans;
  std::vector<std::set<std::string>> token_bags;
};
AnswerBags answer_to_bags(const std::vector<std::string>& spans);  // _answer_to_bags

// _compute_f1 on two token bags (an empty bag has precision/recall 1.0).
double bag_f1(const std::set<std::string>& predicted, const std::set<std::string>& gold);

struct Scores {
  double exact_match = 0.0;
  double f1 = 0.0;
};

// get_metrics(predicted, gold): EM and F1 of one predicted span list against one gold answer.
Scores get_metrics(const std::vector<std::string>& predicted_spans, const std::vector<std::string>& gold_spans);

// process_results: max EM and max F1 over the gold answers whose first span is not blank (0, 0 when
// there is none). The prediction is one span, as lm-eval passes the generation.
Scores max_over_golds(const std::string& prediction, const std::vector<std::vector<std::string>>& golds);

// The references encoding above. decode throws gemma::Error on a reference that is not a JSON array
// of strings (a samples.jsonl not written by a DROP task).
std::string encode_gold(const std::vector<std::string>& spans);
std::vector<std::string> decode_gold(const std::string& reference);

// MetricSpec::score adapters over encoded references.
double drop_exact_match(const std::string& prediction, const std::vector<std::string>& references);
double drop_f1(const std::string& prediction, const std::vector<std::string>& references);

}  // namespace gemma::scorers::drop
