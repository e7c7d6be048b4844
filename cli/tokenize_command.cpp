// gemma-eval tokenize: text -> ids through the model's own tokenizer (torch is not needed here).
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "common/files.h"
#include "model/model_files.h"
#include "model/tokenizer.h"

namespace gemma::cli {
namespace {

std::string read_stdin() {
  std::string text;
  char buffer[1 << 16];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, stdin)) text.append(buffer, n);
  if (std::ferror(stdin)) fail("--text-file -: cannot read standard input: {}", std::strerror(errno));
  return text;
}

}  // namespace

int run_tokenize(const TokenizeArgs& args) {
  std::string text = args.text;
  if (!args.text_file.empty()) text = args.text_file == "-" ? read_stdin() : read_file(args.text_file);
  ModelFiles files = open_model_files(args.model.model);
  auto ids = args.bos ? files.tokenizer->encode_with_bos(text) : files.tokenizer->encode(text);
  std::printf("%s\n", nlohmann::json(ids).dump().c_str());
  return 0;
}

}  // namespace gemma::cli
