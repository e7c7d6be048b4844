// Minerva MATH answer handling (scorers/math_answer.h) against the vectors of spec §4.9 and the
// behaviour of lm-eval's tasks/minerva_math/utils.py and hendrycks/math math_equivalence.py.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "scorers/math_answer.h"

using namespace gemma::scorers;

namespace {

// get_unnormalized_answer with its "[invalidanswer]" fallback, then normalize_final_answer.
std::string extracted(const std::string& generation) {
  const auto answer = minerva_unnormalized_answer(generation);
  return answer ? normalize_final_answer(*answer) : kInvalidMathAnswer;
}

}  // namespace

TEST_CASE("math answer: spec 4.9 generation vectors", "[scorers][math]") {
  CHECK(minerva_unnormalized_answer("So x=5.\nFinal Answer: The final answer is $5$. I hope it is correct.") == "$5$");
  CHECK(extracted("So x=5.\nFinal Answer: The final answer is $5$. I hope it is correct.") == "5");
  CHECK(extracted("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.") == "\\frac{1}{2}");
  CHECK(extracted("Final Answer: The final answer is $\\dfrac{3}{4}$. I hope it is correct.") == "\\dfrac{3}{4}");
  CHECK(extracted("Final Answer: The final answer is 10,000 dollars. I hope it is correct.") == "10000");
  CHECK(extracted("Final Answer: The final answer is $x = 7$. I hope it is correct.") == "7");
  // The appended "I hope it is correct." has no ". " before it: no match.
  CHECK_FALSE(minerva_unnormalized_answer("Final Answer: The final answer is \\boxed{12}"));
  CHECK(extracted("Final Answer: The final answer is \\boxed{12}") == "[invalidanswer]");
  CHECK(extracted("The answer is 5.") == "[invalidanswer]");
}

TEST_CASE("math answer: the sentinel sentence and its wildcards", "[scorers][math]") {
  // Generation cut before "I hope": the appended sentinel completes the sentence.
  CHECK(minerva_unnormalized_answer("Final Answer: The final answer is $3$. ") == "$3$");
  // (.*?) is lazy and both dots are wildcards: the first possible end wins.
  CHECK(minerva_unnormalized_answer("Final Answer: The final answer is 4x I hope it is correct!") == "4");
  // "." does not match a newline.
  CHECK_FALSE(minerva_unnormalized_answer("Final Answer: The final answer is 4\n. I hope it is correct."));
  // A later sentence on its own line is found when the first cannot match.
  CHECK(minerva_unnormalized_answer(
            "Final Answer: The final answer is\nFinal Answer: The final answer is $9$. I hope it is correct.") ==
        "$9$");
}

TEST_CASE("math answer: spec 4.9 normalize_final_answer vectors", "[scorers][math]") {
  CHECK(normalize_final_answer("\\text{(A)}") == "(A)");
  CHECK(normalize_final_answer("90^\\circ") == "90");
  CHECK(normalize_final_answer("\\$18.90") == "18.90");
  CHECK(normalize_final_answer("5 \\text{ cm}") == "5");
  CHECK(normalize_final_answer("\\frac12") == "\\frac{1}{2}");
  CHECK(normalize_final_answer("\\sqrt2") == "\\sqrt{2}");
  CHECK(normalize_final_answer("(1,2)") == "(1,2)");
  CHECK(normalize_final_answer("0.5") == "0.5");
  const auto boxed = last_boxed_only_string("Thus $x = \\boxed{\\frac{2}{3}}$.");
  REQUIRE(boxed);
  CHECK(*boxed == "\\boxed{\\frac{2}{3}}");
  CHECK(normalize_final_answer(remove_boxed(*boxed).value()) == "\\frac{2}{3}");
}

