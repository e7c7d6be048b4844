// The vision benchmarks' scorers against their reference implementations: ANLS (lmms-eval
// lmms_eval/api/metrics.py::anls@75571cfe), VQA accuracy and the EvalAI normaliser (VQA
// PythonEvaluationTools/vqaEvaluation/vqaEval.py (HEAD)), ChartQA relaxed accuracy (lmms-eval
// lmms_eval/tasks/chartqa/utils.py::relaxed_correctness@75571cfe), CIDEr-D (pycocoevalcap cider/cider_scorer.py
// (HEAD)), the PTB caption tokenizer (pycocoevalcap tokenizer/ptbtokenizer.py) and pycocoevalcap's BLEU. Vectors
// marked [run] were
// produced by running transcriptions of the reference code (lmms-eval api/metrics.py::anls, tasks/chartqa/utils.py,
// _task_utils/vqa_eval_metric.py + tasks/{vqav2,textvqa}/utils.py, GT-Vision-Lab/VQA vqaEval.py, pycocoevalcap
// bleu_scorer.py / cider_scorer.py) under CPython 3.11.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "scorers/anls.h"
#include "scorers/bleu.h"
#include "scorers/cider.h"
#include "scorers/ptb_tokenizer.h"
#include "scorers/relaxed_accuracy.h"
#include "scorers/vqa_accuracy.h"

using namespace gemma::scorers;
using Strings = std::vector<std::string>;

namespace {

Strings repeat(const std::string& text, size_t n) { return Strings(n, text); }

Strings concat(Strings a, const Strings& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

// ---- ANLS ----

TEST_CASE("anls: lmms-eval's vectors", "[vision-scorers][anls]") {
  CHECK(levenshtein_distance("kitten", "sitting") == 3);
  CHECK(levenshtein_distance("", "abc") == 3);
  CHECK(levenshtein_distance("straße", "strasse") == 2);  // code points, not bytes
  CHECK(anls("cellular", {"Cellular"}) == Approx(1.0));
  CHECK(anls("ITC Ltd", {"ITC Limited"}) == Approx(0.6363636363636364).epsilon(1e-12));
  CHECK(anls("0.15", {"0.13"}) == Approx(0.75));
  CHECK(anls("john smith", {"Dr. John Smith", "John Smith"}) == Approx(1.0));
  CHECK(anls("xyz", {"abc"}) == 0.0);
  CHECK(anls("new york", {"  New  York "}) == Approx(1.0));
  CHECK(anls("st louis", {"st. louis"}) == Approx(0.8888888888888888).epsilon(1e-12));
  CHECK(anls("12-04-1990", {"12/04/1990"}) == Approx(0.8));
  CHECK(anls("five", {"5"}) == 0.0);
}

TEST_CASE("anls: lmms-eval's raw-length denominator vs the official normalised one [run]", "[vision-scorers][anls]") {
  CHECK(anls_variant_name(AnlsVariant::Lmms) == "lmms");
  CHECK(parse_anls_variant("official") == AnlsVariant::Official);
  CHECK_FALSE(parse_anls_variant("qwen").has_value());
  // Padding counts in lmms-eval's denominator only.
  CHECK(anls("ITC Ltd", {"  ITC Limited  "}, AnlsVariant::Lmms) == Approx(0.7333333333333334).epsilon(1e-12));
  CHECK(anls("ITC Ltd", {"  ITC Limited  "}, AnlsVariant::Official) == Approx(0.6363636363636364).epsilon(1e-12));
  CHECK(anls("ab cd  ", {"ab"}, AnlsVariant::Lmms) == Approx(0.5714285714285714).epsilon(1e-12));
  CHECK(anls("ab cd  ", {"ab"}, AnlsVariant::Official) == 0.0);
  // len(s.upper()): "ß" upper-cases to "SS".
  CHECK(anls("STRASSE", {"Straße"}) == Approx(0.7142857142857143).epsilon(1e-12));
  // Exactly at the threshold: 1 - 0.5 is kept (the scorer zeroes only scores below 0.5).
  CHECK(anls("abXY", {"abcd"}) == Approx(0.5));
  CHECK(anls("abXY", {"abcd"}, AnlsVariant::Official) == Approx(0.5));
  CHECK(anls("", {""}) == Approx(1.0));  // both empty: distance 0 over length 0
  CHECK_THROWS_AS(anls("x", {}), gemma::Error);
}

// ---- VQA accuracy ----

TEST_CASE("vqa: the EvalAI normaliser", "[vision-scorers][vqa]") {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"Two", "2"},
                                                                    {"The dog.", "dog"},
                                                                    {"a red ball", "red ball"},
                                                                    {"yes!", "yes"},
                                                                    {"3.5", "3.5"},
                                                                    {"1,000", "1000"},
                                                                    {"it's", "it 's"},
                                                                    {"dont", "don't"},
                                                                    {"Ten dogs", "10 dogs"},
                                                                    {"none", "0"},
                                                                    {"t-shirt", "t shirt"},
                                                                    {"t - shirt", "t shirt"},
                                                                    {"hello, world", "hello world"},
                                                                    {"1,000 cats", "1000 cats"},
                                                                    {"U.S.", "us"},
                                                                    {"No, it isn't.", "no it isn't"},
                                                                    // [run]
                                                                    {"What's the man's name?", "what 's man 's name"},
                                                                    {"Im here, aint it", "im here ain't it"}};
  for (const auto& [input, expected] : vectors) {
    INFO(input);
    CHECK(vqa_normalize_answer(input) == expected);
  }
  // The comma rule: lmms-eval's "(?<=\d)(\,)+(?=\d)" also sees "1,,000"; the official one does not,
  // so there the punctuation is replaced by spaces instead of deleted [run].
  CHECK(vqa_process_punctuation("1,,000 a-b", CommaRule::Lmms) == "1000 ab");
  CHECK(vqa_process_punctuation("1,,000 a-b", CommaRule::Official) == "1  000 a b");
  // re.sub's count is re.UNICODE = 32: only the first 32 periods go.
  CHECK(vqa_process_punctuation(std::string(40, '.')) == std::string(8, '.'));
  CHECK(vqa_process_digit_article("The  ONE\tdog") == "1 dog");
}

