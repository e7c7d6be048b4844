#include "scorers/cider.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/error.h"
#include "common/python_text.h"

namespace gemma::scorers {
namespace {

using Ngram = std::vector<std::string>;
using Counts = std::map<Ngram, int>;

// pycocoevalcap cider_scorer.precook: counts of every n-gram, n = 1..max_n.
Counts precook(const std::string& sentence, int max_n) {
  const std::vector<std::string> words = python_split(sentence);
  Counts counts;
  for (int k = 1; k <= max_n; ++k)
    for (size_t i = 0; i + static_cast<size_t>(k) <= words.size(); ++i)
      ++counts[Ngram(words.begin() + static_cast<std::ptrdiff_t>(i),
                     words.begin() + static_cast<std::ptrdiff_t>(i) + k)];
  return counts;
}

struct Vector {
  std::vector<std::map<Ngram, double>> weights;  // per n-gram order
  std::vector<double> norm;
  int length = 0;  // the number of bigrams (sum of their counts)
};

}  // namespace

CiderResult cider_d(const std::vector<std::string>& hypotheses, const std::vector<std::vector<std::string>>& references,
                    int n, double sigma) {
  if (n <= 0) fail("cider: n must be positive");
  if (hypotheses.size() != references.size())
    fail("cider: {} candidate captions but {} reference sets", hypotheses.size(), references.size());
  if (hypotheses.empty()) fail("cider: no images to score");
  for (size_t i = 0; i < references.size(); ++i)
    if (references[i].empty()) fail("cider: image {} has no reference captions", i);

  std::vector<Counts> tests;
  std::vector<std::vector<Counts>> refs;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    tests.push_back(precook(hypotheses[i], n));
    std::vector<Counts> cooked;
    for (const std::string& reference : references[i]) cooked.push_back(precook(reference, n));
    refs.push_back(std::move(cooked));
  }

  // compute_doc_freq: the number of images whose references contain each n-gram.
  std::map<Ngram, double> document_frequency;
  for (const auto& image : refs) {
    std::set<Ngram> seen;
    for (const Counts& ref : image)
      for (const auto& [ngram, count] : ref) seen.insert(ngram);
    for (const Ngram& ngram : seen) document_frequency[ngram] += 1.0;
  }
  const double ref_len = std::log(static_cast<double>(refs.size()));

  auto counts2vec = [&](const Counts& counts) {
    Vector v;
    v.weights.resize(static_cast<size_t>(n));
    v.norm.assign(static_cast<size_t>(n), 0.0);
    for (const auto& [ngram, term_freq] : counts) {
      auto df_it = document_frequency.find(ngram);
      const double df = std::log(std::max(1.0, df_it == document_frequency.end() ? 0.0 : df_it->second));
      const size_t order = ngram.size() - 1;
      const double weight = static_cast<double>(term_freq) * (ref_len - df);
      v.weights[order][ngram] = weight;
      v.norm[order] += weight * weight;
      if (order == 1) v.length += term_freq;
    }
    for (double& norm : v.norm) norm = std::sqrt(norm);
    return v;
  };

  auto sim = [&](const Vector& hyp, const Vector& ref) {
    const double delta = static_cast<double>(hyp.length - ref.length);
    std::vector<double> val(static_cast<size_t>(n), 0.0);
    for (size_t k = 0; k < static_cast<size_t>(n); ++k) {
      for (const auto& [ngram, weight] : hyp.weights[k]) {
        auto it = ref.weights[k].find(ngram);
        const double ref_weight = it == ref.weights[k].end() ? 0.0 : it->second;
        val[k] += std::min(weight, ref_weight) * ref_weight;  // clipping (the "-D")
      }
      if (hyp.norm[k] != 0.0 && ref.norm[k] != 0.0) val[k] /= hyp.norm[k] * ref.norm[k];
      val[k] *= std::exp(-(delta * delta) / (2.0 * sigma * sigma));
    }
    return val;
  };

  CiderResult result;
  for (size_t i = 0; i < tests.size(); ++i) {
    const Vector hyp = counts2vec(tests[i]);
    std::vector<double> score(static_cast<size_t>(n), 0.0);
    for (const Counts& ref : refs[i]) {
      const std::vector<double> s = sim(hyp, counts2vec(ref));
      for (size_t k = 0; k < score.size(); ++k) score[k] += s[k];
    }
    double mean = 0.0;
    for (double s : score) mean += s;
    mean /= static_cast<double>(n);
    mean /= static_cast<double>(refs[i].size());
    result.per_image.push_back(mean * 10.0);
  }
  double total = 0.0;
  for (double s : result.per_image) total += s;
  result.score = total / static_cast<double>(result.per_image.size());
  return result;
}

}  // namespace gemma::scorers
