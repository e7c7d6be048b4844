#include "scorers/chrf.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include <fmt/format.h>

#include "common/error.h"
#include "common/python_text.h"
#include "common/utf8.h"

namespace gemma::scorers {
namespace {

using NgramCounts = std::unordered_map<std::string, long long>;

// A segment as Python sees it: its code points, each kept as its UTF-8 bytes so that an n-gram is a
// byte range. A byte that starts no valid sequence is one character of its own (Python would have
// refused or replaced it; generated text is valid UTF-8 in practice).
struct CodePoints {
  std::string bytes;
  std::vector<size_t> starts;  // starts[i] = offset of code point i; starts.back() = bytes.size()
  size_t size() const { return starts.size() - 1; }
  std::string slice(size_t first, size_t count) const {
    return bytes.substr(starts[first], starts[first + count] - starts[first]);
  }
};

// helpers.py extract_all_char_ngrams: `"".join(line.split())` unless whitespace is kept; split()
// separates on Python's str.isspace() characters.
CodePoints char_sequence(std::string_view text, bool keep_whitespace) {
  CodePoints out;
  out.bytes.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8_at(text, pos);
    const size_t length = c.length;
    if (keep_whitespace || !python_isspace(c.code_point)) {
      out.starts.push_back(out.bytes.size());
      out.bytes.append(text.substr(pos, length));
    }
    pos += length;
  }
  out.starts.push_back(out.bytes.size());
  return out;
}

// chrf.py CHRF._PUNCTS = set(string.punctuation): ASCII only.
bool is_punctuation(char c) {
  static const std::string_view kPuncts = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  return kPuncts.find(c) != std::string_view::npos;
}

// chrf.py CHRF._remove_punctuation: one punctuation character split off the end, else off the start
// (only one side: "(hi)" -> "(hi", ")", sacrebleu issue #124); one-character words are kept whole.
std::vector<std::string> words_without_punctuation(std::string_view sentence) {
  std::vector<std::string> tokens;
  for (std::string& word : python_split(sentence)) {
    if (code_point_length(word) == 1) {
      tokens.push_back(std::move(word));
    } else if (is_punctuation(word.back())) {
      tokens.push_back(word.substr(0, word.size() - 1));
      tokens.push_back(word.substr(word.size() - 1));
    } else if (is_punctuation(word.front())) {
      tokens.push_back(word.substr(0, 1));
      tokens.push_back(word.substr(1));
    } else {
      tokens.push_back(std::move(word));
    }
  }
  return tokens;
}

NgramCounts char_ngrams(const CodePoints& line, size_t n) {
  NgramCounts counts;
  for (size_t i = 0; i + n <= line.size(); ++i) ++counts[line.slice(i, n)];
  return counts;
}

// helpers.py extract_word_ngrams: the words of each n-gram joined by one space.
NgramCounts word_ngrams(const std::vector<std::string>& words, size_t n) {
  NgramCounts counts;
  for (size_t i = 0; i + n <= words.size(); ++i) {
    std::string ngram = words[i];
    for (size_t k = 1; k < n; ++k) ngram += ' ' + words[i + k];
    ++counts[ngram];
  }
  return counts;
}

// Every order's counts of one segment: characters 1..char_order, then words 1..word_order.
std::vector<NgramCounts> all_ngrams(std::string_view segment, const ChrfOptions& options) {
  const std::string text = options.lowercase ? python_lower(segment) : std::string(segment);
  std::vector<NgramCounts> orders;
  const CodePoints chars = char_sequence(text, options.whitespace);
  for (int n = 1; n <= options.char_order; ++n) orders.push_back(char_ngrams(chars, n));
  if (options.word_order > 0) {
    const std::vector<std::string> words = words_without_punctuation(text);
    for (int n = 1; n <= options.word_order; ++n) orders.push_back(word_ngrams(words, n));
  }
  return orders;
}

// chrf.py CHRF._get_match_statistics; hypothesis n-grams are not counted for an order the reference
// has none of.
void append_match_statistics(const NgramCounts& hyp, const NgramCounts& ref, std::vector<long long>& out) {
  long long hyp_count = 0, ref_count = 0, match_count = 0;
  for (const auto& [ngram, count] : hyp) {
    hyp_count += count;
    const auto it = ref.find(ngram);
    if (it != ref.end()) match_count += std::min(count, it->second);
  }
  for (const auto& entry : ref) ref_count += entry.second;
  out.push_back(ref.empty() ? 0 : hyp_count);
  out.push_back(ref_count);
  out.push_back(match_count);
}

void check_orders(const ChrfOptions& options) {
  if (options.char_order < 0 || options.word_order < 0 || options.char_order + options.word_order == 0)
    fail("chrF: char_order ({}) and word_order ({}) must be >= 0 and not both 0", options.char_order,
         options.word_order);
}

}  // namespace