TEST_CASE("vqa: accuracy over 10 answers, three variants", "[vision-scorers][vqa]") {
  struct Vector {
    Strings answers;
    std::string prediction;
    double lmms_vqav2, official, textvqa;
  };
  const std::vector<Vector> vectors = {
      {repeat("2", 10), "2", 1.0, 1.0, 1.0},
      {repeat("2", 10), "two", 1.0, 0.0, 1.0},
      {concat(repeat("2", 3), repeat("3", 7)), "2", 0.9, 0.9, 0.9},
      {concat(repeat("2", 2), repeat("3", 8)), "2", 0.6, 0.6, 0.6},
      {concat(repeat("2", 1), repeat("3", 9)), "2", 0.3, 0.3, 0.3},
      {concat(repeat("2", 4), repeat("3", 6)), "2", 1.0, 1.0, 1.0},
      {repeat("yes", 10), "Yes", 1.0, 0.0, 1.0},
      {repeat("yes", 10), "yes.", 1.0, 0.0, 1.0},
      {concat(repeat("red", 9), {"dark red"}), "red", 1.0, 1.0, 1.0},
      {concat(repeat("2", 9), {"two"}), "2", 1.0, 1.0, 1.0},
      // [run] lmms-eval's vqav2 leaves unanimous answers un-normalised: 10 x "Yes" does not accept
      // "yes" (the prediction is normalised to "yes"); textvqa normalises both sides.
      {repeat("Yes", 10), "yes", 0.0, 0.0, 1.0},
      {concat(repeat("Yes", 9), {"yes"}), "Yes", 1.0, 1.0, 1.0},
      {{"2", "2", "two"}, "two", 2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0},
  };
  for (const auto& v : vectors) {
    INFO(v.prediction << " vs " << v.answers.size() << " answers, first " << v.answers.front());
    CHECK(vqa_accuracy(v.prediction, v.answers, VqaVariant::LmmsVqav2) == Approx(v.lmms_vqav2).margin(1e-12));
    CHECK(vqa_accuracy(v.prediction, v.answers, VqaVariant::Official) == Approx(v.official).margin(1e-12));
    CHECK(vqa_accuracy(v.prediction, v.answers, VqaVariant::LmmsTextvqa) == Approx(v.textvqa).margin(1e-12));
  }
  CHECK(vqa_accuracy("two", repeat("2", 10)) == 1.0);  // the default is lmms-eval's vqav2
  CHECK(vqa_variant_name(VqaVariant::LmmsVqav2) == "lmms_vqav2");
  CHECK(parse_vqa_variant("lmms_okvqa") == VqaVariant::LmmsTextvqa);
  CHECK(parse_vqa_variant("official") == VqaVariant::Official);
  CHECK_FALSE(parse_vqa_variant("evalai").has_value());
  CHECK_THROWS_AS(vqa_accuracy("2", {}), gemma::Error);
}

