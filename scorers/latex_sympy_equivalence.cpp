#include "scorers/latex_sympy_equivalence.h"

#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include <cln/integer.h>
#include <cln/rational.h>
#include <cln/real.h>
#include <ginac/ginac.h>

#include "common/error.h"

namespace gemma::scorers {
namespace {

// ---- lexer: the tokens of sympy's LaTeX.g4 (longest match; a keyword beats SYMBOL on a tie) ----

enum class Tok {
  End,
  Invalid,
  Add,
  Sub,
  Mul,
  Div,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBraceLiteral,
  RBraceLiteral,
  LBracket,
  RBracket,
  Bar,
  LBar,
  RBar,
  Comma,
  Dot,
  Caret,
  Underscore,
  Colon,
  Bang,
  Quotes,
  Letter,
  Digit,
  Differential,
  Relation,
  Command,  // Command: a \name; keyword or SYMBOL, told apart by the parser
};

struct Token {
  Tok kind = Tok::End;
  std::string text;  // the letter, digit, command name (no backslash), differential variable, quotes
};

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// \commands the grammar skips (spaces, \left, \right, IGNORE).
const std::set<std::string>& skipped_commands() {
  static const std::set<std::string> names = {
      "thinspace", "medspace", "thickspace", "quad",    "qquad", "negthinspace", "negmedspace", "negthickspace",
      "left",      "right",    "vrule",      "vcenter", "vbox",  "vskip",        "vspace",      "hfil"};
  return names;
}

const std::set<std::string>& relation_commands() {
  static const std::set<std::string> names = {"neq", "leq", "le", "leqq", "leqslant", "geq", "ge", "geqq", "geqslant"};
  return names;
}

// \commands that are their own tokens; every other \name is a SYMBOL (a symbol of that name).
const std::set<std::string>& keyword_commands() {
  static const std::set<std::string> names = {"lim",
                                              "to",
                                              "rightarrow",
                                              "Rightarrow",
                                              "longrightarrow",
                                              "Longrightarrow",
                                              "int",
                                              "sum",
                                              "prod",
                                              "exp",
                                              "log",
                                              "lg",
                                              "ln",
                                              "sin",
                                              "cos",
                                              "tan",
                                              "csc",
                                              "sec",
                                              "cot",
                                              "arcsin",
                                              "arccos",
                                              "arctan",
                                              "arccsc",
                                              "arcsec",
                                              "arccot",
                                              "sinh",
                                              "cosh",
                                              "tanh",
                                              "arsinh",
                                              "arcosh",
                                              "artanh",
                                              "lfloor",
                                              "rfloor",
                                              "lceil",
                                              "rceil",
                                              "sqrt",
                                              "overline",
                                              "times",
                                              "cdot",
                                              "div",
                                              "frac",
                                              "dfrac",
                                              "tfrac",
                                              "binom",
                                              "dbinom",
                                              "tbinom",
                                              "mathit",
                                              "langle",
                                              "rangle"};
  return names;
}

// The whole input lexed up front; the first character the lexer has no token for becomes an Invalid
// token (the parser fails only if it looks that far, as ANTLR's lazily lexing parser does).
std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  auto letters_from = [&](size_t at) {
    size_t end = at;
    while (end < s.size() && is_letter(s[end])) ++end;
    return end;
  };
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 < s.size() && is_letter(s[i + 1])) {
        const size_t end = letters_from(i + 1);
        std::string name(s.substr(i + 1, end - i - 1));
        i = end;
        if ((name == "left" || name == "right") && i < s.size() && s[i] == '|') {
          out.push_back({name == "left" ? Tok::LBar : Tok::RBar, ""});
          ++i;
        } else if (skipped_commands().count(name)) {
          continue;
        } else if (relation_commands().count(name)) {
          out.push_back({Tok::Relation, name});
        } else {
          out.push_back({Tok::Command, name});
        }
        continue;
      }
      const char next = i + 1 < s.size() ? s[i + 1] : '\0';
      if (next != '\0' && std::strchr(",:;!*-./\"(=", next)) {  // spaces and IGNORE
        i += 2;
        continue;
      }
      if (next == '{' || next == '}') {
        out.push_back({next == '{' ? Tok::LBraceLiteral : Tok::RBraceLiteral, ""});
        i += 2;
        continue;
      }
      out.push_back({Tok::Invalid, ""});
      return out;
    }
    if (c == 'd') {  // DIFFERENTIAL: 'd' WS*? ([a-zA-Z] | '\\' [a-zA-Z]+), longer than LETTER
      size_t j = i + 1;
      while (j < s.size() && is_space(s[j])) ++j;
      if (j < s.size() && is_letter(s[j])) {
        out.push_back({Tok::Differential, std::string(1, s[j])});
        i = j + 1;
        continue;
      }
      if (j + 1 < s.size() && s[j] == '\\' && is_letter(s[j + 1])) {
        const size_t end = letters_from(j + 1);
        out.push_back({Tok::Differential, std::string(s.substr(j + 1, end - j - 1))});
        i = end;
        continue;
      }
    }
    if (is_letter(c)) {
      out.push_back({Tok::Letter, std::string(1, c)});
      ++i;
      continue;
    }
    if (c >= '0' && c <= '9') {
      out.push_back({Tok::Digit, std::string(1, c)});
      ++i;
      continue;
    }
    if (c == '&' || c == '=') {  // EQUAL: ('&' WS*?)? '=' | '=' (WS*? '&')?
      size_t j = i + 1;
      if (c == '&') {
        while (j < s.size() && is_space(s[j])) ++j;
        if (j >= s.size() || s[j] != '=') {
          out.push_back({Tok::Invalid, ""});
          return out;
        }
        ++j;
      } else {
        size_t k = j;
        while (k < s.size() && is_space(s[k])) ++k;
        if (k < s.size() && s[k] == '&') j = k + 1;
      }
      out.push_back({Tok::Relation, "="});
      i = j;
      continue;
    }
    if (c == '\'') {
      size_t j = i;
      while (j < s.size() && s[j] == '\'') ++j;
      out.push_back({Tok::Quotes, std::string(s.substr(i, j - i))});
      i = j;
      continue;
    }
    static const std::pair<char, Tok> kSingle[] = {
        {'+', Tok::Add},    {'-', Tok::Sub},    {'*', Tok::Mul},      {'/', Tok::Div},      {'(', Tok::LParen},
        {')', Tok::RParen}, {'{', Tok::LBrace}, {'}', Tok::RBrace},   {'[', Tok::LBracket}, {']', Tok::RBracket},
        {'|', Tok::Bar},    {',', Tok::Comma},  {'.', Tok::Dot},      {'^', Tok::Caret},    {'_', Tok::Underscore},
        {':', Tok::Colon},  {'!', Tok::Bang},   {'<', Tok::Relation}, {'>', Tok::Relation}};
    bool matched = false;
    for (const auto& [ch, kind] : kSingle) {
      if (c != ch) continue;
      out.push_back({kind, std::string(1, c)});
      matched = true;
      break;
    }
    if (!matched) {
      out.push_back({Tok::Invalid, ""});
      return out;
    }
    ++i;
  }
  return out;
}

