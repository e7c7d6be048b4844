// gemma-eval logits / generate: the subcommands that run the decoder.
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "build_info.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/files.h"
#include "engine/direct_runs.h"
#include "engine/prompt_images.h"
#include "evals/engine.h"
#include "model/chat_template.h"
#include "model/checkpoint.h"
#include "model/gemma3.h"
#include "model/generation.h"
#include "model/image_processor.h"
#include "model/model_files.h"
#include "model/npy.h"
#include "model/siglip.h"

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

}  // namespace

void announce_dtype(const Placement& placement) {
  std::fprintf(stderr, "gemma-eval: computing in %s (%s)\n", dtype_label(placement.dtype).c_str(),
               placement.dtype_reason.c_str());
}

namespace {

std::unique_ptr<Gemma3TextModel> load_decoder(const ModelFiles& files, const ModelFlags& flags) {
  apply_threads(flags.threads);
  Placement placement = parse_placement(flags.device, flags.dtype, files.config.torch_dtype);
  announce_dtype(placement);
  return Gemma3TextModel::load(files.config, Checkpoint::open(files.dir), placement);
}

// {"sequences": [[id, ...], ...]}; a sequence may also be {"ids": [...], "images": ["a.png", ...]}: its ids
// already hold the expanded image token blocks, the images in order of appearance (paths relative to
// the input file).
struct Sequence {
  std::vector<int> ids;
  std::vector<std::string> images;
};

// A token id checked as the JSON number it is, before narrowing to int (4294967298 must not become 2).
int token_id(const nlohmann::json& id, int vocab_size, const fs::path& input, size_t i, size_t t) {
  if (!id.is_number_integer())  // a fraction, 2.0, a string, or beyond 64 bits (parsed as a float)
    fail("{}: sequences[{}][{}] = {} is not an integer token id", input.string(), i, t, id.dump());
  const bool in_vocabulary = id.is_number_unsigned() ? id.get<uint64_t>() < static_cast<uint64_t>(vocab_size)
                                                     : id.get<int64_t>() >= 0 && id.get<int64_t>() < vocab_size;
  if (!in_vocabulary)
    fail("{}: sequences[{}][{}]: token id {} is outside the model's vocabulary [0, {})", input.string(), i, t,
         id.dump(), vocab_size);
  return static_cast<int>(id.get<int64_t>());
}

std::vector<Sequence> read_sequences(const fs::path& input, const ModelConfig& config) {
  const int vocab_size = config.text.vocab_size;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(read_file(input));
  } catch (const nlohmann::json::parse_error& e) {
    fail("{} is not valid JSON: {}", input.string(), e.what());
  }
  if (!doc.is_object() || !doc.contains("sequences") || !doc["sequences"].is_array())
    fail("{}: expected an object with a \"sequences\" array", input.string());
  std::vector<Sequence> sequences;
  for (size_t i = 0; i < doc["sequences"].size(); ++i) {
    const auto& entry = doc["sequences"][i];
    const auto& ids = entry.is_object() && entry.contains("ids") ? entry["ids"] : entry;
    if (!ids.is_array() || ids.empty())
      fail("{}: sequences[{}] must be a non-empty array of token ids", input.string(), i);
    Sequence sequence;
    for (size_t t = 0; t < ids.size(); ++t) sequence.ids.push_back(token_id(ids[t], vocab_size, input, i, t));
    if (entry.is_object() && entry.contains("images")) {
      const auto& images = entry["images"];
      if (!images.is_array()) fail("{}: sequences[{}].images must be a list of image paths", input.string(), i);
      for (const auto& image : images) {
        if (!image.is_string()) fail("{}: sequences[{}].images holds a non-string {}", input.string(), i, image.dump());
        sequence.images.push_back((input.parent_path() / image.get<std::string>()).string());
      }
    }
    // Each image fills one block of mm_tokens_per_image soft tokens (no pan-and-scan here). Soft tokens
    // without an image would run as the embedding row of the placeholder id: logits of no real input.
    if (config.multimodal) {
      const auto soft_tokens = std::count(sequence.ids.begin(), sequence.ids.end(), config.image_token_index);
      const size_t embeddings = sequence.images.size() * static_cast<size_t>(config.mm_tokens_per_image);
      if (static_cast<size_t>(soft_tokens) != embeddings)
        fail(
            "{}: sequences[{}] has {} image soft tokens (id {}) but its {} image(s) give {} embeddings ({} per "
            "image): give one image per block of soft tokens",
            input.string(), i, soft_tokens, config.image_token_index, sequence.images.size(), embeddings,
            config.mm_tokens_per_image);
    }
    sequences.push_back(std::move(sequence));
  }
  return sequences;
}

