#pragma once
// lm-eval's Minerva MATH equivalence (lm_eval/tasks/minerva_math/utils.py `is_equiv`), with GiNaC in
// place of sympy. The Python, within a 5 s SIGALRM timeout:
//   parsed_x1 = parse_latex(x1); parsed_x2 = parse_latex(x2)   # LaTeXParsingError, SympifyError,
//                                                               # TypeError -> False
//   diff = parsed_x1 - parsed_x2                                 # TypeError (a relation) -> False
//   return sympy.simplify(diff) == 0                             # ValueError, timeout, any error -> False
// so two identical strings that do not parse ("(2,5)", "[1,2]", "\text{(A)}" after normalisation is
// "(A)" which does parse) are *not* equivalent, and "0.5" vs "\frac{1}{2}" is.
//
// latex_to_sympy_form() ports what sympy's ANTLR LaTeX grammar (sympy/parsing/latex/LaTeX.g4,
// _parse_latex_antlr.py, sympy 1.14) accepts: numbers with ","-thousands and decimals, letters and
// \commands as symbols (\pi is the *symbol* pi there, \infty is oo), implicit multiplication, + - *
// / : \times \cdot \div, ^ with an atom or {...}, _ subscripts, ! factorial, \frac \dfrac \tfrac
// (also \frac12), \sqrt and \sqrt[n], \binom, |...|, \lfloor \lceil, \overline, \sin-like functions
// and \log_b, f(x) as an undefined function, relations (= < \le ...) which make the subtraction
// fail. Like the ANTLR parser (its start rule has no EOF) it stops at the first token that cannot
// continue the expression and ignores the rest ("2,5" is 2, "1+" is 1), but fails inside brackets
// ("(2,5)": ")" expected), after a relation operator ("x<"), and on characters its lexer has no
// token for ("$", "%", ".5", "\\"). Numbers ending in "." are cut as ANTLR's prediction cuts them
// ("4950." is 4*9*5). The parser is a backtracking recursive descent: where ANTLR's adaptive
// prediction decides otherwise, the two differ (measured: 7 of 50,146 pairs, see README).
// Not ported (parsed, then never equivalent): integrals, sums, products, limits, derivatives,
// bra-kets and |_{...} evaluation bars, which MATH answers do not use.
//
// Zero test: GiNaC expand + normal of the difference; failing that, the difference evaluated at
// 60 digits (after substituting complex sample points for the symbols, as sympy symbols are complex)
// must vanish. A lone decimal against a number compares as sympy's Float does: both rounded to
// the decimal's precision (max(53, ~3.32 * (digits + 1)) bits), so "0.09090909090909091" equals
// "\frac{1}{11}"; a decimal inside a larger expression is an exact rational here (sympy keeps a
// Float: "x^{0.5}" vs "\sqrt{x}" is equal here, not there). Two identical parses are equal
// without evaluation (sympy's a - b cancels them), except those holding \infty.
//
// Timeout: GiNaC cannot be interrupted. Comparisons whose work has a small bound (expanded size
// under 5,000 terms, integer powers up to 64, factorials of at most 1000, numbers of at most 50
// digits: nearly every MATH answer) run in the calling thread, in milliseconds. Any other runs in a
// forked child that SIGALRM ends after `timeout` (lm-eval: signal.alarm(5)); a child that does not
// finish in time counts as not equivalent, as lm-eval's TimeoutError does. (A fork copies the page
// tables: ~40 ms per comparison in a process holding 2 GB, hence not for every comparison.)
// GiNaC calls are serialised by one mutex (it is not thread-safe). Torch-free.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gemma::scorers {

// lm-eval is_equiv(x1, x2) on two normalize_final_answer'ed strings.
bool latex_sympy_equivalent(std::string_view x1, std::string_view x2,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The expression sympy's parse_latex would build, in a canonical text form (for tests and
// diagnostics): nullopt where parse_latex raises. "Relation" marks an Eq/Lt/... result.
std::optional<std::string> latex_to_sympy_form(std::string_view latex);

}  // namespace gemma::scorers