TEST_CASE("vqa: lmms-eval's vqav2 process_results on comma numbers, hyphens and possessives", "[vision-scorers][vqa]") {
  // lmms-eval tasks/vqav2/utils.py vqav2_process_results, stepped through by hand:
  //   resAns = EvalAIAnswerProcessor()(prediction): lower(); delete "," and "?"; "'s" -> " 's"; strip;
  //            "\n"/"\t" -> " "; strip; process_punctuation; process_digit_article.
  //   answers: "\n"/"\t" -> " ", strip. Only if len(set(answers)) > 1: every answer AND resAns (a second
  //            time) go through process_punctuation + process_digit_article.
  //   accuracy = mean over answer i of min(1, #{j != i : answer_j == resAns} / 3).
  //   process_punctuation(t): each listed mark ("-" among them; "'" is not) is deleted when t has it
  //   next to a space or t has a digit-comma-digit (COMMA_STRIP searched in t itself), else replaced by
  //   a space.
  // "1,500 t-shirts" -> word_tokenize "1500 t-shirts" (the comma is gone before process_punctuation,
  // so COMMA_STRIP finds nothing) -> "-" replaced by a space: resAns = "1500 t shirts".
  // "man's hat" -> word_tokenize "man 's hat"; nothing else changes it: resAns = "man 's hat".
  struct Vector {
    std::string prediction;
    Strings answers;
    double expected;
  };
  const std::vector<Vector> vectors = {
      // Mixed answers: "1500 t-shirts" -> "1500 t shirts" = resAns (3 of them), "1500" x 7.
      // i among the 3: 2 others match -> 2/3; i among the 7: 3 match -> 1. (3 * 2/3 + 7) / 10 = 0.9.
      {"1,500 t-shirts", concat(repeat("1500 t-shirts", 3), repeat("1500", 7)), 0.9},
      // Mixed answers: "1,500 t-shirts" has a digit-comma-digit, so every mark is deleted:
      // "1500 tshirts" != "1500 t shirts" -> 0.
      {"1,500 t-shirts", concat(repeat("1,500 t-shirts", 3), repeat("1500", 7)), 0.0},
      // Unanimous answers are only stripped: "1500 t shirts" matches all 10 -> 1 ...
      {"1,500 t-shirts", repeat("1500 t shirts", 10), 1.0},
      // ... and "1,500 t-shirts" (not normalised) matches none -> 0.
      {"1,500 t-shirts", repeat("1,500 t-shirts", 10), 0.0},
      // Mixed "1500" x 3 and "1,500" x 7: "1,500" -> (comma rule) "1500"; all 10 equal resAns "1500" -> 1.
      {"1,500", concat(repeat("1500", 3), repeat("1,500", 7)), 1.0},
      {"1,500", repeat("1,500", 10), 0.0},  // unanimous, not normalised: "1,500" != "1500"
      // The possessive: resAns "man 's hat" never equals an answer "man's hat", which
      // process_punctuation leaves alone ("'" is not a listed mark), unanimous or not -> 0.
      {"man's hat", repeat("man's hat", 10), 0.0},
      {"man's hat", concat(repeat("man's hat", 3), repeat("hat", 7)), 0.0},
      // An answer written "man 's hat" matches: 10 of 10 -> 1; 3 of 10 -> 0.9.
      {"man's hat", repeat("man 's hat", 10), 1.0},
      {"Man's Hat?", concat(repeat("man 's hat", 3), repeat("hat", 7)), 0.9},
      // 2 of 10 matching, at positions 3 and 4: gtAcc = [2/3, 2/3, 2/3, 1/3, 1/3, 2/3 x 5].
      // statistics.mean sums exactly: 8 * fl(2/3) + 2 * fl(1/3) = 18 * 6004799503160661 * 2^-54,
      // = 6 - 6 * 2^-54 (fl(1/3) = 1/3 - 2^-54 / 3); / 10 = 0.6 - 0.6 * 2^-54, whose nearest double is
      // fl(0.6) = 0.6 - 0.4 * 2^-54 (the next one down is 0.6 - 2.4 * 2^-54).
      // Summing the doubles left to right (vqaEval.py's sum) gives 0.6000000000000001 instead.
      {"1,500 t-shirts",
       {"1500", "1500", "1500", "1500 t-shirts", "1500 t-shirts", "1500", "1500", "1500", "1500", "1500"},
       0.6},
      {"man's hat", {"hat", "hat", "hat", "man 's hat", "man 's hat", "hat", "hat", "hat", "hat", "hat"}, 0.6},
  };
  Catch::StringMaker<double>::precision = 17;  // a failure shows the last bits
  for (const auto& v : vectors) {
    INFO(v.prediction << " vs " << v.answers.front() << " x"
                      << std::count(v.answers.begin(), v.answers.end(), v.answers.front()));
    // lmms-eval's value exactly, to the last bit.
    CHECK(vqa_accuracy(v.prediction, v.answers, VqaVariant::LmmsVqav2) == v.expected);
  }
  // lmms-eval's textvqa/ok_vqa process_results average with statistics.mean as well: the same exact 0.6.
  CHECK(vqa_accuracy("hat", {"sign", "sign", "sign", "hat", "hat", "sign", "sign", "sign", "sign", "sign"},
                     VqaVariant::LmmsTextvqa) == 0.6);
  // The official variant keeps vqaEval.py's float(sum(gtAcc)) / len(gtAcc), summed in order as CPython
  // 3.11's sum() does (3.12's compensated float sum() would give 0.6).
  CHECK(vqa_accuracy("man's hat", {"hat", "hat", "hat", "man's hat", "man's hat", "hat", "hat", "hat", "hat", "hat"},
                     VqaVariant::Official) == 0.6000000000000001);
}

