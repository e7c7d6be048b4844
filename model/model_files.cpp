#include "model/model_files.h"

#include <algorithm>
#include <cstdlib>

#include "build_info.h"
#include "common/error.h"
#include "model/model_path.h"

namespace gemma {
namespace fs = std::filesystem;

fs::path builtin_tiny_model_dir() {
  if (const char* env = std::getenv("GEMMA_EVAL_TINY_MODEL"); env && *env) return env;
  return GEMMA_EVAL_TINY_MODEL_DIR;
}

ModelFiles open_model_files(const std::string& model_arg, bool with_tokenizer) {
  ModelFiles files;
  if (model_arg.empty()) {
    files.dir = builtin_tiny_model_dir();
    files.builtin_tiny = true;
    if (!fs::is_regular_file(files.dir / "config.json"))
      fail(
          "the built-in tiny model is missing at {} (the build makes it: cmake --build build); "
          "or pass --model DIR",
          files.dir.string());
  } else {
    files.dir = resolve_model_path(model_arg);
  }
  files.config = load_config(files.dir / "config.json");
  if (with_tokenizer) files.tokenizer = load_tokenizer(files.dir);
  return files;
}

void check_token_ids(const std::vector<int>& ids, int vocab_size, const std::string& where) {
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab_size)
      fail("{}: token id {} at index {} is outside the model's vocabulary [0, {})", where, ids[i], i, vocab_size);
}

std::vector<int> stop_token_ids(const ModelFiles& files) {
  std::vector<int> ids = files.config.eos_token_ids;
  if (files.tokenizer) {
    for (int id : {files.tokenizer->special().eos, files.tokenizer->special().end_of_turn})
      if (id >= 0) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace gemma