// ---- parser: the grammar's rules as recursive descent, building what _parse_latex_antlr builds ----

struct Node {
  enum Kind { Number, Symbol, Infinity, Add, Mul, Pow, Neg, Function, Applied, Unsupported, Relation } kind;
  std::string text;  // Number: digits (commas removed, "." kept); Symbol/Function/Applied: the name
  std::vector<Node> kids;
};

Node leaf(Node::Kind kind, std::string text = {}) { return Node{kind, std::move(text), {}}; }
Node branch(Node::Kind kind, std::string text, std::vector<Node> kids) {
  return Node{kind, std::move(text), std::move(kids)};
}

std::string print(const Node& n) {
  static const char* const kNames[] = {"Number", "Symbol",   "oo",      "Add",         "Mul",     "Pow",
                                       "Neg",    "Function", "Applied", "Unsupported", "Relation"};
  if (n.kind == Node::Number || n.kind == Node::Symbol) return n.text;
  if (n.kind == Node::Infinity) return "oo";
  if (n.kind == Node::Relation) return "Relation";
  if (n.kind == Node::Unsupported) return "Unsupported(" + n.text + ")";
  std::string out = n.kind == Node::Function || n.kind == Node::Applied ? n.text : kNames[n.kind];
  out += "(";
  for (size_t k = 0; k < n.kids.size(); ++k) out += (k ? ", " : "") + print(n.kids[k]);
  return out + ")";
}

bool has_symbol(const Node& n) {
  if (n.kind == Node::Symbol) return true;
  for (const Node& kid : n.kids)
    if (has_symbol(kid)) return true;
  return false;
}

