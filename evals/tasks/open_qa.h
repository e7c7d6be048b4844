#pragma once
// Open-ended QA task adapters (the lm-eval task configs lm_eval/tasks/@4e7e0d47; the ECLeKTic paper; the IndicGenBench
// dataset cards (google/IndicGenBench)), one file each: triviaqa.cpp, nq_open.cpp, drop.cpp, xquad.cpp, eclektic.cpp,
// indicgenbench.cpp. evals/task_registry.cpp registers open_qa_tasks().
#include <string>
#include <vector>

#include "evals/task.h"

namespace gemma::evals::tasks {

TaskSpec triviaqa_task();                     // triviaqa (rc.nocontext, 5-shot)
TaskSpec nq_open_task();                      // nq_open (5-shot)
std::vector<TaskSpec> drop_tasks();           // drop (lm-eval parity), drop_fixed (our fix)
std::vector<TaskSpec> xquad_tasks();          // xquad_{ar,de,el,en,es,hi,ro,ru,th,tr,vi,zh}, group xquad
std::vector<TaskSpec> eclektic_tasks();       // eclektic (approximate, see eclektic.cpp)
std::vector<TaskSpec> indicgenbench_tasks();  // indicgenbench_{xquad_in,xorqa_in,flores_in,crosssum_in}
                                              // (flores_in, crosssum_in score with scorers/chrf.h)

// Every task above, in that order (defined in nq_open.cpp).
std::vector<TaskSpec> open_qa_tasks();

// Shared by triviaqa and nq_open: lm-eval's "remove_whitespace" pipeline (strip, take_first) and
// the short-answer stop strings ["\n", ".", ","].
FilterPipeline remove_whitespace_pipeline();
std::vector<std::string> short_answer_stops();

}  // namespace gemma::evals::tasks