// ---- ChartQA relaxed accuracy ----

TEST_CASE("relaxed accuracy: lmms-eval's vectors", "[vision-scorers][relaxed]") {
  const std::vector<std::tuple<std::string, std::string, bool>> vectors = {{"52", "50", true},
                                                                           {"52.6", "50", false},
                                                                           {"47.5", "50", true},
                                                                           {"47.4", "50", false},
                                                                           {"12%", "0.12", true},
                                                                           {"0.12", "12%", true},
                                                                           {"Yes", "yes", true},
                                                                           {"0", "0", true},
                                                                           {"0.0", "0", false},
                                                                           {" 5", "5", true},
                                                                           {"5.", "5", true},
                                                                           {"1,000", "1000", false},
                                                                           {"1e3", "1000", true},
                                                                           {"nan", "5", false},
                                                                           // [run]
                                                                           {"5%%", "0.05", true},
                                                                           {"5 ", "5", true},
                                                                           {"12% ", "0.12", false},
                                                                           {"١٢", "12", true},
                                                                           {"inf", "inf", false},
                                                                           {"Paris", "paris ", false}};
  for (const auto& [prediction, target, expected] : vectors) {
    INFO(prediction << " vs " << target);
    CHECK(relaxed_correctness(prediction, target) == expected);
  }
  CHECK(relaxed_accuracy("51", {"50"}) == 1.0);
  CHECK(relaxed_accuracy("60", {"40", "59"}) == 1.0);
  CHECK_THROWS_AS(relaxed_accuracy("1", {}), gemma::Error);
}

