// scorers/mmmu.h against the official MMMU eval_utils.py behaviour (parse_multi_choice_response,
// parse_open_response, eval_open), with the vectors the mmmu_val task test also runs end to end.
#include <catch2/catch.hpp>

#include "scorers/mmmu.h"

using namespace gemma::scorers::mmmu;

TEST_CASE("MMMU multiple-choice responses: bracketed, spaced and dotted letters, option text, the last mention",
          "[mmmu]") {
  const std::vector<std::string> options = {"cat", "dog", "bird", "fish"};
  CHECK(parse_multiple_choice_response("B", options) == "B");
  CHECK(parse_multiple_choice_response("(C)", options) == "C");
  CHECK(parse_multiple_choice_response("The answer is D.", options) == "D");
  CHECK(parse_multiple_choice_response("A. cat", options) == "A");
  CHECK(parse_multiple_choice_response("I believe the correct option is dog because it barks a lot", options) == "B");
  CHECK(parse_multiple_choice_response("B or C, probably C", options) == "C");
  CHECK(parse_multiple_choice_response("no idea", options).empty());  // never a random letter
  CHECK(parse_multiple_choice_response("dog", options).empty());      // option text only past 5 words
}

TEST_CASE("MMMU open responses: numbers rounded to 2 places, commas, phrases contained", "[mmmu]") {
  CHECK(open_response_matches("The answer is 3.14", "3.14"));
  CHECK(open_response_matches("x = 5.0", "5"));
  CHECK(open_response_matches("It is in paris, france", "Paris"));
  CHECK(open_response_matches("so the total is 1,234 dollars", "1234"));
  CHECK_FALSE(open_response_matches("The answer is 8", "7"));
}

TEST_CASE("MMMU accuracy: options given = multiple choice, none = open", "[mmmu]") {
  CHECK(mmmu_accuracy("(B)", "B", {"cat", "dog"}) == 1.0);
  CHECK(mmmu_accuracy("(A)", "B", {"cat", "dog"}) == 0.0);
  CHECK(mmmu_accuracy("B", "B", {}) == 1.0);  // open: "b" contains "b"
  CHECK(mmmu_accuracy("The answer is 8", "7", {}) == 0.0);
}
