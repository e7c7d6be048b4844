#pragma once
// What --model names, opened without LibTorch: the checkpoint folder, its config and tokenizer.
// The decoder itself is loaded from these by Gemma3TextModel::load (model/gemma3.h).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/tokenizer.h"

namespace gemma {

struct ModelFiles {
  std::filesystem::path dir;
  bool builtin_tiny = false;  // the random-weight model the build makes: scores are chance-level
  ModelConfig config;
  std::unique_ptr<Tokenizer> tokenizer;
};

// $GEMMA_EVAL_TINY_MODEL if set, else the folder the build wrote the tiny model to.
std::filesystem::path builtin_tiny_model_dir();

// `model_arg`: a directory or Hub id (model_path.h); empty = the built-in tiny model.
ModelFiles open_model_files(const std::string& model_arg, bool with_tokenizer = true);

// Every id must index the embedding (a tokenizer may know more ids than a text-only model has rows,
// e.g. <image_soft_token>); `where` names the input in the error.
void check_token_ids(const std::vector<int>& ids, int vocab_size, const std::string& where);

// The ids that end a greedy generation: config eos_token_id(s), the tokenizer's <eos> and
// <end_of_turn> (IT checkpoints stop on both; huggingface/candle issue #2891).
std::vector<int> stop_token_ids(const ModelFiles& files);

}  // namespace gemma