TEST_CASE("relaxed accuracy: Python's float() grammar", "[vision-scorers][relaxed]") {
  CHECK(python_float("1_000") == 1000.0);
  CHECK(python_float(" -2.5e-1\n") == -0.25);
  CHECK(python_float(".5") == 0.5);
  CHECK(python_float("5.") == 5.0);
  CHECK(python_float("-Infinity") == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(*python_float("NaN")));
  CHECK(python_float("1e400") == std::numeric_limits<double>::infinity());
  for (const char* bad : {"", " ", "1__0", "_1", "1_", "1._5", "0x10", "e5", "1.5e", "1,000", "5%", "--1", "."}) {
    INFO(bad);
    CHECK_FALSE(python_float(bad).has_value());
  }
  CHECK(chartqa_to_float("12%") == Approx(0.12));
  CHECK_FALSE(chartqa_to_float("%").has_value());
  CHECK(std::string(kRelaxedAccuracyVariant) == "lmms");
}

// ---- PTB tokenizer ----

TEST_CASE("ptb tokenizer: PTBLexer tokens", "[vision-scorers][ptb]") {
  using T = Strings;
  CHECK(ptb_lexer_tokens("A man (riding) a horse, on the beach.") ==
        T{"A", "man", "-LRB-", "riding", "-RRB-", "a", "horse", ",", "on", "the", "beach", "."});
  // Clitics split off; "cannot" is two words; hyphenated words stay whole.
  CHECK(ptb_lexer_tokens("I don't know; it's a t-shirt") ==
        T{"I", "do", "n't", "know", ";", "it", "'s", "a", "t-shirt"});
  CHECK(ptb_lexer_tokens("can't won't cannot") == T{"ca", "n't", "wo", "n't", "can", "not"});
  CHECK(ptb_lexer_tokens("the dogs' toys o'clock") == T{"the", "dogs", "'", "toys", "o'clock"});
  // Quotes become `` and '', dashes --, ellipses ..., slashes are escaped.
  CHECK(ptb_lexer_tokens("He said \"hello\" -- ok... black/white") ==
        T{"He", "said", "``", "hello", "''", "--", "ok", "...", "black\\/white"});
  // Numbers keep their point and commas; abbreviations and acronyms keep their period.
  CHECK(ptb_lexer_tokens("3.5 1,000 Mr. Smith U.S. st. louis") ==
        T{"3.5", "1,000", "Mr.", "Smith", "U.S.", "st.", "louis"});
  // A fraction with its whole part is one token (U+00A0 inside).
  CHECK(ptb_lexer_tokens("5 1/2 cups") == T{"5\u00A01\\/2", "cups"});
  // "etc." before a capitalised word ends a sentence: the period is repeated as a token.
  CHECK(ptb_lexer_tokens("dogs, cats etc. The end") == T{"dogs", ",", "cats", "etc.", ".", "The", "end"});
  CHECK(ptb_lexer_tokens("wow!! really?!") == T{"wow", "!!", "really", "?!"});
  CHECK(ptb_lexer_tokens("") == T{});
}

