#pragma once
// What the open-ended QA task adapters share and expose for tests (the lm-eval task configs
// lm_eval/tasks/@4e7e0d47; the ECLeKTic paper; the IndicGenBench dataset cards (google/IndicGenBench)), one
// file each, each registering its own tasks: triviaqa.cpp (triviaqa, rc.nocontext, 5-shot), nq_open.cpp
// (nq_open, 5-shot), drop.cpp (drop for lm-eval parity, drop_fixed with our fix), xquad.cpp
// (xquad_{ar,de,el,en,es,hi,ro,ru,th,tr,vi,zh}, group xquad), eclektic.cpp (eclektic, approximate),
// indicgenbench.cpp (indicgenbench_{xquad_in,xorqa_in,flores_in,crosssum_in}; flores_in and crosssum_in
// score with scorers/chrf.h).
#include <string>
#include <vector>

#include "evals/task.h"

namespace gemma::evals::tasks {

// ECLeKTic's scorers (eclektic.cpp), pure functions of samples.jsonl content. Each doc has one
// reference, the JSON object {"answer", "q_id", "lang", "original_lang"}; a doc is correct when the
// SQuAD-normalised answer is contained in the SQuAD-normalised prediction.
struct EclekticReference {
  std::string answer, q_id, lang, original_lang;
};
EclekticReference eclektic_reference(const std::string& encoded);  // gemma::Error when malformed
double eclektic_correct(const std::string& prediction, const std::vector<std::string>& references);
double eclektic_overall_success(const std::vector<std::string>& predictions,
                                const std::vector<std::vector<std::string>>& references);
double eclektic_transfer(const std::vector<std::string>& predictions,
                         const std::vector<std::vector<std::string>>& references);

// IndicGenBench's chrF (indicgenbench.cpp): each doc's one reference is the JSON object
// {"target", "group"} (group = the data file, i.e. language and direction); the score is the mean
// over groups of sacrebleu's corpus chrF of the group's docs.
double indicgenbench_mean_group_chrf(const std::vector<std::string>& predictions,
                                     const std::vector<std::vector<std::string>>& references);

// Shared by triviaqa and nq_open: lm-eval's "remove_whitespace" pipeline (strip, take_first) and
// the short-answer stop strings ["\n", ".", ","].
FilterPipeline remove_whitespace_pipeline();
std::vector<std::string> short_answer_stops();

}  // namespace gemma::evals::tasks