// logits_<i>.npy: the files of one logits run (an earlier, longer input's files are stale).
bool is_logits_file(const std::string& name) {
  return name.rfind("logits_", 0) == 0 && name.size() > 11 && name.compare(name.size() - 4, 4, ".npy") == 0 &&
         name.find_first_not_of("0123456789", 7) == name.size() - 4;
}

}  // namespace

int run_logits(const LogitsArgs& args) {
  ModelFiles files = open_model_files(args.model.model, /*with_tokenizer=*/false);
  announce_builtin_model(files);
  auto sequences = read_sequences(args.input, files.config);
  // The folder as one unit: every file is staged and moved in only when all are done, summary.json last;
  // a failure part way (a bad image in sequence 5, a full disk) leaves the previous run's files.
  OutputFolderWriter output(args.output);
  auto model = load_decoder(files, args.model);

  nlohmann::ordered_json summary = {{"model", files.dir.string()},
                                    {"builtin_tiny_model", files.builtin_tiny},
                                    {"device", args.model.device},
                                    {"dtype", dtype_label(model->placement().dtype)},
                                    {"vocab_size", files.config.text.vocab_size},
                                    {"gemma_eval_version", GEMMA_EVAL_VERSION},
                                    {"git", GEMMA_EVAL_GIT_HASH},
                                    {"sequences", nlohmann::json::array()}};
  const bool with_images =
      std::any_of(sequences.begin(), sequences.end(), [](const Sequence& s) { return !s.images.empty(); });
  evals::Vision vision;
  if (with_images) vision = evals::load_vision(files, *model, /*pan_and_scan=*/false);
  for (size_t i = 0; i < sequences.size(); ++i) {
    const evals::SequenceLogits logits =
        evals::sequence_logits(*model, &vision, sequences[i].ids, sequences[i].images, files.config.pad_token_id,
                               files.config.image_token_index);
    std::string name = fmt::format("logits_{}.npy", i);
    output.add_written(name, [&](const fs::path& staged) {
      write_npy_float32(staged, logits.values.data(), {logits.length, logits.vocab});
    });
    summary["sequences"].push_back({{"index", i},
                                    {"length", sequences[i].ids.size()},
                                    {"file", name},
                                    {"last_argmax", logits.last_argmax},
                                    {"last_logsumexp", logits.last_logsumexp}});
  }
  output.add("summary.json", summary.dump(2) + "\n");
  output.commit([&](const std::string& name) { return is_logits_file(name); });
  std::fprintf(stderr, "gemma-eval: wrote %zu logits file(s) and summary.json to %s\n", sequences.size(),
               args.output.c_str());
  return 0;
}

int run_generate(const GenerateArgs& args) {
  ModelFiles files = open_model_files(args.model.model);
  announce_builtin_model(files);
  // Images go where the prompt has <start_of_image>, else before the text (as lmms-eval places them).
  std::string text = args.prompt;
  if (!args.images.empty() && text.find(evals::kImageMarker) == std::string::npos) {
    std::string markers;
    for (size_t i = 0; i < args.images.size(); ++i) markers += evals::kImageMarker;
    text = markers + text;
  }
  if (args.chat) {  // the template's "<bos>" becomes the one BOS id below
    text = render_chat({{"user", text}});
    if (text.rfind("<bos>", 0) == 0) text.erase(0, 5);
  }
  auto model = load_decoder(files, args.model);
  evals::Vision vision;
  if (!args.images.empty()) vision = evals::load_vision(files, *model, args.pan_and_scan);
  GreedyOptions options;
  options.max_new_tokens = args.max_new_tokens;
  options.pad_id = files.config.pad_token_id;
  if (!args.ignore_eos) options.stop_ids = stop_token_ids(files);
  const std::vector<int> tokens =
      evals::greedy_continuation(*model, &vision, *files.tokenizer, text, args.images, files.config.text.vocab_size,
                                 files.config.image_token_index, options);
  if (args.print_ids)
    std::printf("%s\n", nlohmann::json(tokens).dump().c_str());
  else
    std::printf("%s\n", files.tokenizer->decode(tokens).c_str());
  return 0;
}

}  // namespace gemma::cli
