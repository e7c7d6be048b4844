// gemma-eval logits / generate: the subcommands that run the decoder.
#include <algorithm>
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
#include "model/siglip.h"
#include "evals/engine.h"
#include "evals/model_engine/prompt_images.h"
#include "model/image_processor.h"

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

// {"sequences": [[id, ...], ...]}; a sequence may also be {"ids": [...], "images": ["a.png", ...]}: its ids
// already hold the expanded image token blocks, the images in order of appearance (paths relative to
// the input file).
struct Sequence {
  std::vector<int> ids;
  std::vector<std::string> images;
};

std::vector<Sequence> read_sequences(const fs::path& input, int vocab_size) {
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
    for (size_t t = 0; t < ids.size(); ++t) {
      if (!ids[t].is_number_integer())
        fail("{}: sequences[{}][{}] is not an integer token id", input.string(), i, t);
      sequence.ids.push_back(ids[t].get<int>());
    }
    check_token_ids(sequence.ids, vocab_size, fmt::format("{}: sequences[{}]", input.string(), i));
    if (entry.is_object() && entry.contains("images")) {
      const auto& images = entry["images"];
      if (!images.is_array()) fail("{}: sequences[{}].images must be a list of image paths", input.string(), i);
      for (const auto& image : images) {
        if (!image.is_string()) fail("{}: sequences[{}].images holds a non-string {}", input.string(), i, image.dump());
        sequence.images.push_back((input.parent_path() / image.get<std::string>()).string());
      }
    }
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
  const bool with_images = std::any_of(sequences.begin(), sequences.end(), [](const Sequence& s) { return !s.images.empty(); });
  Vision vision;
  if (with_images) vision = load_vision(files, *model, /*pan_and_scan=*/false);
  for (size_t i = 0; i < sequences.size(); ++i) {
    auto batch = make_batch({sequences[i].ids}, Padding::Right, files.config.pad_token_id, model->placement().device);
    if (!sequences[i].images.empty()) {
      batch.image_embeddings =
          evals::soft_token_embeddings(*vision.tower, evals::load_pixel_values(sequences[i].images, *vision.processor));
      batch.image_token_id = files.config.image_token_index;
    }
    KVCache cache = model->new_cache(1, static_cast<int64_t>(sequences[i].ids.size()));
    auto logits = model->logits(model->forward(batch, cache))[0].to(torch::kCPU).contiguous();  // [T, V]
    std::string name = fmt::format("logits_{}.npy", i);
    write_npy_float32(out_dir / name, logits.data_ptr<float>(), {logits.size(0), logits.size(1)});
    auto last = logits[-1];
    summary["sequences"].push_back({{"index", i}, {"length", sequences[i].ids.size()}, {"file", name},
                                    {"last_argmax", last.argmax().item<int64_t>()},
                                    {"last_logsumexp", torch::logsumexp(last.to(torch::kFloat64), 0).item<double>()}});
  }
  write_file_atomic(out_dir / "summary.json", summary.dump(2) + "\n");
  std::fprintf(stderr, "gemma-eval: wrote %zu logits file(s) and summary.json to %s\n", sequences.size(),
               out_dir.c_str());
  return 0;
}

// The vision tower and image processor settings of a multimodal checkpoint; errors for text-only ones.
Vision load_vision(const ModelFiles& files, const Gemma3TextModel& decoder, bool pan_and_scan) {
  if (!files.config.multimodal)
    fail("{} is a text-only Gemma 3 ({}); images need a multimodal checkpoint (4B, 12B or 27B)", files.dir.string(),
         files.config.architecture);
  Vision vision;
  vision.tower = VisionTower::load(files.config, Checkpoint::open(files.dir), decoder.placement());
  vision.processor = std::make_unique<ImageProcessorConfig>(read_image_processor_config(files.dir));
  vision.processor->do_pan_and_scan = pan_and_scan;
  if (vision.processor->image_seq_length != files.config.mm_tokens_per_image)
    fail("{}: image_seq_length {} disagrees with config.json's mm_tokens_per_image {}", vision.processor->source,
         vision.processor->image_seq_length, files.config.mm_tokens_per_image);
  return vision;
}

Vision::Vision() = default;
Vision::Vision(Vision&&) noexcept = default;
Vision& Vision::operator=(Vision&&) noexcept = default;
Vision::~Vision() = default;

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
  torch::Tensor soft_tokens;
  if (!args.images.empty()) {
    Vision vision = load_vision(files, *model, args.pan_and_scan);
    evals::PromptImages expanded = evals::expand_prompt_images(text, args.images, *vision.processor);
    text = expanded.text;
    soft_tokens = evals::soft_token_embeddings(*vision.tower, expanded.pixel_values);
  }
  std::vector<int> prompt = files.tokenizer->encode_with_bos(text);
  check_token_ids(prompt, files.config.text.vocab_size, "--prompt");

  GreedyOptions options;
  options.max_new_tokens = args.max_new_tokens;
  options.pad_id = files.config.pad_token_id;
  if (!args.ignore_eos) options.stop_ids = stop_token_ids(files);
  auto result = greedy_generate(*model, {prompt}, options, soft_tokens, files.config.image_token_index).front();
  if (args.print_ids)
    std::printf("%s\n", nlohmann::json(result.tokens).dump().c_str());
  else
    std::printf("%s\n", files.tokenizer->decode(result.tokens).c_str());
  return 0;
}

}  // namespace gemma::cli