struct SyntaxError {};  // one alternative does not match: the caller may try another
// parse_latex raises whatever the alternatives: the parser looked at a character with no token, or
// at a number ending in a "." that ANTLR's prediction commits to.
struct Unrecoverable {};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  // math: relation, without EOF: tokens after the longest relation are ignored.
  Node math() { return relation(); }

 private:
  const Token& peek(size_t ahead = 0) {
    // Backtracking over unclosed nestings ("x(x(x(..." ) is exponential: past this many token looks
    // the input counts as unparseable (lm-eval would have given up at its 5 s timeout; sympy's
    // parser rejects such inputs).
    if (++looks_ > 200000) throw Unrecoverable{};
    const size_t at = pos_ + ahead;
    static const Token kEnd{};
    const Token& token = at < tokens_.size() ? tokens_[at] : kEnd;
    if (token.kind == Tok::Invalid) throw Unrecoverable{};
    return token;
  }
  bool at(Tok kind, size_t ahead = 0) { return peek(ahead).kind == kind; }
  bool at_command(std::string_view name) { return at(Tok::Command) && peek().text == name; }
  bool at_symbol() { return at(Tok::Command) && !keyword_commands().count(peek().text); }
  Token take() {
    Token t = peek();
    ++pos_;
    return t;
  }
  void expect(Tok kind) {
    if (!at(kind)) throw SyntaxError{};
    ++pos_;
  }
  void expect_command(std::string_view name) {
    if (!at_command(name)) throw SyntaxError{};
    ++pos_;
  }

  // One optional repetition of a rule: kept when it parses, else the input is put back (ANTLR's
  // adaptive prediction falls back to the exit branch when the repetition cannot match).
  template <typename F>
  bool attempt(F&& parse_more) {
    const size_t saved = pos_;
    try {
      parse_more();
      return true;
    } catch (const SyntaxError&) {
      pos_ = saved;
      return false;
    }
  }

  // After a relation operator the parser is committed: "x<" fails, it does not stop before "<".
  Node relation() {
    Node left = expr();
    if (!at(Tok::Relation)) return left;
    while (at(Tok::Relation)) {
      ++pos_;
      expr();
    }
    return leaf(Node::Relation);
  }

  Node expr() { return additive(false); }

  Node additive(bool nofunc) {
    Node left = mp(nofunc);
    for (;;) {
      Node next = left;
      if (!attempt([&] {
            if (!at(Tok::Add) && !at(Tok::Sub)) throw SyntaxError{};
            const bool minus = take().kind == Tok::Sub;
            Node right = mp(nofunc);
            next = branch(Node::Add, "", {left, minus ? branch(Node::Neg, "", {right}) : right});
          }))
        return left;
      left = std::move(next);
    }
  }

  bool at_mul_operator() {
    return at(Tok::Mul) || at(Tok::Div) || at(Tok::Colon) || at_command("times") || at_command("cdot") ||
           at_command("div");
  }

  Node mp(bool nofunc) {
    Node left = unary(nofunc);
    for (;;) {
      Node next = left;
      if (!attempt([&] {
            if (!at_mul_operator()) throw SyntaxError{};
            const Token op = take();
            const bool divide = op.kind == Tok::Div || op.kind == Tok::Colon || op.text == "div";
            Node right = unary(nofunc);
            if (divide) right = branch(Node::Pow, "", {right, branch(Node::Neg, "", {leaf(Node::Number, "1")})});
            next = branch(Node::Mul, "", {left, right});
          }))
        return left;
      left = std::move(next);
    }
  }

  Node unary(bool nofunc) {
    if (at(Tok::Add) || at(Tok::Sub)) {
      const bool minus = take().kind == Tok::Sub;
      Node inner = unary(nofunc);
      return minus ? branch(Node::Neg, "", {inner}) : inner;
    }
    // postfix+ (unary_nofunc: postfix postfix_nofunc*), then convert_postfix_list.
    number_role_ = nofunc ? NumberRole::FunctionArgument : NumberRole::FirstFactor;
    std::vector<Node> factors{postfix(false)};
    for (;;) {
      Node next;
      number_role_ = nofunc ? NumberRole::FunctionArgument : NumberRole::LaterFactor;
      if (!attempt([&] { next = postfix(nofunc); })) break;
      factors.push_back(std::move(next));
    }
    // convert_postfix_list: a lone "x" between two symbol-free factors is a multiplication sign.
    std::vector<Node> kept;
    for (size_t i = 0; i < factors.size(); ++i) {
      const bool times_sign = i > 0 && i + 1 < factors.size() && factors[i].kind == Node::Symbol &&
                              factors[i].text == "x" && !has_symbol(factors[i - 1]) && !has_symbol(factors[i + 1]);
      if (!times_sign) kept.push_back(factors[i]);
    }
    return kept.size() == 1 ? kept.front() : branch(Node::Mul, "", kept);
  }

  Node postfix(bool nofunc) {
    Node base = exp(nofunc);
    for (;;) {
      if (at(Tok::Bang)) {
        ++pos_;
        base = branch(Node::Function, "factorial", {base});
        continue;
      }
      if (at(Tok::Bar) && attempt([&] { eval_at(); })) {
        base = leaf(Node::Unsupported, "eval_at");
        continue;
      }
      return base;
    }
  }

  // BAR (^{...} | _{...} | ^{...}_{...}): evaluation bars (substitution), not ported.
  void eval_at() {
    expect(Tok::Bar);
    bool any = false;
    for (Tok mark : {Tok::Caret, Tok::Underscore}) {
      if (!at(mark)) continue;
      ++pos_;
      expect(Tok::LBrace);
      expr();
      attempt([&] {
        expect(Tok::Relation);
        expr();
      });
      expect(Tok::RBrace);
      any = true;
    }
    if (!any) throw SyntaxError{};
  }

  Node exp(bool nofunc) {
    Node base = comp(nofunc);
    for (;;) {
      Node next;
      if (!attempt([&] {
            expect(Tok::Caret);
            Node exponent;
            if (at(Tok::LBrace)) {
              ++pos_;
              exponent = expr();
              expect(Tok::RBrace);
            } else {
              number_role_ = NumberRole::FirstFactor;
              exponent = atom();
            }
            if (at(Tok::Underscore)) subexpr();  // parsed, then ignored by convert_exp
            next = branch(Node::Pow, "", {base, exponent});
          }))
        return base;
      base = std::move(next);
    }
  }

  // comp: group | abs_group | func | atom | floor | ceil (comp_nofunc: without func).
  Node comp(bool nofunc) {
    if (at(Tok::LParen) || at(Tok::LBracket) || at(Tok::LBrace) || at(Tok::LBraceLiteral)) return group();
    if (at(Tok::Bar)) {
      Node inner;
      if (attempt([&] {
            ++pos_;
            inner = expr();
            expect(Tok::Bar);
          }))
        return branch(Node::Function, "Abs", {inner});
    }
    if (!nofunc) {
      Node applied;
      if (attempt([&] { applied = func(); })) return applied;
    }
    if (at_command("lfloor") || at_command("lceil")) {
      const bool floor = take().text == "lfloor";
      Node inner = expr();
      expect_command(floor ? "rfloor" : "rceil");
      return branch(Node::Function, floor ? "floor" : "ceiling", {inner});
    }
    return atom();
  }

  Node group() {
    const Tok open = take().kind;
    const Tok close = open == Tok::LParen     ? Tok::RParen
                      : open == Tok::LBracket ? Tok::RBracket
                      : open == Tok::LBrace   ? Tok::RBrace
                                              : Tok::RBraceLiteral;
    Node inner = expr();
    expect(close);
    return inner;
  }

  // subexpr: '_' (atom | '{' expr '}'), the subscript's printed form.
  std::string subexpr() {
    expect(Tok::Underscore);
    if (at(Tok::LBrace)) {
      ++pos_;
      Node inner = expr();
      expect(Tok::RBrace);
      return print(inner);
    }
    return print(atom());
  }

  // (LETTER | SYMBOL) (subexpr? SINGLE_QUOTES? | SINGLE_QUOTES? subexpr?): the symbol's name.
  std::string name_with_suffixes() {
    const Token head = take();
    std::string name = head.text;
    std::string subscript, quotes;
    if (at(Tok::Underscore)) subscript = "_{" + subexpr() + "}";
    if (at(Tok::Quotes)) quotes = take().text;
    if (subscript.empty() && !quotes.empty() && at(Tok::Underscore)) subscript = "_{" + subexpr() + "}";
    return name + subscript + quotes;
  }

  Node atom() {
    if (at(Tok::Letter) || at_symbol()) {
      const bool is_command = at(Tok::Command);
      const std::string name = name_with_suffixes();
      if (is_command && name == "infty") return leaf(Node::Infinity);
      return leaf(Node::Symbol, name);
    }
    if (at(Tok::Digit)) return number();
    if (at(Tok::Differential)) return leaf(Node::Symbol, "d" + take().text);
    if (at_command("mathit")) {
      ++pos_;
      expect(Tok::LBrace);
      std::string text;
      while (at(Tok::Letter)) text += take().text;
      expect(Tok::RBrace);
      return leaf(Node::Symbol, text);
    }
    if (at_command("frac") || at_command("dfrac") || at_command("tfrac")) return frac();
    if (at_command("binom") || at_command("dbinom") || at_command("tbinom")) {
      ++pos_;
      Node n = braced_expr(), k = braced_expr();
      return branch(Node::Function, "binomial", {n, k});
    }
    if (at_command("langle") || at(Tok::LBar) || at(Tok::Bar)) {  // bra / ket
      ++pos_;
      expr();
      if (!(at(Tok::RBar) || at(Tok::Bar) || at_command("rangle"))) throw SyntaxError{};
      ++pos_;
      return leaf(Node::Unsupported, "bra-ket");
    }
    throw SyntaxError{};
  }

  Node braced_expr() {
    expect(Tok::LBrace);
    Node inner = expr();
    expect(Tok::RBrace);
    return inner;
  }

  // number: DIGIT+ (',' DIGIT DIGIT DIGIT)* ('.' DIGIT+)?; a "." must be followed by a digit.
  // number: DIGIT+ (',' DIGIT DIGIT DIGIT)* ('.' DIGIT+)?. A number followed by a "." that no digit
  // follows is cut as sympy's ANTLR prediction cuts it (measured): "4950." is 4*9*5 and the rest
  // of the input is dropped, "1,000,000." is 1000, "1.234." is 1.23, "12." is 1, while "5." fails.
  Node number() {
    const size_t start = pos_;
    std::string digits;
    const size_t limit = pos_ < single_digits_until_ ? 1 : digit_limit_;
    while (at(Tok::Digit) && digits.size() < limit) digits += take().text;
    digit_limit_ = std::string::npos;
    std::vector<size_t> group_starts;
    while (attempt([&] {
      const size_t group_start = pos_;
      expect(Tok::Comma);
      std::string group;
      for (int k = 0; k < 3; ++k) {
        if (!at(Tok::Digit)) throw SyntaxError{};
        group += take().text;
      }
      digits += group;
      group_starts.push_back(group_start);
    })) {
    }
    if (!at(Tok::Dot)) return leaf(Node::Number, digits);
    if (at(Tok::Digit, 1)) {
      ++pos_;
      std::string fraction;
      while (at(Tok::Digit)) fraction += take().text;
      if (at(Tok::Dot) && !at(Tok::Digit, 1) && fraction.size() >= 2) {
        fraction.pop_back();  // the last digit and all after it are not parsed
        end_input_at(pos_ - 1);
      }
      return leaf(Node::Number, digits + "." + fraction);
    }
    // "<digits>." with no digit after the ".": in a function's unbracketed argument parse_latex
    // fails ("\\sin 22."), elsewhere it cuts the number.
    if (number_role_ == NumberRole::FunctionArgument) throw Unrecoverable{};
    if (!group_starts.empty()) {  // the last ",ddd" group and all after it are not parsed
      end_input_at(group_starts.back());
      return leaf(Node::Number, digits.substr(0, digits.size() - 3));
    }
    if (digits.size() == 1) {
      // In the first factor of a term or in an exponent parse_latex fails ("5.", "x+1.", "a_2.",
      // "y^5."); in a later factor the term ends before that factor ("\\pm9." is pm).
      if (number_role_ == NumberRole::LaterFactor) throw SyntaxError{};
      throw Unrecoverable{};
    }
    // The first digit is the number, each further digit but the last a number of its own.
    end_input_at(pos_ - 1);
    single_digits_until_ = pos_ - 1;
    pos_ = start + 1;
    return leaf(Node::Number, digits.substr(0, 1));
  }

  void end_input_at(size_t index) {
    if (index < tokens_.size()) tokens_.resize(index);
  }

  // frac: CMD_FRAC (DIGIT | '{' expr '}') (DIGIT | '{' expr '}'); d/dx and partial forms are
  // derivatives (not ported).
  Node frac() {
    ++pos_;
    auto part = [&](std::vector<Token>& raw) {
      const size_t from = pos_;
      Node value = at(Tok::Digit) ? leaf(Node::Number, take().text) : braced_expr();
      raw.assign(tokens_.begin() + static_cast<long>(from), tokens_.begin() + static_cast<long>(pos_));
      return value;
    };
    std::vector<Token> upper_raw, lower_raw;
    Node upper = part(upper_raw), lower = part(lower_raw);
    const bool braced = lower_raw.size() >= 2 && lower_raw.front().kind == Tok::LBrace;
    if (braced && upper_raw.size() >= 3) {
      const std::vector<Token> inner(lower_raw.begin() + 1, lower_raw.end() - 1);
      const Token& upper_first = upper_raw[1];
      const bool differential =
          inner.size() == 1 && inner[0].kind == Tok::Differential &&
          ((upper_first.kind == Tok::Letter && upper_first.text == "d") || upper_first.kind == Tok::Differential);
      const bool partial = inner.size() == 2 && inner[0].kind == Tok::Command && inner[0].text == "partial" &&
                           upper_first.kind == Tok::Command && upper_first.text == "partial";
      if (differential || partial) return leaf(Node::Unsupported, "derivative");
    }
    Node inverse = branch(Node::Pow, "", {lower, branch(Node::Neg, "", {leaf(Node::Number, "1")})});
    if (upper.kind == Node::Number && upper.text == "1") return inverse;
    return branch(Node::Mul, "", {upper, inverse});
  }

  bool at_normal_function() {
    static const std::set<std::string> names = {
        "exp",    "log",    "lg",     "ln",     "sin",    "cos",  "tan",  "csc",  "sec",    "cot",    "arcsin",
        "arccos", "arctan", "arccsc", "arcsec", "arccot", "sinh", "cosh", "tanh", "arsinh", "arcosh", "artanh"};
    return at(Tok::Command) && names.count(peek().text);
  }

  Node func() {
    if (at_normal_function()) return normal_function();
    if (at(Tok::Letter) || at_symbol()) {  // f(x), f_1'(x, y): an undefined function
      const std::string name = name_with_suffixes();
      expect(Tok::LParen);
      std::vector<Node> args{expr()};
      while (at(Tok::Comma)) {
        ++pos_;
        args.push_back(expr());
      }
      expect(Tok::RParen);
      return branch(Node::Applied, name, args);
    }
    if (at_command("sqrt")) {
      ++pos_;
      std::optional<Node> root;
      if (at(Tok::LBracket)) {
        ++pos_;
        root = expr();
        expect(Tok::RBracket);
      }
      Node base = braced_expr();
      return root ? branch(Node::Function, "root", {base, *root}) : branch(Node::Function, "sqrt", {base});
    }
    if (at_command("overline")) {
      ++pos_;
      return branch(Node::Function, "conjugate", {braced_expr()});
    }
    if (at_command("int") || at_command("sum") || at_command("prod") || at_command("lim")) {
      // Integrals, sums, products and limits: not ported; consumed as the grammar would so that
      // what follows parses alike, then never equivalent.
      ++pos_;
      skip_calculus_body();
      return leaf(Node::Unsupported, "calculus");
    }
    throw SyntaxError{};
  }

  void skip_calculus_body() {
    // A rough skip: the optional limits, then one multiplicative part.
    for (Tok mark : {Tok::Underscore, Tok::Caret, Tok::Underscore})
      if (at(mark)) {
        ++pos_;
        if (at(Tok::LBrace)) {
          ++pos_;
          expr();
          attempt([&] {
            expect(Tok::Relation);
            expr();
          });
          if (at_command("to") || at_command("rightarrow")) {
            ++pos_;
            expr();
          }
          expect(Tok::RBrace);
        } else {
          atom();
        }
      }
    mp(false);
  }

  Node normal_function() {
    const std::string name = take().text;
    const size_t after_name = pos_;
    std::optional<Node> subscript, power;
    Node arg;
    size_t longest_script = 0;
    try {
      script_and_argument(subscript, power, arg, std::string::npos, longest_script);
      return function_of(name, subscript, power, arg);
    } catch (const SyntaxError&) {
      // A bare-digit script gives up trailing digits when the argument needs them ("\log_28" is
      // log_2(8)): ANTLR's prediction sees the whole rule, a greedy loop would not.
      for (size_t digits = longest_script; digits-- > 1;) {
        pos_ = after_name;
        subscript.reset();
        power.reset();
        size_t unused = 0;
        if (attempt([&] { script_and_argument(subscript, power, arg, digits, unused); }))
          return function_of(name, subscript, power, arg);
      }
      throw;
    }
  }

  // (subexpr? supexpr? | supexpr? subexpr?) ('(' func_arg ')' | func_arg_noparens)
  void script_and_argument(std::optional<Node>& subscript, std::optional<Node>& power, Node& arg, size_t script_digits,
                           size_t& longest_script) {
    for (int k = 0; k < 2; ++k) {
      std::optional<Node>* slot = at(Tok::Underscore) && !subscript ? &subscript
                                  : at(Tok::Caret) && !power        ? &power
                                                                    : nullptr;
      if (!slot) break;
      ++pos_;
      if (at(Tok::LBrace)) {
        *slot = braced_expr();
        continue;
      }
      if (at(Tok::Digit)) {
        size_t run = 0;
        while (at(Tok::Digit, run)) ++run;
        longest_script = std::max(longest_script, run);
        digit_limit_ = script_digits;
      }
      *slot = atom();
      digit_limit_ = std::string::npos;
    }
    if (!attempt([&] {
          expect(Tok::LParen);
          arg = expr();  // func_arg: expr (',' func_arg)?; only the first is used
          while (at(Tok::Comma)) {
            ++pos_;
            expr();
          }
          expect(Tok::RParen);
        }))
      arg = mp(true);
  }

  Node function_of(std::string name, const std::optional<Node>& subscript, std::optional<Node> power, const Node& arg) {
    if (name.rfind("arc", 0) == 0) name = "a" + name.substr(3);  // arcsin -> asin
    if (name == "arsinh" || name == "arcosh" || name == "artanh") name = "a" + name.substr(2);
    Node result;
    if (name == "log" || name == "lg" || name == "ln") {
      if (subscript)
        result = branch(Node::Function, "log", {arg, *subscript});
      else if (name == "lg")
        result = branch(Node::Function, "log", {arg, leaf(Node::Number, "10")});
      else
        result = branch(Node::Function, "ln", {arg});
    } else {
      static const std::set<std::string> trig = {"sin", "cos", "tan", "csc", "sec", "cot", "sinh", "cosh", "tanh"};
      const bool inverse = trig.count(name) && power && power->kind == Node::Neg && power->kids.size() == 1 &&
                           power->kids[0].kind == Node::Number && power->kids[0].text == "1";
      if (inverse) {
        name = "a" + name;
        power.reset();
      }
      result = branch(Node::Function, name, {arg});
    }
    if (power) result = branch(Node::Pow, "", {result, *power});
    return result;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  size_t looks_ = 0;                        // peek() calls so far (the backtracking budget)
  size_t digit_limit_ = std::string::npos;  // the next number() takes at most this many digits
  size_t single_digits_until_ = 0;          // numbers before this token index are one digit each
  // Where the next number() stands, for numbers ending in a "." (see number()).
  enum class NumberRole { FirstFactor, LaterFactor, FunctionArgument } number_role_ = NumberRole::FirstFactor;
};