TEST_CASE("ptb tokenizer: pycocoevalcap captions", "[vision-scorers][ptb]") {
  CHECK(ptb_tokenize("A man riding a horse on the beach.") == "a man riding a horse on the beach");
  CHECK(ptb_tokenize("Two dogs, playing in the snow!") == "two dogs playing in the snow");
  CHECK(ptb_tokenize("The dog's ball isn't red.") == "the dog 's ball is n't red");
  CHECK(ptb_tokenize("A \"fancy\" cake - with candles...") == "a fancy cake with candles");
  // Lower-casing follows tokenisation, so "(" is "-lrb-", which pycocoevalcap's list misses.
  CHECK(ptb_tokenize("A sign (red) above") == "a sign -lrb- red -rrb- above");
  CHECK(ptb_tokenize("...!") == "");
  // Captions are lexed as one stream: a newline inside a caption is a space, not a new caption.
  const Strings captions = {"First line\nstill first.", "Second, caption"};
  CHECK(ptb_tokenize_captions(captions) == Strings{"first line still first", "second caption"});
  CHECK(ptb_punctuation_tokens().size() == 17);
}

// [shared-data]: needs ../shared/data and fails without it (deselect with "~[shared-data]").
TEST_CASE("ptb tokenizer: the coco-caption demo's candidate captions", "[vision-scorers][ptb][shared-data]") {
  // The demo's BLEU statistics give the candidate side after PTB tokenisation: testlen 9893,
  // guess [9893, 8893, 7893, 6893]. The reference side needs captions_val2014.json (absent).
  const std::filesystem::path file =
      std::filesystem::path(GEMMA_TEST_SHARED_DIR) / "data/coco_captions/captions_val2014_fakecap_results.json";
  if (!std::filesystem::exists(file)) FAIL("missing shared data: " << file.string());
  std::ifstream in(file);
  const auto results = nlohmann::json::parse(in);
  Strings captions;
  for (const auto& r : results) captions.push_back(r["caption"].get<std::string>());
  REQUIRE(captions.size() == 1000);
  const Strings tokenized = ptb_tokenize_captions(captions);
  std::array<size_t, 4> guess{};
  for (const std::string& caption : tokenized) {
    std::istringstream words(caption);
    size_t n = 0;
    for (std::string w; words >> w;) ++n;
    for (size_t k = 0; k < 4; ++k) guess[k] += n > k ? n - k : 0;
  }
  CHECK(guess == std::array<size_t, 4>{9893, 8893, 7893, 6893});
}

// ---- CIDEr-D ----

TEST_CASE("cider-d: pycocoevalcap's vectors", "[vision-scorers][cider]") {
  const std::vector<Strings> gts_a = {
      {"a man riding a horse on a beach", "a person rides a horse along the shore", "man on horseback at the beach"},
      {"two dogs playing in the snow", "a couple of dogs run through snow", "dogs playing outside in winter snow"}};
  const Strings res_a = {"a man riding a horse on the beach", "two dogs playing in the snow"};
  const CiderResult a = cider_d(res_a, gts_a);
  CHECK(a.score == Approx(3.8923709188715745).epsilon(1e-12));
  REQUIRE(a.per_image.size() == 2);
  CHECK(a.per_image[0] == Approx(3.37606795).margin(1e-8));
  CHECK(a.per_image[1] == Approx(4.40867389).margin(1e-8));

  // B: one more image changes the idf of every image.
  auto gts_b = gts_a;
  gts_b.push_back({"a plate of food with broccoli and rice", "a meal of rice chicken and broccoli on a plate",
                   "broccoli and rice on a white plate"});
  auto res_b = res_a;
  res_b.push_back("a cat sitting on a couch");
  const CiderResult b = cider_d(res_b, gts_b);
  CHECK(b.score == Approx(2.631256073869306).epsilon(1e-12));
  CHECK(b.per_image[0] == Approx(3.38495344).margin(1e-8));
  CHECK(b.per_image[1] == Approx(4.42047419).margin(1e-8));
  CHECK(b.per_image[2] == Approx(0.08834059).margin(1e-8));

  // C: one image alone scores 0 (log 1 = 0).
  CHECK(cider_d({res_a[0]}, {gts_a[0]}).score == 0.0);

  // D: hand-checkable, 10 * mean([1.75, 1.6667, 1.5, 1]) / 2 per image.
  const CiderResult d = cider_d({"a b c d", "x y z w"}, {{"a b c d", "a b c e"}, {"x y z w", "x y z q"}});
  CHECK(d.score == Approx(7.395833333333334).epsilon(1e-12));
  CHECK(d.per_image[0] == Approx(7.395833333333334).epsilon(1e-12));
}

