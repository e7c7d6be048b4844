#include "scorers/eclektic.h"

#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/error.h"
#include "scorers/squad.h"

namespace gemma::scorers {
namespace {

bool contains_answer(const std::string& prediction, const std::string& answer) {
  const std::string gold = squad_normalize_answer(answer);
  return !gold.empty() && squad_normalize_answer(prediction).find(gold) != std::string::npos;
}

struct PairCounts {
  size_t pairs = 0, source_correct = 0, both_correct = 0;
};

// Pairs every target-language doc with its question's source-language doc.
PairCounts count_pairs(const std::vector<std::string>& predictions,
                       const std::vector<std::vector<std::string>>& references) {
  if (predictions.size() != references.size())
    fail("eclektic: {} predictions for {} references", predictions.size(), references.size());
  std::map<std::string, bool> source_correct;  // q_id -> correct in the source language
  std::vector<std::pair<std::string, bool>> targets;
  for (size_t i = 0; i < predictions.size(); ++i) {
    if (references[i].size() != 1) fail("eclektic: doc {} has {} references, expected 1", i, references[i].size());
    const EclekticReference ref = eclektic_reference(references[i][0]);
    const bool correct = contains_answer(predictions[i], ref.answer);
    if (ref.lang == ref.original_lang)
      source_correct[ref.q_id] = correct;
    else
      targets.emplace_back(ref.q_id, correct);
  }
  PairCounts counts;
  for (const auto& [q_id, correct] : targets) {
    const auto source = source_correct.find(q_id);
    if (source == source_correct.end()) continue;  // source doc not evaluated (e.g. --limit)
    ++counts.pairs;
    if (!source->second) continue;
    ++counts.source_correct;
    if (correct) ++counts.both_correct;
  }
  return counts;
}

double ratio(size_t numerator, size_t denominator) {
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

EclekticReference eclektic_reference(const std::string& encoded) {
  const nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(encoded, nullptr, /*allow_exceptions=*/false);
  EclekticReference ref;
  for (auto [field, out] : {std::pair{"answer", &ref.answer},
                            {"q_id", &ref.q_id},
                            {"lang", &ref.lang},
                            {"original_lang", &ref.original_lang}}) {
    if (!parsed.is_object() || !parsed.contains(field) || !parsed.at(field).is_string())
      fail("eclektic reference without a string \"{}\": {}", field, encoded);
    *out = parsed.at(field).get<std::string>();
  }
  return ref;
}

double eclektic_correct(const std::string& prediction, const std::vector<std::string>& references) {
  return references.empty()                                                           ? 0.0
         : contains_answer(prediction, eclektic_reference(references.front()).answer) ? 1.0
                                                                                      : 0.0;
}

double eclektic_overall_success(const std::vector<std::string>& predictions,
                                const std::vector<std::vector<std::string>>& references) {
  const PairCounts counts = count_pairs(predictions, references);
  return ratio(counts.both_correct, counts.pairs);
}

double eclektic_transfer(const std::vector<std::string>& predictions,
                         const std::vector<std::vector<std::string>>& references) {
  const PairCounts counts = count_pairs(predictions, references);
  return ratio(counts.both_correct, counts.source_correct);
}

}  // namespace gemma::scorers