double chrf_from_statistics(const std::vector<long long>& statistics, const ChrfOptions& options) {
  check_orders(options);
  const size_t order = static_cast<size_t>(options.char_order + options.word_order);
  if (statistics.size() != 3 * order)
    fail("chrF: expected {} statistics (3 per order), got {}", 3 * order, statistics.size());
  // chrf.py CHRF._compute_f_score, operation for operation (the summation order shows in the last bits).
  const double eps = 1e-16;
  const double factor = options.beta * options.beta;
  double score = 0.0, avg_prec = 0.0, avg_rec = 0.0;
  int effective_order = 0;
  for (size_t i = 0; i < order; ++i) {
    const long long n_hyp = statistics[3 * i], n_ref = statistics[3 * i + 1], n_match = statistics[3 * i + 2];
    const double prec = n_hyp > 0 ? static_cast<double>(n_match) / static_cast<double>(n_hyp) : eps;
    const double rec = n_ref > 0 ? static_cast<double>(n_match) / static_cast<double>(n_ref) : eps;
    const double denom = factor * prec + rec;
    score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
    if (n_hyp > 0 && n_ref > 0) {
      avg_prec += prec;
      avg_rec += rec;
      ++effective_order;
    }
  }
  if (options.eps_smoothing) return 100 * score / static_cast<double>(order);
  if (effective_order == 0) {
    avg_prec = avg_rec = 0.0;
  } else {
    avg_prec /= effective_order;
    avg_rec /= effective_order;
  }
  if (avg_prec + avg_rec == 0.0) return 0.0;
  score = (1 + factor) * avg_prec * avg_rec;
  score /= (factor * avg_prec) + avg_rec;
  return 100 * score;
}

std::vector<long long> chrf_segment_statistics(std::string_view hypothesis, const std::vector<std::string>& references,
                                               const ChrfOptions& options) {
  check_orders(options);
  if (references.empty()) fail("chrF: each segment needs at least one reference");
  const std::vector<NgramCounts> hyp = all_ngrams(hypothesis, options);
  // chrf.py CHRF._compute_segment_statistics: the best-F reference wins, the first on ties.
  std::vector<long long> best;
  double best_f = -1.0;
  for (const std::string& reference : references) {
    const std::vector<NgramCounts> ref = all_ngrams(reference, options);
    std::vector<long long> stats;
    stats.reserve(3 * hyp.size());
    for (size_t i = 0; i < hyp.size(); ++i) append_match_statistics(hyp[i], ref[i], stats);
    const double f = chrf_from_statistics(stats, options);
    if (f > best_f) {
      best_f = f;
      best = std::move(stats);
    }
  }
  return best;
}

double sentence_chrf(std::string_view hypothesis, const std::vector<std::string>& references,
                     const ChrfOptions& options) {
  return chrf_from_statistics(chrf_segment_statistics(hypothesis, references, options), options);
}

double corpus_chrf(const std::vector<std::string>& hypotheses, const std::vector<std::vector<std::string>>& references,
                   const ChrfOptions& options) {
  if (hypotheses.size() != references.size())
    fail("chrF: {} hypotheses but {} reference sets; the streams must have the same length", hypotheses.size(),
         references.size());
  if (hypotheses.empty()) fail("chrF: the corpus has no segments");
  std::vector<long long> totals(3 * static_cast<size_t>(std::max(0, options.char_order + options.word_order)), 0);
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const std::vector<long long> stats = chrf_segment_statistics(hypotheses[i], references[i], options);
    for (size_t k = 0; k < totals.size(); ++k) totals[k] += stats[k];
  }
  return chrf_from_statistics(totals, options);
}

double mean_group_chrf(const std::vector<std::string>& hypotheses,
                       const std::vector<std::vector<std::string>>& references) {
  using nlohmann::ordered_json;
  if (hypotheses.size() != references.size())
    fail("indicgenbench chrF: {} predictions for {} references", hypotheses.size(), references.size());
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::vector<std::string>>>> groups;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const ordered_json reference =
        references[i].size() == 1 ? ordered_json::parse(references[i][0], nullptr, false) : ordered_json();
    if (!reference.is_object() || !reference.contains("target") || !reference.at("target").is_string() ||
        !reference.contains("group") || !reference.at("group").is_string())
      fail("indicgenbench chrF: doc {} needs one {{\"target\", \"group\"}} reference", i);
    auto& group = groups[reference.at("group").get<std::string>()];
    group.first.push_back(hypotheses[i]);
    group.second.push_back({reference.at("target").get<std::string>()});
  }
  if (groups.empty()) return 0.0;
  double total = 0.0;
  for (const auto& [name, group] : groups) total += corpus_chrf(group.first, group.second);
  return total / static_cast<double>(groups.size());
}

std::string chrf_signature(const ChrfOptions& options, int references_per_segment) {
  return fmt::format("nrefs:{}|case:{}|eff:{}|nc:{}|nw:{}|space:{}|version:2.x", references_per_segment,
                     options.lowercase ? "lc" : "mixed", options.eps_smoothing ? "no" : "yes", options.char_order,
                     options.word_order, options.whitespace ? "yes" : "no");
}

}  // namespace gemma::scorers
