// Minerva MATH answer handling (scorers/math_answer.h) against the vectors of lm-eval
// lm_eval/tasks/minerva_math/utils.py@4e7e0d47 and the behaviour of lm-eval's tasks/minerva_math/utils.py and
// hendrycks/math math_equivalence.py.
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "scorers/latex_sympy_equivalence.h"
#include "scorers/math_answer.h"

using namespace gemma::scorers;

namespace {

// get_unnormalized_answer with its "[invalidanswer]" fallback, then normalize_final_answer.
std::string extracted(const std::string& generation) {
  const auto answer = minerva_unnormalized_answer(generation);
  return answer ? normalize_final_answer(*answer) : kInvalidMathAnswer;
}

}  // namespace

TEST_CASE("math answer: lm-eval's generation vectors", "[scorers][math]") {
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

TEST_CASE("math answer: lm-eval's normalize_final_answer vectors", "[scorers][math]") {
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

// lm-eval's is_equiv (sympy parse_latex + simplify(a - b) == 0). Every expected value below is what
// lm-eval's is_equiv returned (sympy 1.14, antlr4 4.11 runtime's grammar) for the pair.
TEST_CASE("math answer: is_equiv decides as sympy does", "[scorers][math][sympy]") {
  struct Case {
    const char* x1;
    const char* x2;
    bool equivalent;
  };
  const Case cases[] = {
      // The normalised answers of the lm-eval lm_eval/tasks/minerva_math/utils.py@4e7e0d47 vectors.
      {"5", "5", true},
      {"\\frac{1}{2}", "\\frac{1}{2}", true},
      {"\\dfrac{3}{4}", "\\frac{3}{4}", true},
      {"10000", "10000", true},
      {"7", "7", true},
      {"(A)", "(A)", true},
      {"(A)", "(B)", false},
      {"90", "90", true},
      {"18.90", "18.9", true},
      {"\\frac{1}{2}", "\\frac12", true},
      {"\\sqrt{2}", "\\sqrt2", false},
      {"(1,2)", "(1,2)", false},
      {"0.5", "0.5", true},
      {"\\frac{2}{3}", "\\frac{4}{6}", true},
      // Only algebra decides.
      {"0.5", "\\frac{1}{2}", true},
      {"\\frac{1}{2}", "0.5", true},
      {"(x+1)^2", "x^2+2x+1", true},
      {"\\sqrt{12}", "2\\sqrt{3}", true},
      {"\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", true},
      {"x^2-1", "(x-1)(x+1)", true},
      {"2(x+1)", "2x+2", true},
      {"\\sqrt[3]{8}", "2", true},
      {"2^{10}", "1024", true},
      {"3\\times4", "12", true},
      {"2\\cdot3", "6", true},
      {"3:4", "\\frac{3}{4}", true},
      {"\\tfrac34", "0.75", true},
      {"1,000", "1000", true},
      {"\\left(3\\right)", "3", true},
      {"1\\!000", "1000", true},
      {"2\\pi", "\\pi2", true},
      {"\\sin^2x+\\cos^2x", "1", true},
      {"\\log_28", "3", true},
      {"5!", "120", true},
      {"\\binom{5}{2}", "10", true},
      {"\\frac{a}{b}c", "\\frac{ac}{b}", true},
      {"-\\frac{2}{3}", "\\frac{-2}{3}", true},
      {"2.0", "2", true},
      {"\\lfloor2.5\\rfloor", "2", true},
      {"\\sqrt{2}+\\sqrt{3}", "\\sqrt{5+2\\sqrt{6}}", true},
      {"x^{\\frac12}", "\\sqrt{x}", true},
      {"\\frac{1}{11}", "0.09090909090909091", true},
      {"\\frac{3840}{289}", "13.28719723183391", true},
      {"\\frac{1}{3}", "0.3333333333333333", false},
      {"\\frac{1}{3}", "0.333", false},
      {"10^{10^{10}}", "10^{10^{10}}", true},
      // lm-eval says no: what parse_latex rejects, relations, and expressions that differ.
      {"(2,5)", "(2,5)", false},
      {"[1,2]", "[1,2]", false},
      {"\\{1,2\\}", "\\{1,2\\}", false},
      {"x=2", "2", false},
      {"x=2", "x=2", false},
      {"44\\%", "44\\%", false},
      {"\\$5", "5", false},
      {"01", "01", false},
      {"\\frac{9}{{}5}", "\\frac{9}{5}", false},
      {"\\infty", "\\infty", false},
      {"\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", false},
      {"\\pi", "3.14159", false},
      {"x(x+1)", "x^2+x", false},
      {"\\sqrt{x^2}", "x", false},
      {"|x|", "\\sqrt{x^2}", false},
      {"e^{i\\pi}", "-1", false},
      {"i^2", "-1", false},
      {"odd", "even", false},
      {"[invalidanswer]", "12", false},
      {"\\frac{1}{2004!}", "2\\cdot\\frac{1}{2004!}", false},
      // Text answers after normalisation are products of letters: equal only to the same letters.
      {"Monday", "Monday", true},
      {"\\text{Monday}", "\\text{Monday}", true},
      {"Monday", "Tuesday", false},
      // parse_latex stops at the first token that cannot continue (its start rule has no EOF).
      // A number ending in "." is cut as ANTLR's prediction cuts it.
      {"4950.", "180", true},
      {"1.234.", "1.23", true},
      {"1,000,000.", "1000", true},
      {"5.", "5", false},
      {"x+1.", "x+1", false},
      {"\\pm9.", "\\pm", true},
      {"00", "0", true},
      {"1+", "1", true},
      {"2\\sqrt3", "2", true},
      {"2\\,3", "23", true},
      {"x(x+1)", "x(x+1)", true},
      {"\\pm2", "\\pm2", true},
  };
  for (const Case& c : cases) {
    INFO(c.x1 << " vs " << c.x2);
    CHECK(latex_sympy_equivalent(c.x1, c.x2) == c.equivalent);
  }
}

TEST_CASE("math answer: the expressions parse_latex builds", "[scorers][math][sympy]") {
  CHECK(latex_to_sympy_form("\\frac12").value() == "Pow(2, Neg(1))");
  CHECK(latex_to_sympy_form("\\dfrac{3}{4}").value() == "Mul(3, Pow(4, Neg(1)))");
  CHECK(latex_to_sympy_form("2,5").value() == "2");                // "," stops the expression
  CHECK(latex_to_sympy_form("1,000.5").value() == "1000.5");       // thousands separators
  CHECK(latex_to_sympy_form("x(x+1)").value() == "x(Add(x, 1))");  // an undefined function x
  CHECK(latex_to_sympy_form("2 x 3").value() == "Mul(2, 3)");      // a lone x between numbers: times
  CHECK(latex_to_sympy_form("x=2").value() == "Relation");
  CHECK(latex_to_sympy_form("\\text{A}").value() == "Mul(text, A)");
  CHECK(latex_to_sympy_form("\\sin^{-1}x").value() == "asin(x)");
  CHECK(latex_to_sympy_form("\\sqrt[3]{x}").value() == "root(x, 3)");
  CHECK_FALSE(latex_to_sympy_form("(2,5)"));  // ")" expected
  CHECK_FALSE(latex_to_sympy_form("x<"));     // committed after a relation operator
  CHECK_FALSE(latex_to_sympy_form("\\sin 22."));
  CHECK_FALSE(latex_to_sympy_form("2."));
  CHECK_FALSE(latex_to_sympy_form(".5"));
  CHECK_FALSE(latex_to_sympy_form("5\\%"));
  CHECK_FALSE(latex_to_sympy_form(""));
}

TEST_CASE("math answer: is_equiv gives up after its timeout, as lm-eval's 5 s alarm does", "[scorers][math][sympy]") {
  // Equal, but expanding a degree-6000 product takes GiNaC far longer than 1 ms.
  const char* slow = "(x+1)^{3000}(x-1)^{3000}";
  const char* same = "(x^2-1)^{3000}";
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(latex_sympy_equivalent(slow, same, std::chrono::milliseconds(1)));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(latex_sympy_equivalent("(x+1)^{3}(x-1)^{3}", "(x^2-1)^{3}", std::chrono::milliseconds(5000)));
  // Powers past the in-process bound run in the timed child; within the time they decide alike.
  CHECK(latex_sympy_equivalent("(x+1)^{100}(x-1)^{100}", "(x^2-1)^{100}"));
  CHECK_FALSE(latex_sympy_equivalent("(x+1)^{100}(x-1)^{100}", "(x^2-1)^{99}"));
  CHECK(latex_sympy_equivalent("2^{100}", "1267650600228229401496703205376"));
}

TEST_CASE("math answer: deep unclosed nestings do not make the parser backtrack for ever", "[scorers][math][sympy]") {
  std::string nested;
  for (int k = 0; k < 30; ++k) nested += "x(";
  nested += "1";
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(latex_sympy_equivalent(nested, "1"));
  CHECK_FALSE(latex_sympy_equivalent(std::string(40, '{') + "x", "x"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("math answer: minerva_is_equiv never matches an invalid answer", "[scorers][math][sympy]") {
  CHECK(minerva_is_equiv("\\dfrac{1}{2}", "0.5"));
  CHECK_FALSE(minerva_is_equiv("[invalidanswer]", "[invalidanswer]"));
  CHECK_FALSE(minerva_is_equiv("(2,5)", "(2,5)"));
  CHECK(minerva_string_equivalent("(2,5)", "(2,5)"));  // the minerva-norm variant: equal strings
}