// sympy.Number("01") raises SympifyError (Python has no such integer literal; "00" is one).
bool has_leading_zero_integer(const Node& n) {
  if (n.kind == Node::Number && n.text[0] == '0' && n.text.find('.') == std::string::npos &&
      n.text.find_first_not_of('0') != std::string::npos)  // "00" is a Python literal, "01" is not
    return true;
  for (const Node& kid : n.kids)
    if (has_leading_zero_integer(kid)) return true;
  return false;
}

std::optional<Node> parse_like_sympy(std::string_view latex) {
  try {
    Node parsed = Parser(lex(latex)).math();
    if (has_leading_zero_integer(parsed)) return std::nullopt;
    return parsed;
  } catch (const SyntaxError&) {
    return std::nullopt;
  } catch (const Unrecoverable&) {
    return std::nullopt;
  }
}

bool contains(const Node& n, Node::Kind kind) {
  if (n.kind == kind) return true;
  for (const Node& kid : n.kids)
    if (contains(kid, kind)) return true;
  return false;
}

// ---- GiNaC: the difference and its zero test (runs in the forked child) ----

struct NotDecidable {};  // sympy would give nan/zoo or a form not ported: not equivalent

class Algebra {
 public:
  GiNaC::ex convert(const Node& n) {
    using namespace GiNaC;
    switch (n.kind) {
      case Node::Number:
        return number(n.text);
      case Node::Symbol:
        return symbol(n.text);
      case Node::Infinity:
        throw NotDecidable{};  // oo - oo is nan; oo - x is oo: never 0
      case Node::Neg:
        return -convert(n.kids[0]);
      case Node::Add: {
        ex sum = 0;
        for (const Node& kid : n.kids) sum += convert(kid);
        return sum;
      }
      case Node::Mul: {
        ex product = 1;
        for (const Node& kid : n.kids) product *= convert(kid);
        return product;
      }
      case Node::Pow:
        return pow(convert(n.kids[0]), convert(n.kids[1]));
      case Node::Function:
        return function(n);
      case Node::Applied: {  // an undefined function: equal only to the same application
        std::string name = n.text + "(";
        for (size_t k = 0; k < n.kids.size(); ++k) {
          std::ostringstream arg;
          arg << normal(expand(convert(n.kids[k])));
          name += (k ? "," : "") + arg.str();
        }
        return symbol(name + ")");
      }
      case Node::Unsupported:
      case Node::Relation:
        throw NotDecidable{};
    }
    throw NotDecidable{};
  }

