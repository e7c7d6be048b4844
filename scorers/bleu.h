#pragma once
// BLEU as pycocoevalcap's Bleu computes it for COCO captions (bleu/bleu_scorer.py, used by
// lmms-eval's COCO tasks and the coco-caption demo, pycocoevalcap cider/cider_scorer.py (HEAD)): corpus-level
// modified n-gram precisions (clipped by the maximum count in any one reference), geometric means
// for BLEU-1..4, and a brevity penalty from the total candidate length against the summed
// per-sentence "closest" reference length (ties to the shorter reference). No smoothing, except
// pycocoevalcap's tiny = 1e-15 / small = 1e-9 guards. Not sacrebleu's BLEU: no 13a tokenisation
// (inputs are already tokenised, ptb_tokenizer.h; words are Python's str.split()). Torch-free.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gemma::scorers {

// How a sentence's effective reference length is chosen: pycocoevalcap's Bleu passes "closest"
// (the default here); "shortest" and "average" are BleuScorer's other options.
enum class BleuRefLength { Closest, Shortest, Average };

std::string bleu_ref_length_name(BleuRefLength rule);
std::optional<BleuRefLength> parse_bleu_ref_length(std::string_view name);

struct CocoBleuResult {
  std::array<double, 4> bleu{};     // Bleu_1 .. Bleu_4 (pycocoevalcap's score list)
  double testlen = 0.0;             // total candidate words
  double reflen = 0.0;              // total effective reference words
  std::array<double, 4> guess{};    // candidate n-grams, n = 1..4
  std::array<double, 4> correct{};  // clipped matches, n = 1..4
};

// hypotheses[i] is segment i's candidate, references[i] its references. Errors (gemma::Error):
// different sizes, no segments, a segment without references.
CocoBleuResult coco_bleu(const std::vector<std::string>& hypotheses,
                         const std::vector<std::vector<std::string>>& references,
                         BleuRefLength rule = BleuRefLength::Closest);

}  // namespace gemma::scorers
