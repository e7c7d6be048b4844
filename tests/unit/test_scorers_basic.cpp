// exact_match (lm-eval lm_eval/api/metrics.py::exact_match_hf_evaluate@4e7e0d47; lm-eval
// lm_eval/tasks/gsm8k/{gsm8k.yaml,gsm8k-cot.yaml}@4e7e0d47), multiple-choice scoring (lm-eval
// lm_eval/api/task.py::process_results@4e7e0d47) and stderrs (lm-eval lm_eval/api/metrics.py@4e7e0d47; lm-eval
// tests/@4e7e0d47) against vectors run through that code; the Python-string helpers they rely on.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "common/error.h"
#include "common/python_text.h"
#include "scorers/exact_match.h"
#include "scorers/multiple_choice.h"
#include "scorers/stderr.h"

using gemma::scorers::ExactMatchOptions;
using namespace gemma::scorers;

namespace {

ExactMatchOptions triviaqa_options() {
  ExactMatchOptions options;
  options.ignore_case = true;
  options.ignore_punctuation = true;
  return options;
}

ExactMatchOptions nq_options() {
  ExactMatchOptions options = triviaqa_options();
  options.regexes_to_ignore = {R"(\b(?:The |the |An |A |The |a |an ))"};
  return options;
}

ExactMatchOptions gsm8k_options() {
  ExactMatchOptions options;
  options.ignore_case = true;
  options.regexes_to_ignore = {",", R"(\$)", "(?s).*#### ", R"(\.$)"};
  return options;
}

}  // namespace

TEST_CASE("exact_match: TriviaQA and NQ normalisation") {
  const ExactMatch trivia(triviaqa_options());
  CHECK(trivia.score("Paris", {"paris"}) == 1.0);
  CHECK(trivia.score("The Beatles", {"beatles"}) == 0.0);  // no article removal
  CHECK(trivia.score("U.S.A.", {"usa"}) == 1.0);
  CHECK(trivia.score("new-york", {"new york"}) == 0.0);
  CHECK(trivia.score("Paris", {"London", "PARIS"}) == 1.0);  // any alias
  CHECK(trivia.score("Paris", {}) == 0.0);

  const ExactMatch nq(nq_options());
  CHECK(nq.score("The Beatles", {"Beatles"}) == 1.0);
  CHECK(nq.score("a dog", {"dog"}) == 1.0);
  CHECK(nq.score("Theatre", {"theatre"}) == 1.0);
  CHECK(nq.score("Ann Arbor", {"ann arbor"}) == 1.0);
}

TEST_CASE("exact_match: GSM8K references lose everything up to '#### '") {
  const ExactMatch gsm8k(gsm8k_options());
  CHECK(gsm8k.score("72", {"Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nIn total 48+24 = 72.\n#### 72"}) == 1.0);
  CHECK(gsm8k.score("$1,000.", {"#### 1000"}) == 1.0);
  CHECK(gsm8k.score("1,000.5", {"#### 1000.5"}) == 1.0);
  CHECK(gsm8k.score("$1,234.50.", {"#### 1234.5"}) == 0.0);  // trailing zero quirk
  CHECK(gsm8k.score("[invalid]", {"#### 7"}) == 0.0);
  CHECK(gsm8k.normalize("Line one\n#### 1,234") == "1234");
}

TEST_CASE("exact_match: no trimming, digits and punctuation only when asked") {
  CHECK(exact_match("72 ", {"72"}, {}) == 0.0);
  CHECK(exact_match("Paris", {"paris"}, {}) == 0.0);
  ExactMatchOptions numbers;
  numbers.ignore_numbers = true;
  CHECK(exact_match("abc123", {"a1b2c"}, numbers) == 1.0);
  ExactMatchOptions bad;
  bad.regexes_to_ignore = {"(?<=x)y"};
  CHECK_THROWS_WITH(ExactMatch{bad}, Catch::Contains("(?<=x)y"));
}