  const std::map<std::string, GiNaC::symbol>& symbols() const { return symbols_; }

 private:
  GiNaC::ex symbol(const std::string& name) {
    auto it = symbols_.find(name);
    if (it == symbols_.end()) it = symbols_.emplace(name, GiNaC::symbol(name)).first;
    return it->second;
  }

  static GiNaC::ex number(const std::string& text) {
    const size_t dot = text.find('.');
    const std::string digits = dot == std::string::npos ? text : text.substr(0, dot) + text.substr(dot + 1);
    const size_t decimals = dot == std::string::npos ? 0 : text.size() - dot - 1;
    return GiNaC::numeric(digits.c_str()) / GiNaC::pow(GiNaC::numeric(10), static_cast<int>(decimals));
  }

  GiNaC::ex function(const Node& n) {
    using namespace GiNaC;
    const std::string& f = n.text;
    const ex x = convert(n.kids[0]);
    if (f == "sqrt") return sqrt(x);
    if (f == "root") return pow(x, 1 / convert(n.kids[1]));
    if (f == "factorial") return factorial(x);
    if (f == "binomial") return binomial(x, convert(n.kids[1]));
    if (f == "Abs") return abs(x);
    if (f == "conjugate") return x.conjugate();
    if (f == "floor" || f == "ceiling") return rounded(f, x);
    if (f == "exp") return exp(x);
    if (f == "ln") return log(x);
    if (f == "log") return log(x) / log(convert(n.kids[1]));
    if (f == "sin") return sin(x);
    if (f == "cos") return cos(x);
    if (f == "tan") return tan(x);
    if (f == "csc") return 1 / sin(x);
    if (f == "sec") return 1 / cos(x);
    if (f == "cot") return cos(x) / sin(x);
    if (f == "asin") return asin(x);
    if (f == "acos") return acos(x);
    if (f == "atan") return atan(x);
    if (f == "acsc") return asin(1 / x);
    if (f == "asec") return acos(1 / x);
    if (f == "acot") return atan(1 / x);
    if (f == "sinh") return sinh(x);
    if (f == "cosh") return cosh(x);
    if (f == "tanh") return tanh(x);
    if (f == "asinh") return asinh(x);
    if (f == "acosh") return acosh(x);
    if (f == "atanh") return atanh(x);
    throw NotDecidable{};
  }

