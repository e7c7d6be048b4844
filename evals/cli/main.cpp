// gemma-eval: one binary, several subcommands (see README "CLI reference").
#include <cstdio>

#include <CLI/CLI.hpp>

#include "build_info.h"
#include "common/error.h"
#include "evals/cli/commands.h"

namespace gemma::cli {

void add_model_flags(CLI::App& command, ModelFlags& flags, bool with_placement) {
  command.add_option("--model", flags.model,
                     "Checkpoint directory (Hugging Face layout) or Hub id resolved in the local HF cache; "
                     "default: the built-in tiny random-weight model");
  if (!with_placement) return;
  command.add_option("--device", flags.device, "cpu, cuda or cuda:N")->capture_default_str();
  command.add_option("--dtype", flags.dtype, "float32, bfloat16, float16 or auto (cpu: float32, cuda: bfloat16)")
      ->capture_default_str();
  command.add_option("--threads", flags.threads, "CPU threads for LibTorch (0 = its default)")
      ->check(CLI::NonNegativeNumber);
}

}  // namespace gemma::cli

int main(int argc, char** argv) {
  using namespace gemma::cli;
  CLI::App app{"gemma-eval: evaluate Gemma 3 models (LibTorch) on the Gemma 3 model card's benchmarks"};
  app.set_version_flag("--version", std::string("gemma-eval ") + GEMMA_EVAL_VERSION + " (" + GEMMA_EVAL_GIT_HASH + ")");
  app.require_subcommand(1);

  LogitsArgs logits;
  auto* logits_cmd = app.add_subcommand("logits", "Write the float32 logits [T, vocab] of token sequences as .npy files");
  add_model_flags(*logits_cmd, logits.model);
  logits_cmd->add_option("--input", logits.input, "JSON file {\"sequences\": [[id, ...], ...]}")->required();
  logits_cmd->add_option("--output", logits.output, "Output folder for logits_<i>.npy and summary.json")->required();

  GenerateArgs generate;
  auto* generate_cmd = app.add_subcommand("generate", "Greedy continuation of a prompt");
  add_model_flags(*generate_cmd, generate.model);
  generate_cmd->add_option("--prompt", generate.prompt, "Prompt text")->required();
  generate_cmd->add_flag("--chat", generate.chat, "Wrap the prompt as one user turn of the Gemma 3 chat template");
  generate_cmd->add_option("--max-new-tokens", generate.max_new_tokens, "Most tokens to generate")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  generate_cmd->add_flag("--ids", generate.print_ids, "Print the generated token ids (JSON) instead of text");
  generate_cmd->add_flag("--ignore-eos", generate.ignore_eos, "Do not stop at <eos>/<end_of_turn>");

  TokenizeArgs tokenize;
  auto* tokenize_cmd = app.add_subcommand("tokenize", "Print the token ids of a text as a JSON array");
  add_model_flags(*tokenize_cmd, tokenize.model, /*with_placement=*/false);
  tokenize_cmd->add_option("--text", tokenize.text, "Text to tokenize")->required();
  tokenize_cmd->add_flag("--bos", tokenize.bos, "Prepend the BOS token");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*logits_cmd) return run_logits(logits);
    if (*generate_cmd) return run_generate(generate);
    if (*tokenize_cmd) return run_tokenize(tokenize);
  } catch (const gemma::Error& e) {
    std::fprintf(stderr, "gemma-eval: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gemma-eval: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
