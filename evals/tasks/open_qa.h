#pragma once
// What the open-ended QA task adapters share and expose for tests (the lm-eval task configs
// lm_eval/tasks/@4e7e0d47; the ECLeKTic paper; the IndicGenBench dataset cards (google/IndicGenBench)), one
// file each, each registering its own tasks: triviaqa.cpp (triviaqa, rc.nocontext, 5-shot), drop.cpp (drop for lm-eval
// parity, drop_fixed with our fix), xquad.cpp (xquad_{ar,de,el,en,es,hi,ro,ru,th,tr,vi,zh}, group xquad), eclektic.cpp
// (eclektic, approximate), indicgenbench.cpp (indicgenbench_{xquad_in,xorqa_in,flores_in,crosssum_in}; flores_in and
// crosssum_in score with scorers/chrf.h).
#include <string>
#include <vector>

#include "evals/task.h"

namespace gemma::evals::tasks {

// lm-eval's "remove_whitespace" pipeline (strip, take_first; triviaqa, eclektic) and the short-answer
// stop strings ["\n", ".", ","] (triviaqa; nq_open, a task file, writes the same in its YAML).
FilterPipeline remove_whitespace_pipeline();
std::vector<std::string> short_answer_stops();

}  // namespace gemma::evals::tasks
