// gemma-eval score: offline scoring of predictions JSONL against references JSONL.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "evals/cli/commands.h"
#include "evals/offline_scoring.h"

namespace gemma::cli {

int run_score(const ScoreArgs& args) {
  auto result = evals::score_files(args.metric, args.predictions, args.references);
  nlohmann::ordered_json out = {{"metric", result.metric}, {"score", result.score}, {"n", result.n}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace gemma::cli
