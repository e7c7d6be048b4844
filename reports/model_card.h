#pragma once
// The Gemma 3 model card's published evaluation numbers, as data, and the guess of a checkpoint's
// size from its config. Every number is copied from the Gemma 3 model card (the Hugging Face `google/gemma-3-*-pt`
// README, Evaluation section); none is computed or estimated here.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"

namespace gemma::reports {

// The released sizes, in the order of ModelCardRow::published.
inline constexpr std::array<std::string_view, 5> kModelSizes = {"270m", "1b", "4b", "12b", "27b"};

// Which table of the card a number comes from: the pre-trained (PT) checkpoints' or the
// instruction-tuned (IT) ones'. A run with --profile it is compared with the IT table.
enum class CardVariant { Pretrained, InstructionTuned };

// One benchmark row of the card, tied to the lm-eval task or group (and metric) that measures the
// same thing in this harness. A benchmark whose card metric this harness could match in more than one
// way (GSM8K: gsm8k_cot or gsm8k; PIQA: acc or acc_norm) has one row per way, all with the card's
// numbers, so the comparison table shows whichever ran.
struct ModelCardRow {
  std::string_view benchmark;     // as the card names it: "HellaSwag"
  std::string_view card_setting;  // the card's n-shot column: "10-shot", "few-shot", "–"
  int shots;                      // the shots that setting means here; -1 = the card gives none
  std::string_view task;          // lm-eval task or group name; empty = no task here computes it yet
  std::string_view metric;        // the metric of that task the number corresponds to ("acc_norm")
  double scale;                   // our metric value × scale = the card's unit (100 for a fraction)
  CardVariant variant;
  std::array<std::string_view, 5> published;  // per kModelSizes, as printed; empty = not published
};

// The whole card, in its own row order.
const std::vector<ModelCardRow>& model_card_rows();

// The number the card publishes for `size` ("4b"); empty when it publishes none (or the size is unknown).
std::string_view published_value(const ModelCardRow& row, std::string_view size);

// "270m", "1b", "4b", "12b" or "27b" from the text hidden size (640, 1152, 2560, 3840, 5376);
// "" for anything else (the built-in tiny model, a fine-tune with another shape).
std::string model_size_of(int hidden_size);
std::string model_size_of(const ModelConfig& config);

}  // namespace gemma::reports