TEST_CASE("math answer: normalize_final_answer regex passes", "[scorers][math]") {
  // Text before the last "=" goes; "a "/"an " go before spaces do (the Python's order).
  CHECK(normalize_final_answer("y = a x") == "x");
  CHECK(normalize_final_answer("1,000,000") == "1000000");
  CHECK(normalize_final_answer("(1,000)") == "(1,000)");  // not all digits: commas stay
  // Only the first $...$ span of a line survives.
  CHECK(normalize_final_answer("is $4$ or $5$") == "4");
  CHECK(normalize_final_answer("\\textbf{B}") == "B");
  CHECK(normalize_final_answer("\\overline{AB}") == "AB");
  // \boxed{...} is greedy to the line's last "}".
  CHECK(normalize_final_answer("\\boxed{\\frac{1}{2}}") == "\\frac{1}{2}");
  CHECK(normalize_final_answer("\\fracab") == "\\frac{a}{b}");
  CHECK(normalize_final_answer("\\frac{a}{b}") == "\\frac{a}{b}");
  CHECK(normalize_final_answer("\\sqrt{3}") == "\\sqrt{3}");
  CHECK(normalize_final_answer("4\\text{ inches}") == "4");
  CHECK(normalize_final_answer("5\\mbox{ ft}") == "5");
  CHECK(normalize_final_answer("[invalidanswer]") == "[invalidanswer]");
}

TEST_CASE("math answer: last_boxed_only_string and remove_boxed", "[scorers][math]") {
  CHECK(last_boxed_only_string("\\boxed{1} then \\boxed{2}").value() == "\\boxed{2}");
  CHECK(last_boxed_only_string("so \\boxed 7$ and more").value() == "\\boxed 7");
  CHECK(last_boxed_only_string("\\fbox{3}").value() == "\\fbox{3}");
  CHECK_FALSE(last_boxed_only_string("\\boxed{never closed"));
  CHECK_FALSE(last_boxed_only_string("no box"));
  CHECK(remove_boxed("\\boxed{x^{2}}").value() == "x^{2}");
  CHECK(remove_boxed("\\boxed 7").value() == "7");
  CHECK_FALSE(remove_boxed("\\fbox{3}"));  // the Python's assert
}

TEST_CASE("math answer: Hendrycks strip_string and is_equiv", "[scorers][math]") {
  CHECK(hendrycks_strip_string("\\dfrac{1}{2}").value() == "\\frac{1}{2}");
  CHECK(hendrycks_strip_string("0.5").value() == "\\frac{1}{2}");
  CHECK(hendrycks_strip_string("1/2").value() == "\\frac{1}{2}");
  CHECK(hendrycks_strip_string("01/2").value() == "01/2");  // int("01") prints as "1": not a/b
  CHECK(hendrycks_strip_string("\\left(1,2\\right)").value() == "(1,2)");
  CHECK(hendrycks_strip_string("x = 3").value() == "3");
  CHECK(hendrycks_strip_string("10\\%").value() == "10");
  CHECK(hendrycks_strip_string(".25").value() == "0.25");
  CHECK(hendrycks_strip_string(".5").value() == "\\frac{1}{2}");  // "0.5" first, then the half rule
  CHECK(hendrycks_strip_string("\\sqrt2").value() == "\\sqrt{2}");
  CHECK(hendrycks_strip_string("\\frac12").value() == "\\frac{1}{2}");
  CHECK(hendrycks_strip_string("5\\text{ cm}").value() == "5");
  CHECK_FALSE(hendrycks_strip_string("a\\text{ b}\\text{ c}"));  // the units assert
  CHECK_FALSE(hendrycks_strip_string("\\frac"));                 // substr[0] on ""
  CHECK(hendrycks_is_equiv("\\frac", "\\frac"));                 // falls back to ==
  CHECK(hendrycks_is_equiv("\\dfrac{3}{4}", "\\frac34"));
  CHECK_FALSE(hendrycks_is_equiv("3", "4"));
}

TEST_CASE("math answer: the minerva equivalence without sympy", "[scorers][math]") {
  CHECK(minerva_string_equivalent("5", "5"));
  CHECK(minerva_string_equivalent("\\dfrac{3}{4}", "\\frac{3}{4}"));
  CHECK(minerva_string_equivalent("0.5", "\\frac{1}{2}"));
  CHECK(minerva_string_equivalent("0.50", "\\frac{1}{2}"));
  CHECK(minerva_string_equivalent("-\\frac{2}{3}", "-\\frac{4}{6}"));
  CHECK(minerva_string_equivalent("2.0", "2"));
  CHECK(minerva_string_equivalent("3/4", "0.75"));
  CHECK_FALSE(minerva_string_equivalent("0.3", "\\frac{1}{3}"));
  CHECK_FALSE(minerva_string_equivalent("[invalidanswer]", "[invalidanswer]"));
  CHECK_FALSE(minerva_string_equivalent("(1,2)", "(2,1)"));
}