TEST_CASE("cider-d: edge cases and errors", "[vision-scorers][cider]") {
  // An empty candidate scores 0 (zero norms are skipped, not divided by).
  const CiderResult empty = cider_d({"", "x y z w"}, {{"a b c d"}, {"x y z w"}});
  CHECK(empty.per_image[0] == 0.0);
  CHECK(std::isfinite(empty.score));
  CHECK_THROWS_AS(cider_d({"a"}, {}), gemma::Error);
  CHECK_THROWS_AS(cider_d({}, {}), gemma::Error);
  CHECK_THROWS_AS(cider_d({"a"}, {{}}), gemma::Error);
}

// ---- BLEU (pycocoevalcap) ----

TEST_CASE("bleu: pycocoevalcap's corpus BLEU with the closest reference length [run]", "[vision-scorers][bleu]") {
  const std::vector<Strings> gts = {
      {"a man riding a horse on a beach", "a person rides a horse along the shore", "man on horseback at the beach"},
      {"two dogs playing in the snow", "a couple of dogs run through snow", "dogs playing outside in winter snow"}};
  const Strings res = {"a man riding a horse on the beach", "two dogs playing in the snow"};
  const CocoBleuResult a = coco_bleu(res, gts);
  CHECK(a.bleu[0] == Approx(0.9999999998571432).epsilon(1e-12));
  CHECK(a.bleu[1] == Approx(0.9574271076138642).epsilon(1e-12));
  CHECK(a.bleu[2] == Approx(0.9017797428574212).epsilon(1e-12));
  CHECK(a.bleu[3] == Approx(0.8611735298200948).epsilon(1e-12));
  CHECK(a.testlen == 14);
  CHECK(a.reflen == 14);
  CHECK(a.guess == std::array<double, 4>{14, 12, 10, 8});
  CHECK(a.correct == std::array<double, 4>{14, 11, 8, 6});

  // Closest length with a tie (4 words against references of 3 and 5) takes the shorter; the
  // brevity penalty is corpus-level.
  const std::vector<Strings> tie_gts = {{"a b c", "a b c d e"}, {"x y z w"}};
  const Strings tie_res = {"a b c d", "x y"};
  const CocoBleuResult closest = coco_bleu(tie_res, tie_gts);
  CHECK(closest.reflen == 7);
  CHECK(closest.bleu[3] == Approx(0.8464817243439284).epsilon(1e-12));
  CHECK(coco_bleu(tie_res, tie_gts, BleuRefLength::Average).bleu[0] == Approx(0.7165313103349458).epsilon(1e-12));
  CHECK(coco_bleu(tie_res, tie_gts, BleuRefLength::Shortest).reflen == 7);
  // A perfect match is 1 up to pycocoevalcap's tiny/small guards.
  CHECK(coco_bleu({"a b c d e"}, {{"a b c d e"}}).bleu[3] == Approx(0.9999999994791672).epsilon(1e-12));
  CHECK(bleu_ref_length_name(BleuRefLength::Closest) == "closest");
  CHECK(parse_bleu_ref_length("average") == BleuRefLength::Average);
  CHECK_THROWS_AS(coco_bleu({"a"}, {{}}), gemma::Error);
  CHECK_THROWS_AS(coco_bleu({"a", "b"}, {{"a"}}), gemma::Error);
}