  // floor/ceiling of a real number; of anything else an opaque symbol (equal only to itself).
  GiNaC::ex rounded(const std::string& f, const GiNaC::ex& x) {
    using namespace GiNaC;
    if (is_a<numeric>(x) && ex_to<numeric>(x).is_rational()) {
      const cln::cl_RA exact = cln::the<cln::cl_RA>(ex_to<numeric>(x).to_cl_N());
      return numeric(f == "floor" ? cln::floor1(exact) : cln::ceiling1(exact));
    }
    const ex value = evalf(x);
    if (is_a<numeric>(value) && ex_to<numeric>(value).is_real()) {
      const cln::cl_R real = cln::the<cln::cl_R>(ex_to<numeric>(value).to_cl_N());
      return numeric(f == "floor" ? cln::floor1(real) : cln::ceiling1(real));
    }
    std::ostringstream name;
    name << f << "(" << normal(expand(x)) << ")";
    return symbol(name.str());
  }

  std::map<std::string, GiNaC::symbol> symbols_;
};

// ---- sympy Floats: a decimal literal is a binary float of max(53, dps_to_prec(digits)) bits ----

// A decimal Number node, possibly negated: its text.
const Node* decimal_literal(const Node& n) {
  const Node* at = &n;
  while (at->kind == Node::Neg) at = &at->kids[0];
  return at->kind == Node::Number && at->text.find('.') != std::string::npos ? at : nullptr;
}

