// gemma-eval logits / generate: the subcommands that run the decoder.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "build_info.h"
#include "common/error.h"
#include "common/files.h"
#include "evals/cli/commands.h"
#include "model/chat_template.h"
#include "model/checkpoint.h"
#include "model/gemma3.h"
#include "model/generation.h"
#include "model/model_files.h"
#include "model/npy.h"

namespace gemma::cli {
namespace fs = std::filesystem;
namespace {

void announce_builtin_model(const ModelFiles& files) {
  if (!files.builtin_tiny) return;
  std::fprintf(stderr,
               "gemma-eval: using the built-in tiny random-weight Gemma 3 (%s): its outputs are noise. "
               "Pass --model DIR (a Hugging Face checkpoint folder) or --model google/gemma-3-1b-pt "
               "(resolved in the local HF cache) for a real model.\n",
               files.dir.c_str());
}

std::unique_ptr<Gemma3TextModel> load_decoder(const ModelFiles& files, const ModelFlags& flags) {
  if (flags.threads > 0) torch::set_num_threads(flags.threads);
  Placement placement = parse_placement(flags.device, flags.dtype);
  return Gemma3TextModel::load(files.config, Checkpoint::open(files.dir), placement);
}

// {"sequences": [[id, ...], ...]}; a sequence may also be {"ids": [...]}.
std::vector<std::vector<int>> read_sequences(const fs::path& input, int vocab_size) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(read_file(input));
  } catch (const nlohmann::json::parse_error& e) {
    fail("{} is not valid JSON: {}", input.string(), e.what());
  }
  if (!doc.is_object() || !doc.contains("sequences") || !doc["sequences"].is_array())
    fail("{}: expected an object with a \"sequences\" array", input.string());
  std::vector<std::vector<int>> sequences;
  for (size_t i = 0; i < doc["sequences"].size(); ++i) {
    const auto& entry = doc["sequences"][i];
    const auto& ids = entry.is_object() && entry.contains("ids") ? entry["ids"] : entry;
    if (entry.is_object() && entry.contains("images"))
      fail("{}: sequences[{}] has images; image inputs need the vision tower, which this build does not have yet",
           input.string(), i);
    if (!ids.is_array() || ids.empty())
      fail("{}: sequences[{}] must be a non-empty array of token ids", input.string(), i);
    std::vector<int> sequence;
    for (size_t t = 0; t < ids.size(); ++t) {
      if (!ids[t].is_number_integer())
        fail("{}: sequences[{}][{}] is not an integer token id", input.string(), i, t);
      sequence.push_back(ids[t].get<int>());
    }
    check_token_ids(sequence, vocab_size, fmt::format("{}: sequences[{}]", input.string(), i));
    sequences.push_back(std::move(sequence));
  }
  return sequences;
}

fs::path prepare_output_dir(const std::string& output) {
  fs::path dir(output);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) fail("cannot create output folder {}: {}", output, ec ? ec.message() : "not a folder");
  return dir;
}

}  // namespace

int run_logits(const LogitsArgs& args) {
  ModelFiles files = open_model_files(args.model.model, /*with_tokenizer=*/false);
  announce_builtin_model(files);
  auto sequences = read_sequences(args.input, files.config.text.vocab_size);
  fs::path out_dir = prepare_output_dir(args.output);
  auto model = load_decoder(files, args.model);

  nlohmann::ordered_json summary = {
      {"model", files.dir.string()}, {"builtin_tiny_model", files.builtin_tiny},
      {"device", args.model.device}, {"dtype", dtype_label(model->placement().dtype)},
      {"vocab_size", files.config.text.vocab_size}, {"gemma_eval_version", GEMMA_EVAL_VERSION},
      {"git", GEMMA_EVAL_GIT_HASH}, {"sequences", nlohmann::json::array()}};
  for (size_t i = 0; i < sequences.size(); ++i) {
    auto batch = make_batch({sequences[i]}, Padding::Right, files.config.pad_token_id, model->placement().device);
    KVCache cache = model->new_cache(1, static_cast<int64_t>(sequences[i].size()));
    auto logits = model->logits(model->forward(batch, cache))[0].to(torch::kCPU).contiguous();  // [T, V]
    std::string name = fmt::format("logits_{}.npy", i);
    write_npy_float32(out_dir / name, logits.data_ptr<float>(), {logits.size(0), logits.size(1)});
    auto last = logits[-1];
    summary["sequences"].push_back({{"index", i}, {"length", sequences[i].size()}, {"file", name},
                                    {"last_argmax", last.argmax().item<int64_t>()},
                                    {"last_logsumexp", torch::logsumexp(last.to(torch::kFloat64), 0).item<double>()}});
  }
  write_file_atomic(out_dir / "summary.json", summary.dump(2) + "\n");
  std::fprintf(stderr, "gemma-eval: wrote %zu logits file(s) and summary.json to %s\n", sequences.size(),
               out_dir.c_str());
  return 0;
}

int run_generate(const GenerateArgs& args) {
  ModelFiles files = open_model_files(args.model.model);
  announce_builtin_model(files);
  std::vector<int> prompt = args.chat ? encode_chat(*files.tokenizer, {{"user", args.prompt}})
                                      : files.tokenizer->encode_with_bos(args.prompt);
  check_token_ids(prompt, files.config.text.vocab_size, "--prompt");
  auto model = load_decoder(files, args.model);

  GreedyOptions options;
  options.max_new_tokens = args.max_new_tokens;
  options.pad_id = files.config.pad_token_id;
  if (!args.ignore_eos) options.stop_ids = stop_token_ids(files);
  auto result = greedy_generate(*model, {prompt}, options).front();
  if (args.print_ids)
    std::printf("%s\n", nlohmann::json(result.tokens).dump().c_str());
  else
    std::printf("%s\n", files.tokenizer->decode(result.tokens).c_str());
  return 0;
}

}  // namespace gemma::cli
