#pragma once
// Final-answer handling for competition-math generations:
// lm-eval's Minerva MATH utilities (tasks/minerva_math/utils.py) ported string for string, and the
// Hendrycks MATH `_strip_string` / `is_equiv` (hendrycks/math math_equivalence.py) that the spec
// recommends as an extra equivalence. Torch-free.
//
// Minerva `exact_match` is lm-eval's is_equiv (sympy parse_latex + simplify), here
// minerva_is_equiv() on GiNaC (scorers/latex_sympy_equivalence.h). The comparison gemma-eval used
// before, without a CAS, stays selectable as the variant "minerva-norm" (minerva_string_equivalent):
// equal normalised strings, Hendrycks-equivalent strings, or equal simple rationals. It misses
// symbolic matches ("2\sqrt{2}" vs "\sqrt{8}") and, unlike sympy, calls two identical unparseable
// strings ("(2,5)") equal.
#include <optional>
#include <string>
#include <string_view>

namespace gemma::scorers {

// What lm-eval's Minerva scorer stores when a generation has no "Final Answer: ..." sentence.
inline constexpr const char* kInvalidMathAnswer = "[invalidanswer]";

// last_boxed_only_string: "\boxed " + the text after the last "\boxed " up to the next "$" when
// "\boxed " occurs; else the last "\boxed{...}" (or "\fbox{...}") with its braces matched; nullopt
// when there is none or its braces never close.
std::optional<std::string> last_boxed_only_string(std::string_view text);

// remove_boxed: the content of "\boxed{...}" / after "\boxed "; nullopt where Python's asserts fail
// (the text does not start with "\boxed{" and end with "}").
std::optional<std::string> remove_boxed(std::string_view boxed);

// get_unnormalized_answer without its fallback: group 1 of
// re.search(r"Final Answer: The final answer is(.*?). I hope it is correct.", text + "I hope it is
// correct."), stripped; nullopt when it does not match (lm-eval then uses "[invalidanswer]").
std::optional<std::string> minerva_unnormalized_answer(std::string_view generation);

// normalize_final_answer (Lewkowycz et al. 2022, App. D) exactly as lm-eval writes it. Python's
// str.isdigit() is applied to ASCII digits only (other Unicode digits are kept as they are).
std::string normalize_final_answer(std::string_view answer);

// Hendrycks `_strip_string`; nullopt where the Python raises (its asserts and index errors), which
// makes hendrycks_is_equiv fall back to plain string equality, as the Python does.
std::optional<std::string> hendrycks_strip_string(std::string_view text);
bool hendrycks_is_equiv(std::string_view a, std::string_view b);

// Variant names of Minerva MATH's exact_match for `score --metric math:NAME`.
inline constexpr const char* kMinervaSympyVariant = "sympy";          // lm-eval is_equiv (default)
inline constexpr const char* kMinervaStringVariant = "minerva-norm";  // normalised strings, no CAS
// What a run's results.json records as the minerva_math exact_match variant.
inline constexpr const char* kMinervaSympyVariantLabel = "sympy is_equiv (parse_latex + simplify, on GiNaC)";

// lm-eval's is_equiv(prediction, reference) (5 s timeout); "[invalidanswer]" is never equivalent.
bool minerva_is_equiv(std::string_view prediction, std::string_view reference);

// The "minerva-norm" variant: normalised-string, Hendrycks and simple-rational equality; a
// prediction of "[invalidanswer]" is never equivalent.
bool minerva_string_equivalent(std::string_view prediction, std::string_view reference);

// AGIEval's math answers (lm-eval tasks/agieval/utils.py, from ruixiangcui/AGIEval post_process.py):
// parse_math_answer takes the last \boxed{...} (its text after the last "="), else the last "$...$"
// line span (likewise), else the text after the last "=" (lstrip " ", rstrip "."; cut at a literal
// "\n"), else the last number; nullopt where the Python returns None. Python's \w / \d are Unicode;
// here digits are ASCII and a non-ASCII code point counts as a word character unless it lies in a
// punctuation or symbol block (Latin-1 signs, × ÷, general punctuation, arrows and math operators,
// shapes, CJK and fullwidth punctuation; see is_word_char_at).
std::optional<std::string> agieval_parse_math_answer(std::string_view raw);
// is_equiv: both parsed again, then Hendrycks _strip_string equality; None == None is True.
bool agieval_is_equiv(const std::optional<std::string>& a, const std::optional<std::string>& b);
// process_results: is_equiv(parse_math_answer(generation), parse_math_answer(gold)).
bool agieval_math_correct(std::string_view generation, std::string_view gold);

}  // namespace gemma::scorers