// sympy Float(str): dps = max(15, significant digits (leading zeros dropped, trailing kept)), and
// mpmath's dps_to_prec: round((dps + 1) * log2(10)) bits.
int float_precision_bits(const std::string& decimal) {
  std::string digits;
  for (char c : decimal)
    if (c != '.') digits += c;
  const size_t first = digits.find_first_not_of('0');
  const int significant = first == std::string::npos ? 1 : static_cast<int>(digits.size() - first);
  const int dps = std::max(15, significant);
  return static_cast<int>(std::lround((dps + 1) * 3.3219280948873626));
}

// r rounded to `bits` significant bits (ties to even), as mpmath rounds.
cln::cl_RA round_to_bits(const cln::cl_RA& r, int bits) {
  if (cln::zerop(r)) return r;
  const cln::cl_RA magnitude = cln::abs(r);
  long shift = bits - (static_cast<long>(cln::integer_length(cln::numerator(magnitude))) -
                       static_cast<long>(cln::integer_length(cln::denominator(magnitude))));
  const cln::cl_RA low = cln::expt(cln::cl_RA(2), bits - 1), high = cln::expt(cln::cl_RA(2), bits);
  while (magnitude * cln::expt(cln::cl_RA(2), shift) >= high) --shift;
  while (magnitude * cln::expt(cln::cl_RA(2), shift) < low) ++shift;
  const cln::cl_I mantissa = cln::round1(magnitude * cln::expt(cln::cl_RA(2), shift));
  const cln::cl_RA rounded = mantissa * cln::expt(cln::cl_RA(2), -shift);
  return cln::minusp(r) ? cln::cl_RA(-rounded) : rounded;
}

// The exact value of a symbol-free expression, or a 100-digit rational approximation of it.
std::optional<cln::cl_RA> real_value(const GiNaC::ex& e) {
  using namespace GiNaC;
  if (is_a<numeric>(e) && ex_to<numeric>(e).is_rational()) return cln::the<cln::cl_RA>(ex_to<numeric>(e).to_cl_N());
  Digits = 100;
  const ex value = evalf(e);
  if (!is_a<numeric>(value) || !ex_to<numeric>(value).is_real()) return std::nullopt;
  return cln::rational(cln::the<cln::cl_R>(ex_to<numeric>(value).to_cl_N()));
}

// sympy subtracts a Float and a number at the Float's precision: equal when both round alike.
// nullopt where neither side is a lone decimal or the other side is not a real number.
std::optional<bool> float_comparison(const Node& a, const Node& b, Algebra& algebra) {
  const Node* decimal_a = decimal_literal(a);
  const Node* decimal_b = decimal_literal(b);
  if (!decimal_a && !decimal_b) return std::nullopt;
  const GiNaC::ex left = algebra.convert(a), right = algebra.convert(b);
  if (!algebra.symbols().empty()) return std::nullopt;
  const auto x = real_value(left), y = real_value(right);
  if (!x || !y) return std::nullopt;
  const int bits = std::max(decimal_a ? float_precision_bits(decimal_a->text) : 0,
                            decimal_b ? float_precision_bits(decimal_b->text) : 0);
  return round_to_bits(*x, bits) == round_to_bits(*y, bits);
}

// sympy.simplify(a - b) == 0, decided as: expand + normal is 0, or else the difference vanishes to
// 40 digits at three complex sample points (sympy symbols are complex).
bool difference_is_zero(const Node& a, const Node& b) {
  using namespace GiNaC;
  Algebra algebra;
  const ex left = algebra.convert(a), right = algebra.convert(b);
  const ex diff = left - right;
  if (normal(expand(diff)).is_zero()) return true;
  Digits = 60;
  const numeric tolerance("1e-40");
  static const int kPoints[3][2] = {{37, 21}, {-53, 44}, {71, -29}};  // hundredths: re, im
  for (const auto& point : kPoints) {
    exmap values;
    int k = 0;
    for (const auto& [name, sym] : algebra.symbols()) {
      values[sym] = numeric(point[0] + 13 * k, 100) + I * numeric(point[1] + 7 * k, 100);
      ++k;
    }
    const ex d = evalf(diff.subs(values));
    const ex scale = evalf(abs(left.subs(values)) + abs(right.subs(values)));  // relative: 1/2004! is not 0
    if (!is_a<numeric>(d) || !is_a<numeric>(scale)) return false;
    if (abs(ex_to<numeric>(d)) > tolerance * ex_to<numeric>(scale)) return false;
    if (algebra.symbols().empty()) break;
  }
  return true;
}

bool decide(const Node& a, const Node& b) {
  try {
    Algebra algebra;
    if (const auto decided = float_comparison(a, b, algebra)) return *decided;
    return difference_is_zero(a, b);
  } catch (...) {  // GiNaC's pole and domain errors, NotDecidable: lm-eval's `except Exception`
    return false;
  }
}

// ---- which comparisons are cheap enough to run without the timeout ----

