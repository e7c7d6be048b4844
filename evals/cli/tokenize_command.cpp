// gemma-eval tokenize: text -> ids through the model's own tokenizer (torch is not needed here).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "evals/cli/commands.h"
#include "model/model_files.h"
#include "model/tokenizer.h"

namespace gemma::cli {

int run_tokenize(const TokenizeArgs& args) {
  ModelFiles files = open_model_files(args.model.model);
  auto ids = args.bos ? files.tokenizer->encode_with_bos(args.text) : files.tokenizer->encode(args.text);
  std::printf("%s\n", nlohmann::json(ids).dump().c_str());
  return 0;
}

}  // namespace gemma::cli
