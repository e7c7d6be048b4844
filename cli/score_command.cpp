// gemma-eval score: offline scoring of predictions JSONL against references JSONL with gemma-eval's own
// metric and extraction code (evals/offline_scoring.h lists the metrics, variants and filters). Prints
// one JSON object.
#include <cstdio>

#include "cli/commands.h"
#include "evals/offline_scoring.h"

namespace gemma::cli {

int run_score(const ScoreArgs& args) {
  const auto out =
      evals::score_offline({args.metric, args.predictions, args.references, args.filter, args.allow_code_execution});
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace gemma::cli