// The value of a symbol-free expression of small numbers, in double; nullopt when it is not one
// (a symbol, a function, a literal over 6 digits) or its magnitude passes 1e6.
std::optional<double> small_value(const Node& n) {
  std::optional<double> v;
  switch (n.kind) {
    case Node::Number:
      if (n.text.size() <= 6) v = std::stod(n.text);
      break;
    case Node::Neg:
      if (auto x = small_value(n.kids[0])) v = -*x;
      break;
    case Node::Add:
    case Node::Mul: {
      double total = n.kind == Node::Add ? 0 : 1;
      for (const Node& kid : n.kids) {
        const auto x = small_value(kid);
        if (!x) return std::nullopt;
        total = n.kind == Node::Add ? total + *x : total * *x;
      }
      v = total;
      break;
    }
    case Node::Pow: {
      const auto base = small_value(n.kids[0]), exponent = small_value(n.kids[1]);
      if (base && exponent && std::fabs(*exponent) <= 64 && *base != 0) v = std::pow(*base, *exponent);
      break;
    }
    default:
      break;
  }
  if (v && !(std::isfinite(*v) && std::fabs(*v) <= 1e6)) return std::nullopt;
  return v;
}

// An upper estimate of the terms GiNaC's expand() makes, or nullopt where the work has no small
// bound (large powers or factorials, long numbers, unknown shapes): those run under the timeout.
std::optional<double> expanded_terms(const Node& n) {
  constexpr double kLimit = 5000;
  auto bounded = [&](double terms) -> std::optional<double> {
    if (terms > kLimit) return std::nullopt;
    return terms;
  };
  switch (n.kind) {
    case Node::Number:
      return n.text.size() <= 50 ? std::optional<double>(1) : std::nullopt;
    case Node::Symbol:
      return 1.0;
    case Node::Neg:
      return expanded_terms(n.kids[0]);
    case Node::Add:
    case Node::Mul: {
      double total = n.kind == Node::Add ? 0 : 1;
      for (const Node& kid : n.kids) {
        const auto t = expanded_terms(kid);
        if (!t) return std::nullopt;
        total = n.kind == Node::Add ? total + *t : total * *t;
        if (total > kLimit) return std::nullopt;
      }
      return total;
    }
    case Node::Pow: {
      const auto base = expanded_terms(n.kids[0]);
      const auto exponent = small_value(n.kids[1]);
      if (!base || !exponent) return std::nullopt;
      const double e = std::fabs(*exponent);
      if (e != std::floor(e)) return base;  // roots stay unexpanded
      if (e > 64) return std::nullopt;
      if (const auto numeric_base = small_value(n.kids[0]))  // digits of the power: e * log10|base|
        return e * std::log10(std::fabs(*numeric_base) + 1) <= 2000 ? std::optional<double>(1) : std::nullopt;
      double terms = 1;  // C(e + t - 1, t - 1): the monomials of a t-term sum to the e-th power
      for (int k = 1; k <= static_cast<int>(e); ++k) terms = terms * (*base + k - 1) / k;
      return bounded(terms);
    }
    case Node::Function: {
      if (n.text == "factorial" || n.text == "binomial") {
        for (const Node& kid : n.kids) {
          const auto v = small_value(kid);
          if (!v || std::fabs(*v) > 1000) return std::nullopt;
        }
        return 1.0;
      }
      double total = 1;
      for (const Node& kid : n.kids) {
        const auto t = expanded_terms(kid);
        if (!t) return std::nullopt;
        total *= *t;
      }
      return bounded(total);
    }
    case Node::Applied: {
      for (const Node& kid : n.kids)
        if (!expanded_terms(kid)) return std::nullopt;
      return 1.0;
    }
    default:
      return std::nullopt;
  }
}

// GiNaC is not thread-safe (shared reference counts, the global Digits): one comparison at a time,
// and no fork while one is under way.
std::mutex& algebra_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

std::optional<std::string> latex_to_sympy_form(std::string_view latex) {
  const auto node = parse_like_sympy(latex);
  if (!node) return std::nullopt;
  return print(*node);
}

bool latex_sympy_equivalent(std::string_view x1, std::string_view x2, std::chrono::milliseconds timeout) {
  const auto a = parse_like_sympy(x1), b = parse_like_sympy(x2);
  if (!a || !b) return false;                                                      // LaTeXParsingError
  if (a->kind == Node::Relation || b->kind == Node::Relation) return false;        // Eq - x: TypeError
  if (contains(*a, Node::Infinity) || contains(*b, Node::Infinity)) return false;  // nan or oo, never 0
  // The same expression twice: sympy's a - b cancels the like terms to 0 before evaluating them
  // (so even "10^{10^{10}}" or "\frac{0}{0}" twice is equivalent there).
  if (print(*a) == print(*b)) return true;
  const auto terms_a = expanded_terms(*a), terms_b = expanded_terms(*b);
  if (terms_a && terms_b && *terms_a + *terms_b <= 5000) {
    // Small, bounded work (milliseconds): no timeout needed, and no fork, whose page-table copy
    // costs tens of milliseconds in a process holding a model.
    std::lock_guard<std::mutex> lock(algebra_mutex());
    return decide(*a, *b);
  }
  std::unique_lock<std::mutex> lock(algebra_mutex());
  const pid_t child = ::fork();
  lock.unlock();
  if (child < 0) fail("MATH answer equivalence: cannot fork the algebra process ({})", std::strerror(errno));
  if (child == 0) {
    // The child: default SIGALRM (terminate) after `timeout`, like lm-eval's signal.alarm(5).
    std::signal(SIGALRM, SIG_DFL);
    sigset_t alarm_only;
    sigemptyset(&alarm_only);
    sigaddset(&alarm_only, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &alarm_only, nullptr);
    itimerval limit{};
    const long long ms = timeout.count() > 0 ? timeout.count() : 1;
    limit.it_value.tv_sec = static_cast<time_t>(ms / 1000);
    limit.it_value.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
    ::setitimer(ITIMER_REAL, &limit, nullptr);
    ::_exit(decide(*a, *b) ? 0 : 1);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) fail("MATH answer equivalence: waitpid failed ({})", std::strerror(errno));
  }
  // Exit 0: equal. Exit 1: not equal. Killed (SIGALRM: the timeout): lm-eval's TimeoutError, False.
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace gemma::scorers
