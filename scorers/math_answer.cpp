#include "scorers/math_answer.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <utility>
#include <vector>

#include "common/python_text.h"
#include "common/utf8.h"
#include "scorers/latex_sympy_equivalence.h"

namespace gemma::scorers {
namespace {

// ---- Python str helpers (the regexes below use Python's "." = any code point but "\n") ----

size_t code_point_bytes(std::string_view s, size_t i) { return decode_utf8_at(s, i).length; }

std::vector<std::string_view> split(std::string_view text, std::string_view sep) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  for (size_t hit = text.find(sep); hit != std::string_view::npos; hit = text.find(sep, pos)) {
    parts.push_back(text.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
  parts.push_back(text.substr(pos));
  return parts;
}

bool all_ascii_digits(std::string_view s) {
  if (s.empty()) return false;  // "".isdigit() is False
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// ---- normalize_final_answer's re.sub calls, each as a scan with Python's match semantics ----

// re.sub(r"(.*?)(\$)(.*?)(\$)(.*)", "$\3$", s): "." stops at "\n", so each line holding two "$"
// becomes "$" + the text between its first two "$" + "$".
std::string keep_first_math_span_per_line(std::string_view s) {
  std::string out;
  const auto lines = split(s, "\n");
  for (size_t k = 0; k < lines.size(); ++k) {
    const std::string_view line = lines[k];
    if (k > 0) out += '\n';
    const size_t open = line.find('$');
    const size_t close = open == std::string_view::npos ? open : line.find('$', open + 1);
    if (close == std::string_view::npos)
      out.append(line);
    else
      out.append("$").append(line.substr(open + 1, close - open - 1)).append("$");
  }
  return out;
}

// re.sub(r"(<opener>)(.*?)(\})", r"\2", s) for a literal opener ending in "{"; with `greedy`,
// (.*) instead: the content runs to the last "}" of the line.
std::string unwrap_braced(std::string_view s, std::string_view opener, bool greedy) {
  std::string out;
  size_t pos = 0;
  for (size_t at = s.find(opener, pos); at != std::string_view::npos; at = s.find(opener, pos)) {
    const size_t body = at + opener.size();
    const size_t line_end = std::min(s.find('\n', body), s.size());
    const std::string_view rest = s.substr(body, line_end - body);
    const size_t close = greedy ? rest.rfind('}') : rest.find('}');
    if (close == std::string_view::npos) {  // no match starting here: the search moves on one character
      out.append(s.substr(pos, at + 1 - pos));
      pos = at + 1;
      continue;
    }
    out.append(s.substr(pos, at - pos)).append(rest.substr(0, close));
    pos = body + close + 1;
  }
  return out.append(s.substr(pos));
}

// re.sub(r"(frac)([^{])(.)", r"frac{\2}{\3}", s) and re.sub(r"(sqrt)([^{])", r"sqrt{\2}", s):
// `braced_args` code points after `word` get braces ([^{] may be "\n"; "." may not).
std::string brace_shorthand(std::string_view s, std::string_view word, int braced_args) {
  std::string out;
  size_t pos = 0;
  for (size_t at = s.find(word, pos); at != std::string_view::npos; at = s.find(word, pos)) {
    size_t next = at + word.size();
    std::string braced;
    bool matched = next < s.size() && s[next] != '{';
    for (int arg = 0; matched && arg < braced_args; ++arg) {
      if (next >= s.size() || (arg > 0 && s[next] == '\n')) {
        matched = false;
        break;
      }
      const size_t n = code_point_bytes(s, next);
      braced.append("{").append(s.substr(next, n)).append("}");
      next += n;
    }
    if (!matched) {
      out.append(s.substr(pos, at + 1 - pos));
      pos = at + 1;
      continue;
    }
    out.append(s.substr(pos, at - pos)).append(word).append(braced);
    pos = next;
  }
  return out.append(s.substr(pos));
}

// lm-eval minerva_math/utils.py SUBSTITUTIONS and REMOVED_EXPRESSIONS, in order.
const std::pair<const char*, const char*> kSubstitutions[] = {
    {"an ", ""}, {"a ", ""},       {".$", "$"},           {"\\$", ""},          {"\\ ", ""},
    {" ", ""},   {"mbox", "text"}, {",\\text{and}", ","}, {"\\text{and}", ","}, {"\\text{m}", "\\text{}"},
};
const char* const kRemovedExpressions[] = {
    "square",       "ways",
    "integers",     "dollars",
    "mph",          "inches",
    "ft",           "hours",
    "km",           "units",
    "\\ldots",      "sue",
    "points",       "feet",
    "minutes",      "digits",
    "cents",        "degrees",
    "cm",           "gm",
    "pounds",       "meters",
    "meals",        "edges",
    "students",     "childrentickets",
    "multiples",    "\\text{s}",
    "\\text{.}",    "\\text{\ns}",
    "\\text{}^2",   "\\text{}^3",
    "\\text{\n}",   "\\text{}",
    "\\mathrm{th}", "^\\circ",
    "^{\\circ}",    "\\;",
    ",\\!",         "{,}",
    "\"",           "\\dots",
};

// ---- Hendrycks math_equivalence.py helpers; nullopt = the Python raised ----

std::optional<std::string> fix_fracs(std::string_view s) {
  const auto parts = split(s, "\\frac");
  std::string out(parts[0]);
  for (size_t k = 1; k < parts.size(); ++k) {
    const std::string_view sub = parts[k];
    out += "\\frac";
    if (sub.empty()) return std::nullopt;  // substr[0]: IndexError
    if (sub[0] == '{') {
      out.append(sub);
      continue;
    }
    const size_t a_len = code_point_bytes(sub, 0);
    if (a_len >= sub.size()) return std::string(s);  // len(substr) < 2: the original string
    const size_t b_len = code_point_bytes(sub, a_len);
    const std::string_view a = sub.substr(0, a_len), b = sub.substr(a_len, b_len), post = sub.substr(a_len + b_len);
    if (b != "{")
      out.append("{").append(a).append("}{").append(b).append("}").append(post);
    else
      out.append("{").append(a).append("}").append(b).append(post);
  }
  return out;
}

std::optional<std::string> fix_sqrt(std::string_view s) {
  if (s.find("\\sqrt") == std::string_view::npos) return std::string(s);
  const auto parts = split(s, "\\sqrt");
  std::string out(parts[0]);
  for (size_t k = 1; k < parts.size(); ++k) {
    const std::string_view sub = parts[k];
    if (sub.empty()) return std::nullopt;  // split[0]: IndexError
    if (sub[0] == '{') {
      out.append("\\sqrt").append(sub);
    } else {
      const size_t n = code_point_bytes(sub, 0);
      out.append("\\sqrt{").append(sub.substr(0, n)).append("}").append(sub.substr(n));
    }
  }
  return out;
}

// str(int(x)) == x: an optional "-" and digits without leading zeros ("-0" is not canonical).
bool canonical_int(std::string_view x) {
  const std::string_view digits = !x.empty() && x[0] == '-' ? x.substr(1) : x;
  if (!all_ascii_digits(digits) || (digits.size() > 1 && digits[0] == '0')) return false;
  return !(x[0] == '-' && digits == "0");
}

std::string fix_a_slash_b(const std::string& s) {
  const auto parts = split(s, "/");
  if (parts.size() != 2 || !canonical_int(parts[0]) || !canonical_int(parts[1])) return s;
  return "\\frac{" + std::string(parts[0]) + "}{" + std::string(parts[1]) + "}";
}

// ---- simple rationals for the numeric equivalence ----

struct Rational {
  __int128 num = 0;
  __int128 den = 1;
};

std::optional<Rational> parse_decimal(std::string_view s) {
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  const size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if ((whole.empty() && frac.empty()) || whole.size() + frac.size() > 18) return std::nullopt;
  if ((!whole.empty() && !all_ascii_digits(whole)) || (!frac.empty() && !all_ascii_digits(frac))) return std::nullopt;
  Rational r;
  for (char c : whole) r.num = r.num * 10 + (c - '0');
  for (char c : frac) {
    r.num = r.num * 10 + (c - '0');
    r.den *= 10;
  }
  if (negative) r.num = -r.num;
  return r;
}

std::optional<Rational> parse_simple_rational(std::string_view s) {
  bool negative = false;
  if (s.size() > 1 && s[0] == '-' && s[1] == '\\') {  // -\frac{a}{b}
    negative = true;
    s.remove_prefix(1);
  }
  std::optional<Rational> num, den;
  for (const char* frac : {"\\frac{", "\\dfrac{", "\\tfrac{"}) {
    const std::string_view prefix(frac);
    if (s.substr(0, prefix.size()) != prefix || s.back() != '}') continue;
    const size_t mid = s.find("}{", prefix.size());
    if (mid == std::string_view::npos) return std::nullopt;
    num = parse_decimal(s.substr(prefix.size(), mid - prefix.size()));
    den = parse_decimal(s.substr(mid + 2, s.size() - mid - 3));
    break;
  }
  if (!num && !den) {
    if (negative) return std::nullopt;
    const size_t slash = s.find('/');
    if (slash == std::string_view::npos) return parse_decimal(s);
    num = parse_decimal(s.substr(0, slash));
    den = parse_decimal(s.substr(slash + 1));
  }
  if (!num || !den || den->num == 0) return std::nullopt;
  Rational r{num->num * den->den, num->den * den->num};
  if (negative) r.num = -r.num;
  return r;
}

bool numerically_equal(std::string_view a, std::string_view b) {
  const auto x = parse_simple_rational(a), y = parse_simple_rational(b);
  return x && y && x->num * y->den == y->num * x->den;
}

// ---- AGIEval parse_math_answer helpers ----

// Python's `[\w\d]` for the code point at i (see the header for the non-ASCII approximation):
// code points of these punctuation and symbol blocks are not word characters, all others are.
bool is_word_char_at(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return std::isalnum(c) || c == '_';
  const char32_t cp = decode_utf8_at(s, i).code_point;
  static const std::pair<char32_t, char32_t> kNonWord[] = {
      {0x80, 0xA9},     {0xAB, 0xB1},     {0xB4, 0xB4},     {0xB6, 0xB8},     {0xBB, 0xBB},     {0xBF, 0xBF},
      {0xD7, 0xD7},     {0xF7, 0xF7},     {0x2000, 0x206F}, {0x20A0, 0x20CF}, {0x2190, 0x245F}, {0x2500, 0x2BFF},
      {0x3000, 0x3004}, {0x3008, 0x3020}, {0x3030, 0x3030}, {0x303D, 0x303F}, {0xFE30, 0xFE4F}, {0xFF00, 0xFF0F},
      {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},
  };
  for (const auto& [low, high] : kNonWord)
    if (cp >= low && cp <= high) return false;
  return true;
}

bool is_digit_at(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// One match of (?:\$)?\d+(?:\.\d+)?(?![\w\d]) starting at p, with Python's backtracking order:
// the longest digits first, the decimal part before none; npos when nothing matches here.
size_t last_number_match_end(std::string_view s, size_t p) {
  const size_t start = p < s.size() && s[p] == '$' ? p + 1 : p;
  size_t digits_end = start;
  while (is_digit_at(s, digits_end)) ++digits_end;
  const auto free_after = [&](size_t end) { return end >= s.size() || !is_word_char_at(s, end); };
  for (size_t k = digits_end; k > start; --k) {
    if (k < s.size() && s[k] == '.' && is_digit_at(s, k + 1)) {
      size_t decimal_end = k + 1;
      while (is_digit_at(s, decimal_end)) ++decimal_end;
      for (size_t m = decimal_end; m > k + 1; --m)
        if (free_after(m)) return m;
    }
    if (free_after(k)) return k;
  }
  return std::string_view::npos;
}

std::optional<std::string> last_number(std::string_view s) {
  std::optional<std::string> last;
  for (size_t p = 0; p < s.size();) {
    const size_t end = last_number_match_end(s, p);
    if (end == std::string_view::npos) {
      ++p;
      continue;
    }
    last = std::string(s.substr(p, end - p));
    p = end;
  }
  return last;
}

std::string after_last_equals(std::string_view s) {
  std::string_view tail = s.substr(s.rfind('=') + 1);
  while (!tail.empty() && tail.front() == ' ') tail.remove_prefix(1);
  return std::string(tail);
}

// re.findall(r"\$(.*)\$", s)[-1]: per line, from the first "$" to the last "$" of that line.
std::optional<std::string> last_dollar_span(std::string_view s) {
  std::optional<std::string> last;
  for (std::string_view line : split(s, "\n")) {
    const size_t open = line.find('$'), close = line.rfind('$');
    if (open != std::string_view::npos && close > open) last = std::string(line.substr(open + 1, close - open - 1));
  }
  return last;
}

}  // namespace

std::optional<std::string> last_boxed_only_string(std::string_view text) {
  if (text.find("\\boxed ") != std::string_view::npos) {
    const std::string_view after = text.substr(text.rfind("\\boxed ") + 7);
    return "\\boxed " + std::string(after.substr(0, after.find('$')));
  }
  size_t at = text.rfind("\\boxed");
  if (at == std::string_view::npos) at = text.rfind("\\fbox");
  if (at == std::string_view::npos) return std::nullopt;
  int open = 0;
  for (size_t i = at; i < text.size(); ++i) {
    if (text[i] == '{') ++open;
    if (text[i] == '}' && --open == 0) return std::string(text.substr(at, i + 1 - at));
  }
  return std::nullopt;
}

std::optional<std::string> remove_boxed(std::string_view boxed) {
  if (boxed.find("\\boxed ") != std::string_view::npos) {
    if (boxed.substr(0, 7) != "\\boxed ") return std::nullopt;
    return std::string(boxed.substr(7));
  }
  if (boxed.substr(0, 7) != "\\boxed{" || boxed.size() < 8 || boxed.back() != '}') return std::nullopt;
  return std::string(boxed.substr(7, boxed.size() - 8));
}

std::optional<std::string> minerva_unnormalized_answer(std::string_view generation) {
  const std::string text = std::string(generation) + "I hope it is correct.";
  const std::string_view lead = "Final Answer: The final answer is";
  const std::string_view tail = " I hope it is correct";
  for (size_t at = text.find(lead); at != std::string::npos; at = text.find(lead, at + 1)) {
    const size_t group = at + lead.size();
    // (.*?) grows one code point at a time, never over "\n"; then ". I hope it is correct." with
    // both dots matching any code point but "\n".
    for (size_t end = group; end < text.size() && text[end] != '\n'; end += code_point_bytes(text, end)) {
      const size_t after_dot = end + code_point_bytes(text, end);
      const size_t last = after_dot + tail.size();
      if (text.compare(after_dot, tail.size(), tail) == 0 && last < text.size() && text[last] != '\n')
        return python_strip(std::string_view(text).substr(group, end - group));
    }
  }
  return std::nullopt;
}

std::string normalize_final_answer(std::string_view answer) {
  const size_t eq = answer.rfind('=');
  std::string s(eq == std::string_view::npos ? answer : answer.substr(eq + 1));
  for (const auto& [before, after] : kSubstitutions) s = replace_all(s, before, after);
  for (const char* expression : kRemovedExpressions) s = replace_all(s, expression, "");
  s = keep_first_math_span_per_line(s);
  s = unwrap_braced(s, "\\text{", false);
  s = unwrap_braced(s, "\\textbf{", false);
  s = unwrap_braced(s, "\\overline{", false);
  s = unwrap_braced(s, "\\boxed{", true);
  s = brace_shorthand(s, "frac", 2);
  s = brace_shorthand(s, "sqrt", 1);
  s = replace_all(s, "$", "");
  const std::string without_commas = replace_all(s, ",", "");
  if (all_ascii_digits(without_commas)) s = without_commas;
  return s;
}

std::optional<std::string> hendrycks_strip_string(std::string_view text) {
  std::string s(text);
  for (const auto& [before, after] : std::initializer_list<std::pair<const char*, const char*>>{{"\n", ""},
                                                                                                {"\\!", ""},
                                                                                                {"\\\\", "\\"},
                                                                                                {"tfrac", "frac"},
                                                                                                {"dfrac", "frac"},
                                                                                                {"\\left", ""},
                                                                                                {"\\right", ""},
                                                                                                {"^{\\circ}", ""},
                                                                                                {"^\\circ", ""},
                                                                                                {"\\$", ""}})
    s = replace_all(s, before, after);
  // _remove_right_units: "\text{ " must split the string in exactly two (an assert).
  if (s.find("\\text{ ") != std::string::npos) {
    const auto parts = split(s, "\\text{ ");
    if (parts.size() != 2) return std::nullopt;
    s = std::string(parts[0]);
  }
  for (const auto& [before, after] :
       std::initializer_list<std::pair<const char*, const char*>>{{"\\%", ""}, {" .", " 0."}, {"{.", "{0."}})
    s = replace_all(s, before, after);
  if (s.empty()) return s;
  if (s[0] == '.') s = "0" + s;
  const auto sides = split(s, "=");
  if (sides.size() == 2 && code_point_length(sides[0]) <= 2) s = std::string(sides[1]);
  std::optional<std::string> fixed = fix_sqrt(s);
  if (!fixed) return std::nullopt;
  fixed = fix_fracs(replace_all(*fixed, " ", ""));
  if (!fixed) return std::nullopt;
  if (*fixed == "0.5") return std::string("\\frac{1}{2}");
  return fix_a_slash_b(*fixed);
}

bool hendrycks_is_equiv(std::string_view a, std::string_view b) {
  const auto x = hendrycks_strip_string(a), y = hendrycks_strip_string(b);
  if (!x || !y) return a == b;  // the Python's bare `except: return str1 == str2`
  return *x == *y;
}

bool minerva_is_equiv(std::string_view prediction, std::string_view reference) {
  // lm-eval would parse "[invalidanswer]" as a product of symbols, which no normalised gold answer is.
  if (prediction == kInvalidMathAnswer) return false;
  return latex_sympy_equivalent(prediction, reference);
}

bool minerva_string_equivalent(std::string_view prediction, std::string_view reference) {
  if (prediction == kInvalidMathAnswer) return false;
  return prediction == reference || hendrycks_is_equiv(prediction, reference) ||
         numerically_equal(prediction, reference);
}

}  // namespace gemma::scorers

namespace gemma::scorers {

std::optional<std::string> agieval_parse_math_answer(std::string_view raw) {
  if (raw.find("\\boxed") != std::string_view::npos) {
    // AGIEval's own last_boxed_only_string has no "\boxed " case; remove_boxed's failures are None.
    const size_t at = raw.rfind("\\boxed");
    int open = 0;
    for (size_t i = at; i < raw.size(); ++i) {
      if (raw[i] == '{') ++open;
      if (raw[i] == '}' && --open == 0) {
        const std::string_view boxed = raw.substr(at, i + 1 - at);
        if (boxed.substr(0, 7) != "\\boxed{") return std::nullopt;
        const std::string_view inner = boxed.substr(7, boxed.size() - 8);
        return inner.find('=') == std::string_view::npos ? std::string(inner) : after_last_equals(inner);
      }
    }
    return std::nullopt;
  }
  std::optional<std::string> answer = last_dollar_span(raw);
  if (answer && answer->find('=') != std::string::npos) answer = after_last_equals(*answer);
  if (answer && !answer->empty()) return answer;
  if (raw.find('=') == std::string_view::npos) return last_number(raw);
  std::string tail = after_last_equals(raw);
  while (!tail.empty() && tail.back() == '.') tail.pop_back();
  const size_t escaped_newline = tail.find("\\n");  // a literal backslash-n, as the Python writes it
  return escaped_newline == std::string::npos ? tail : tail.substr(0, escaped_newline);
}

bool agieval_is_equiv(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (!a && !b) return true;
  if (!a || !b) return false;
  const auto x = agieval_parse_math_answer(*a), y = agieval_parse_math_answer(*b);
  const auto sx = x ? hendrycks_strip_string(*x) : std::nullopt;
  const auto sy = y ? hendrycks_strip_string(*y) : std::nullopt;
  if (!sx || !sy) return x == y;  // the bare except: str1 == str2 (None == None included)
  return *sx == *sy;
}

bool agieval_math_correct(std::string_view generation, std::string_view gold) {
  return agieval_is_equiv(agieval_parse_math_answer(generation), agieval_parse_math_answer(gold));
}

}  // namespace gemma::scorers