TEST_CASE("multiple choice: acc, acc_norm by characters, ties and bad golds") {
  // Toy vector: 5 and 18 characters; -3.0/5 = -0.6 < -4.5/18 = -0.25.
  const MultipleChoiceScores toy =
      score_multiple_choice({-3.0, -4.5}, {false, true}, {"Paris", "the city of London"}, 1);
  CHECK(toy.prediction == 0);
  CHECK(toy.prediction_norm == 1);
  CHECK(toy.acc == 0.0);
  CHECK(toy.acc_norm == 1.0);
  CHECK(toy.exact_match == 1.0);

  // Characters are code points: "été" is 3 characters but 5 bytes.
  const MultipleChoiceScores accented =
      score_multiple_choice({-3.0, -3.5}, {false, false}, {"\xC3\xA9t\xC3\xA9", "abcd"}, 0);
  CHECK(accented.prediction_norm == 1);   // -1.0 vs -0.875
  CHECK(accented.prediction_bytes == 0);  // -0.6 vs -0.875
  CHECK(accented.acc_bytes == 1.0);

  CHECK(score_multiple_choice({-2, -1, -3}, {false, false, false}, {"a", "b", "c"}, 1).acc == 1.0);
  CHECK(score_multiple_choice({-1, -1, -3}, {false, false, false}, {"a", "b", "c"}, 1).prediction == 0);

  const MultipleChoiceScores out_of_range = score_multiple_choice({-1, -2}, {true, true}, {"a", "b"}, 5);
  CHECK(out_of_range.acc == 0.0);
  CHECK(out_of_range.exact_match == 0.0);
  CHECK_THROWS_AS(score_multiple_choice({-1}, {true}, {"a", "b"}, 0), gemma::Error);

  // Several correct options (AGIEval's process_results_mcqa): the argmax counts when it is any of them.
  const std::vector<long> golds = {0, 2};
  CHECK(score_multiple_choice({-5, -4, -1}, {false, false, false}, {"a", "b", "c"}, golds).acc == 1.0);
  CHECK(score_multiple_choice({-5, -1, -4}, {false, false, false}, {"a", "b", "c"}, golds).acc == 0.0);
  CHECK(score_multiple_choice({-5, -1, -4}, {false, false, false}, {"a", "b", "c"}, std::vector<long>{}).acc == 0.0);
}

TEST_CASE("multiple choice: argmax follows numpy (first maximum, NaN wins)") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(argmax_first({1.0, 3.0, 3.0}) == 1);
  CHECK(argmax_first({1.0, nan, 5.0, nan}) == 1);
  CHECK(argmax_first({-std::numeric_limits<double>::infinity(), -5.0}) == 1);
  CHECK_THROWS_AS(argmax_first({}), gemma::Error);
}

TEST_CASE("stderr: mean and sample stderr") {
  const std::vector<double> values{1, 0, 1, 1, 0, 1, 1, 1};
  CHECK(mean(values) == 0.75);
  REQUIRE(mean_stderr(values).has_value());
  CHECK(*mean_stderr(values) == 0.16366341767699427);
  CHECK_FALSE(mean_stderr({1.0}).has_value());
  CHECK_THROWS_AS(mean({}), gemma::Error);
}

TEST_CASE("stderr: document-weighted group mean and pooled stderr") {
  const std::vector<double> a{1, 0, 1}, b{0, 0, 1, 1, 1};
  CHECK(*mean_stderr(a) == 0.33333333333333337);
  CHECK(*mean_stderr(b) == 0.24494897427831783);
  CHECK(weighted_mean({mean(a), mean(b)}, {3, 5}) == 0.625);
  // Values computed with lm-eval's pooled_sample_stderr in CPython.
  CHECK(*pooled_sample_stderr({*mean_stderr(a), *mean_stderr(b)}, {3, 5}) == 0.19720265943665388);
  CHECK_FALSE(pooled_sample_stderr({0.0, 0.0}, {1, 1}).has_value());
  CHECK_THROWS_AS(weighted_mean({0.5}, {1, 2}), gemma::Error);
}

TEST_CASE("python text helpers behave like Python str") {
  using namespace gemma;
  CHECK(code_point_length("the city of London") == 18);
  CHECK(code_point_length("\xC3\xA9t\xC3\xA9") == 3);
  CHECK(python_strip(" \t\xC2\xA0x y\xE3\x80\x80\n") == "x y");
  CHECK(python_strip("   ") == "");
  CHECK(python_lower("ÀÉÎ ŸŽ ĞİI") == "àéî ÿž ği\xCC\x87i");
  CHECK(python_lower("ΟΔΟΣ ΣΑ Σ") == "οδος σα σ");  // final sigma at a word end only
  CHECK(python_lower("ПРИВЕТ Ёж") == "привет ёж");
  CHECK(python_lower("bad \xFF byte") == "bad \xFF byte");
}
