#pragma once
// The subcommands of the one gemma-eval binary. main.cpp only parses flags (CLI11) and dispatches;
// each run_* function does the work and throws gemma::Error with a message for the user.
#include <string>

namespace CLI { class App; }

namespace gemma::cli {

struct ModelFlags {
  std::string model;            // checkpoint dir or Hub id; empty = built-in tiny model
  std::string device = "cpu";
  std::string dtype = "auto";
  int threads = 0;              // 0 = LibTorch's default
};
void add_model_flags(CLI::App& command, ModelFlags& flags, bool with_placement = true);

struct LogitsArgs {
  ModelFlags model;
  std::string input;
  std::string output;
};
int run_logits(const LogitsArgs& args);

struct GenerateArgs {
  ModelFlags model;
  std::string prompt;
  bool chat = false;
  int max_new_tokens = 64;
  bool print_ids = false;
  bool ignore_eos = false;
};
int run_generate(const GenerateArgs& args);

struct TokenizeArgs {
  ModelFlags model;
  std::string text;
  bool bos = false;
};
int run_tokenize(const TokenizeArgs& args);

}  // namespace gemma::cli
