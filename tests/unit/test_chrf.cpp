// sacrebleu chrF / chrF++ (scorers/chrf.h) against sacrebleu @f615c728: all 25 vectors of its test/test_chrf.py, its
// metrics/chrf.py run with the defaults lm-eval uses, a worked example, and a corpus + bootstrap-stderr vector (lm-eval
// lm_eval/api/metrics.py::bootstrap_stderr@4e7e0d47); plus code-point handling for non-Latin scripts.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/error.h"
#include "evals/bootstrap.h"
#include "scorers/chrf.h"

using namespace gemma::scorers;

namespace {

constexpr double kEpsilon = 1e-4;  // sacrebleu's own test tolerance (the upstream test vectors)

using Segments = std::vector<std::string>;

std::vector<std::vector<std::string>> one_reference_each(const Segments& references) {
  std::vector<std::vector<std::string>> out;
  for (const std::string& reference : references) out.push_back({reference});
  return out;
}

double corpus(const Segments& hypotheses, const Segments& references, const ChrfOptions& options = {}) {
  return corpus_chrf(hypotheses, one_reference_each(references), options);
}

ChrfOptions test_chrf_options(bool eps_smoothing) {  // test_chrf.py: beta=3 (char 6, word 0)
  ChrfOptions options;
  options.beta = 3;
  options.eps_smoothing = eps_smoothing;
  return options;
}

struct CorpusVector {
  Segments hypotheses, references;
  double expected;
};

const char* const kRiskHyp =
    " risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .";
const char* const kRiskRef =
    "risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists "
    ".";
const char* const kPaddedObamaHyp = " Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. ";
const char* const kObamaHyp = "Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.";
const char* const kObamaRef = "Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.";

}  // namespace

TEST_CASE("chrF: sacrebleu test_chrf (beta 3 with eps smoothing)", "[scorers][chrf]") {
  const std::vector<CorpusVector> vectors = {
      {{"abcdefg"}, {"hijklmnop"}, 0.0},
      {{"a"}, {"b"}, 0.0},
      {{""}, {"b"}, 0.0},
      {{""}, {"ref"}, 0.0},
      {{""}, {"reference"}, 0.0},
      {{"aa"}, {"ab"}, 8.3333},
      {{"a", "b"}, {"a", "c"}, 8.3333},
      {{"a"}, {"a"}, 16.6667},
      {{"a b c"}, {"a b c"}, 50.0},
      {{"a b c"}, {"abc"}, 50.0},
      {{kRiskHyp}, {kRiskRef}, 63.361730},
      {{kPaddedObamaHyp}, {kObamaRef}, 64.1302698},
      {{"Niemand hat die Absicht, eine Mauer zu errichten"},
       {"Niemand hat die Absicht, eine Mauer zu errichten"},
       100.0},
  };
  for (const CorpusVector& v : vectors) {
    INFO(v.hypotheses[0] << " | " << v.references[0]);
    CHECK(corpus(v.hypotheses, v.references, test_chrf_options(true)) == Approx(v.expected).margin(kEpsilon));
  }
}

TEST_CASE("chrF: sacrebleu test_chrf_eff_order (beta 3)", "[scorers][chrf]") {
  const std::vector<CorpusVector> vectors = {
      {{"a"}, {"a"}, 100.0}, {{""}, {"reference"}, 0.0},     {{"a b c"}, {"a b c"}, 100.0}, {{"a b c"}, {"abc"}, 100.0},
      {{""}, {"c"}, 0.0},    {{"a", "b"}, {"a", "c"}, 50.0}, {{"aa"}, {"ab"}, 25.0},
  };
  for (const CorpusVector& v : vectors) {
    INFO(v.hypotheses[0] << " | " << v.references[0]);
    CHECK(corpus(v.hypotheses, v.references, test_chrf_options(false)) == Approx(v.expected).margin(kEpsilon));
  }
}

