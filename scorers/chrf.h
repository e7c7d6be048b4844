#pragma once
// chrF and chrF++ exactly as sacrebleu 2.x computes them (sacrebleu/metrics/chrf.py, helpers.py;
// sacrebleu sacrebleu/metrics/chrf.py@f615c728): character n-grams (1..char_order) over Unicode code points of the
// segment with whitespace removed, plus word n-grams (1..word_order) for chrF++; per-segment
// [hyp, ref, match] counts for each order, summed over the corpus, then one F-beta. lm-eval's
// `chrf` aggregation is sacrebleu.corpus_chrf(preds, [refs]) with the defaults below. Torch-free.
#include <string>
#include <string_view>
#include <vector>

namespace gemma::scorers {

// sacrebleu CHRF(...) arguments; the defaults are CHRF()'s (chrF2). chrF++ = word_order 2.
struct ChrfOptions {
  int char_order = 6;
  int word_order = 0;
  double beta = 2.0;
  bool lowercase = false;      // Python str.lower() as common/python_text.h covers it
  bool whitespace = false;     // true: keep whitespace inside character n-grams
  bool eps_smoothing = false;  // false: sacrebleu's effective-order averaging (the default)
};

// The [hyp, ref, match] triples of one segment, order by order (characters first, then words):
// 3 * (char_order + word_order) counts. With several references sacrebleu keeps the statistics of
// the reference with the highest segment F (the first one on ties). Errors (gemma::Error): no
// references, an order below 0 or no order at all.
std::vector<long long> chrf_segment_statistics(std::string_view hypothesis, const std::vector<std::string>& references,
                                               const ChrfOptions& options = {});

// chrF in [0, 100] from (summed) statistics as chrf_segment_statistics lays them out.
double chrf_from_statistics(const std::vector<long long>& statistics, const ChrfOptions& options = {});

// sacrebleu sentence_chrf(hypothesis, references): the corpus of one segment.
double sentence_chrf(std::string_view hypothesis, const std::vector<std::string>& references,
                     const ChrfOptions& options = {});

// sacrebleu corpus_chrf: references[i] are segment i's references (lm-eval passes one per segment).
// Errors: different sizes, no segments, a segment without references.
double corpus_chrf(const std::vector<std::string>& hypotheses, const std::vector<std::vector<std::string>>& references,
                   const ChrfOptions& options = {});

// IndicGenBench's chrF (the paper reports chrF per language and direction, i.e. per data file): each
// item's one reference is the JSON object {"target", "group"} (group = the data file), and the score is
// the mean over groups of corpus_chrf of the group's items. Errors: different sizes, a reference that is
// not such an object. No items: 0.
double mean_group_chrf(const std::vector<std::string>& hypotheses,
                       const std::vector<std::vector<std::string>>& references);

// sacrebleu's reproducibility signature, e.g. "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x"
// for the defaults (the version is sacrebleu's major line whose algorithm this follows).
std::string chrf_signature(const ChrfOptions& options = {}, int references_per_segment = 1);

}  // namespace gemma::scorers
