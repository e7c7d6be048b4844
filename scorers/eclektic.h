#pragma once
// ECLeKTic's scorers (the ECLeKTic paper, google/eclektic; the paper judges answers with an LLM autorater,
// these are its string-matching baseline in spirit: approximate). Pure functions of samples.jsonl content:
// each doc has one reference, the JSON object {"answer", "q_id", "lang", "original_lang"}, so the corpus
// metrics pair a question's source-language doc with its target-language docs without the dataset.
// A doc is correct when the SQuAD-normalised answer is contained in the SQuAD-normalised prediction.
// Torch-free.
#include <string>
#include <vector>

namespace gemma::scorers {

struct EclekticReference {
  std::string answer, q_id, lang, original_lang;
};
EclekticReference eclektic_reference(const std::string& encoded);  // gemma::Error when malformed

// Per doc: 1 when the prediction contains the answer of the first reference.
double eclektic_correct(const std::string& prediction, const std::vector<std::string>& references);
// Over (question, target language != source) pairs whose source doc is among the items: the fraction
// answered correctly in both the source and the target language.
double eclektic_overall_success(const std::vector<std::string>& predictions,
                                const std::vector<std::vector<std::string>>& references);
// The same successes over the pairs whose source question was answered correctly.
double eclektic_transfer(const std::vector<std::string>& predictions,
                         const std::vector<std::vector<std::string>>& references);

}  // namespace gemma::scorers