TEST_CASE("chrF: sacrebleu test_chrf_keep_whitespace", "[scorers][chrf]") {
  ChrfOptions options = test_chrf_options(false);
  options.whitespace = true;
  CHECK(corpus({kObamaHyp}, {kObamaRef}, options) == Approx(67.3481606).margin(kEpsilon));
  const std::string risk_hyp = std::string(kRiskHyp).substr(1);  // this test's hypothesis has no leading space
  CHECK(corpus({risk_hyp}, {kRiskRef}, options) == Approx(65.2414427).margin(kEpsilon));
}

TEST_CASE("chrF: sacrebleu test_chrf_sentence_level (Czech with eps smoothing)", "[scorers][chrf]") {
  ChrfOptions eps;
  eps.eps_smoothing = true;
  struct Sentence {
    const char *hyp, *ref;
    // sacrebleu test/test_chrf.py@f615c728; sacrebleu sacrebleu/metrics/chrf.py@f615c728 (no eps)
    double with_eps, defaults;
  };
  const Sentence sentences[] = {
      {"Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
       "Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.", 39.14078509, 39.140817},
      {"Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
       "A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.", 31.22557079, 31.225641},
      {"Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
       "Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.", 57.15704367,
       57.157428},
  };
  for (const Sentence& s : sentences) {
    INFO(s.hyp);
    CHECK(sentence_chrf(s.hyp, {s.ref}, eps) == Approx(s.with_eps).margin(kEpsilon));
    CHECK(sentence_chrf(s.hyp, {s.ref}) == Approx(s.defaults).margin(kEpsilon));
  }
}

TEST_CASE("chrF: the defaults lm-eval uses", "[scorers][chrf]") {
  const std::string cat_hyp = "The cat sat on the mat.", cat_ref = "The cat is sitting on the mat.";
  CHECK(sentence_chrf(cat_hyp, {cat_ref}) == Approx(49.648517).margin(kEpsilon));
  CHECK(sentence_chrf(kObamaHyp, {kObamaRef}) == Approx(64.818124).margin(kEpsilon));
  CHECK(sentence_chrf("", {"reference"}) == 0.0);
  CHECK(sentence_chrf("abc", {"abc"}) == Approx(100.0).margin(kEpsilon));
  CHECK(sentence_chrf("aa", {"ab"}) == Approx(25.0).margin(kEpsilon));  // worked by hand
  // A corpus score pools the statistics: not the mean of the sentence scores (57.233320).
  CHECK(corpus({cat_hyp, kObamaHyp}, {cat_ref, kObamaRef}) == Approx(61.291116).margin(kEpsilon));
  ChrfOptions chrf_plus_plus;
  chrf_plus_plus.word_order = 2;
  CHECK(sentence_chrf(kObamaHyp, {kObamaRef}, chrf_plus_plus) == Approx(61.587232).margin(kEpsilon));
  CHECK(sentence_chrf(cat_hyp, {"A cat was sitting on a mat.", "The cat sat on the mat!"}) ==
        Approx(93.468377).margin(kEpsilon));
  CHECK(corpus({"a", "b"}, {"a", "c"}) == Approx(50.0).margin(kEpsilon));
  CHECK(corpus({"aa"}, {"ab"}) == Approx(25.0).margin(kEpsilon));
  CHECK(corpus({"a"}, {"a"}) == Approx(100.0).margin(kEpsilon));
  CHECK(corpus({kRiskHyp}, {kRiskRef}) == Approx(63.431654).margin(kEpsilon));
  CHECK(corpus({kPaddedObamaHyp}, {kObamaRef}) == Approx(64.818124).margin(kEpsilon));
}

TEST_CASE("chrF: a 4-item corpus and its bootstrap stderr", "[scorers][chrf][bootstrap]") {
  const Segments references = {"The cat sat on the mat.", kObamaRef, "It is raining today.", "I like green apples."};
  const Segments predictions = {"The cat is sitting on the mat.", kObamaHyp, "Today it rains.", "I like green apples."};
  CHECK(corpus(predictions, references) == Approx(64.05547892453941).margin(1e-9));
  const auto stderr_value = gemma::evals::bootstrap_stderr(4, 100, [&](const std::vector<size_t>& picked) {
    Segments p, r;
    for (size_t i : picked) {
      p.push_back(predictions[i]);
      r.push_back(references[i]);
    }
    return corpus(p, r);
  });
  REQUIRE(stderr_value.has_value());
  CHECK(*stderr_value == Approx(10.412333919817026).margin(1e-9));
}

