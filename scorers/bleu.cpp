#include "scorers/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "common/error.h"
#include "common/python_text.h"

namespace gemma::scorers {
namespace {

constexpr int kMaxN = 4;
constexpr double kSmall = 1e-9;
constexpr double kTiny = 1e-15;

using Ngram = std::vector<std::string>;

// bleu_scorer.precook: (length, n-gram counts).
std::pair<int, std::map<Ngram, int>> precook(const std::string& sentence) {
  const std::vector<std::string> words = python_split(sentence);
  std::map<Ngram, int> counts;
  for (int k = 1; k <= kMaxN; ++k)
    for (size_t i = 0; i + static_cast<size_t>(k) <= words.size(); ++i)
      ++counts[Ngram(words.begin() + static_cast<std::ptrdiff_t>(i),
                     words.begin() + static_cast<std::ptrdiff_t>(i) + k)];
  return {static_cast<int>(words.size()), std::move(counts)};
}

}  // namespace

std::string bleu_ref_length_name(BleuRefLength rule) {
  switch (rule) {
    case BleuRefLength::Closest:
      return "closest";
    case BleuRefLength::Shortest:
      return "shortest";
    case BleuRefLength::Average:
      return "average";
  }
  return "closest";
}

std::optional<BleuRefLength> parse_bleu_ref_length(std::string_view name) {
  if (name == "closest") return BleuRefLength::Closest;
  if (name == "shortest") return BleuRefLength::Shortest;
  if (name == "average") return BleuRefLength::Average;
  return std::nullopt;
}

CocoBleuResult coco_bleu(const std::vector<std::string>& hypotheses,
                         const std::vector<std::vector<std::string>>& references, BleuRefLength rule) {
  if (hypotheses.size() != references.size())
    fail("bleu: {} candidates but {} reference sets", hypotheses.size(), references.size());
  if (hypotheses.empty()) fail("bleu: no segments to score");
  CocoBleuResult result;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    if (references[i].empty()) fail("bleu: segment {} has no references", i);
    // cook_refs: every reference length, and each n-gram's maximum count in one reference.
    std::vector<int> reflens;
    std::map<Ngram, int> max_counts;
    for (const std::string& reference : references[i]) {
      auto [length, counts] = precook(reference);
      reflens.push_back(length);
      for (const auto& [ngram, count] : counts) max_counts[ngram] = std::max(max_counts[ngram], count);
    }
    // cook_test.
    const auto [testlen, counts] = precook(hypotheses[i]);
    double reflen = 0.0;
    switch (rule) {
      case BleuRefLength::Closest: {
        // min((abs(l - testlen), l) for l in reflens)[1]: the closest, the shorter on ties.
        int best = reflens.front();
        for (int l : reflens)
          if (std::abs(l - testlen) < std::abs(best - testlen) ||
              (std::abs(l - testlen) == std::abs(best - testlen) && l < best))
            best = l;
        reflen = best;
        break;
      }
      case BleuRefLength::Shortest:
        reflen = *std::min_element(reflens.begin(), reflens.end());
        break;
      case BleuRefLength::Average: {
        long total = 0;
        for (int l : reflens) total += l;
        reflen = static_cast<double>(total) / static_cast<double>(reflens.size());
        break;
      }
    }
    result.testlen += testlen;
    result.reflen += reflen;
    for (int k = 1; k <= kMaxN; ++k) result.guess[static_cast<size_t>(k - 1)] += std::max(0, testlen - k + 1);
    for (const auto& [ngram, count] : counts) {
      auto it = max_counts.find(ngram);
      result.correct[ngram.size() - 1] += std::min(it == max_counts.end() ? 0 : it->second, count);
    }
  }
  // compute_score, operation for operation.
  const double ratio = (result.testlen + kTiny) / (result.reflen + kSmall);
  for (int nn = 1; nn <= kMaxN; ++nn) {
    double bleu = 1.0;
    for (int k = 0; k < nn; ++k)
      bleu *= (result.correct[static_cast<size_t>(k)] + kTiny) / (result.guess[static_cast<size_t>(k)] + kSmall);
    double score = std::pow(bleu, 1.0 / nn);
    if (ratio < 1.0) score *= std::exp(1.0 - 1.0 / ratio);
    result.bleu[static_cast<size_t>(nn - 1)] = score;
  }
  return result;
}

}  // namespace gemma::scorers
