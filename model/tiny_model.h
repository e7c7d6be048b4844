#pragma once
// The built-in tiny Gemma 3: a random-weight checkpoint in the exact Hugging Face layout (config.json,
// model.safetensors with model.* names, tokenizer.model), made deterministically from a fixed seed and
// a SentencePiece tokenizer trained with spm_train on text in the repository. It lets the demo and the
// tests run end to end with nothing from outside the repository; its scores are chance-level.
#include <cstdint>
#include <filesystem>
#include <string>

namespace gemma {

struct TinyModelRecipe {
  std::filesystem::path corpus;         // training text for the tokenizer
  std::string spm_train = "spm_train";  // the sentencepiece trainer program
  int tokenizer_vocab = 4096;
  uint64_t seed = 20250312;
};

// Writes config.json, tokenizer.model and model.safetensors into `output_dir` (created if needed).
void make_tiny_model(const TinyModelRecipe& recipe, const std::filesystem::path& output_dir);

}  // namespace gemma