TEST_CASE("chrF: n-grams over code points for non-Latin scripts", "[scorers][chrf][unicode]") {
  // "日本語" vs "日本人": 1-grams 2/3 match, 2-grams 1/2, 3-grams 0/1 (orders 4-6 have no n-grams).
  // Per-byte n-grams would give different counts (9 bytes each).
  const std::vector<long long> stats = chrf_segment_statistics("日本語", {"日本人"});
  REQUIRE(stats.size() == 18);
  CHECK(std::vector<long long>(stats.begin(), stats.begin() + 9) == std::vector<long long>{3, 3, 2, 2, 2, 1, 1, 1, 0});
  CHECK(std::vector<long long>(stats.begin() + 9, stats.end()) == std::vector<long long>(9, 0));
  // P = R = (2/3 + 1/2 + 0) / 3 = 7/18 -> F2 = 7/18.
  CHECK(sentence_chrf("日本語", {"日本人"}) == Approx(100.0 * 7 / 18).margin(1e-9));
  // Unicode whitespace (ideographic space U+3000, no-break space U+00A0) is removed like " ".
  CHECK(sentence_chrf("日本\u3000語", {"日本語"}) == Approx(100.0).margin(1e-9));
  CHECK(sentence_chrf("Привет,\u00a0мир", {"Привет, мир"}) == Approx(100.0).margin(1e-9));
  // One Devanagari character and one Hangul syllable are one code point each: 1-gram counts 3.
  const std::vector<long long> hindi = chrf_segment_statistics("नमस", {"नमस"});
  CHECK(hindi[0] == 3);
  CHECK(chrf_segment_statistics("한국어", {"한국"})[0] == 3);
}

TEST_CASE("chrF++: word n-grams split one punctuation mark off one side", "[scorers][chrf]") {
  ChrfOptions words_only;
  words_only.char_order = 0;
  words_only.word_order = 1;
  // "(hi)" -> "(hi", ")" (sacrebleu issue #124): matches "(hi" and ")" but not "hi".
  CHECK(chrf_segment_statistics("(hi)", {"x (hi)"}, words_only) == std::vector<long long>{2, 3, 2});
  CHECK(chrf_segment_statistics("(hi)", {"hi"}, words_only) == std::vector<long long>{2, 1, 0});
  // A one-character word stays whole, multibyte or not; ASCII punctuation only.
  CHECK(chrf_segment_statistics("é 。x", {"é 。x"}, words_only) == std::vector<long long>{2, 2, 2});
  words_only.word_order = 2;
  CHECK(chrf_segment_statistics("a b.", {"a b ."}, words_only) == std::vector<long long>{3, 3, 3, 2, 2, 2});
}

TEST_CASE("chrF: options, signature and bad input", "[scorers][chrf]") {
  ChrfOptions lower;
  lower.lowercase = true;
  CHECK(sentence_chrf("ABC Ünï", {"abc ünï"}, lower) == Approx(100.0));
  CHECK(sentence_chrf("ABC", {"abc"}) == 0.0);
  CHECK(chrf_signature() == "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x");
  ChrfOptions plus;
  plus.word_order = 2;
  CHECK(chrf_signature(plus) == "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.x");
  CHECK_THROWS_AS(corpus_chrf({"a"}, {}), gemma::Error);
  CHECK_THROWS_AS(corpus_chrf({}, {}), gemma::Error);
  CHECK_THROWS_AS(sentence_chrf("a", {}), gemma::Error);
  ChrfOptions no_orders;
  no_orders.char_order = 0;
  CHECK_THROWS_AS(sentence_chrf("a", {"a"}, no_orders), gemma::Error);
  CHECK_THROWS_AS(chrf_from_statistics({1, 2, 3}), gemma::Error);
}
