// make-tiny-model: builds the built-in tiny Gemma 3 checkpoint (run by the build; see tiny_model.h).
#include <cstdio>
#include <string>

#include "common/error.h"
#include "model/tiny_model.h"

int main(int argc, char** argv) {
  gemma::TinyModelRecipe recipe;
  std::string output;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "make-tiny-model: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--corpus")
      recipe.corpus = value();
    else if (arg == "--spm-train")
      recipe.spm_train = value();
    else if (arg == "--output")
      output = value();
    else if (arg == "--seed")
      recipe.seed = std::stoull(value());
    else {
      std::fprintf(stderr, "usage: make-tiny-model --corpus FILE --output DIR [--spm-train PATH] [--seed N]\n");
      return 2;
    }
  }
  if (output.empty() || recipe.corpus.empty()) {
    std::fprintf(stderr, "usage: make-tiny-model --corpus FILE --output DIR [--spm-train PATH] [--seed N]\n");
    return 2;
  }
  try {
    gemma::make_tiny_model(recipe, output);
  } catch (const gemma::Error& e) {
    std::fprintf(stderr, "make-tiny-model: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
