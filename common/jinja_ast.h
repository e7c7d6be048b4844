#pragma once
// Private to the Jinja engine (common/jinja_*.cpp): tokens, the syntax tree and the error helper. The
// public interface is common/jinja.h.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/jinja.h"

namespace gemma::jinja::detail {

// Nested expressions and blocks deeper than this are refused when parsing, so neither the recursive
// parser nor the recursive renderer can exhaust the stack on hostile input.
constexpr int kMaxNesting = 128;
// The depth of an expression tree, chains included (a + b + c ... is as deep as it is long).
constexpr int kMaxChainDepth = 512;

struct Position {
  int line = 1;    // 1-based within the template source
  int column = 1;  // 1-based, in code points
};

// Where a template came from, to format "ORIGIN:LINE:COLUMN: message".
struct SourceInfo {
  std::string origin;
  int first_line = 1;
  [[noreturn]] void fail(Position position, const std::string& message) const;
};

enum class TokenType {
  Text,           // data between tags (whitespace control already applied)
  VariableBegin,  // {{
  VariableEnd,    // }}
  BlockBegin,     // {%
  BlockEnd,       // %}
  Name,
  String,   // value: the decoded literal
  Integer,  // integer
  Float,    // number
  Operator,
  End,
};

struct Token {
  Token(TokenType type_, std::string value_, Position position_)
      : type(type_), value(std::move(value_)), position(position_) {}
  TokenType type;
  std::string value;
  Position position;
  int64_t integer = 0;
  double number = 0;
};

std::vector<Token> tokenize(std::string_view source, const Options& options, const SourceInfo& info);

enum class ExprKind {
  Literal,    // literal
  Name,       // name
  List,       // children: items (also tuples)
  Dict,       // children: key, value, key, value, ...
  Attribute,  // children[0].name
  Item,       // children[0][children[1]]
  Slice,      // children[0][children[1]:children[2]:children[3]], absent bounds are null
  Call,       // children[0](children[1..], keywords)
  Filter,     // children[0] | name(children[1..], keywords)
  Test,       // children[0] is [not] name(children[1..])
  Negate,     // -children[0]
  Plus,       // +children[0]
  Binary,     // children[0] name children[1]: + - * / // % ** ~
  Compare,    // children[0] operators[0] children[1] operators[1] children[2] ...: == != < <= > >= in notin
  And,
  Or,
  Not,
  Condition,  // children[0] if children[1] else children[2] (null when absent)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind;
  Position position;
  Value literal;
  std::string name;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> keywords;
  std::vector<std::string> operators;
  bool negated = false;  // Test: `is not`
  int depth = 1;         // of the tree below, this node included (leaves are 1)
};

enum class NodeKind {
  Text,      // text
  Output,    // {{ expression }}
  If,        // branches: (condition, body); the else branch has no condition
  For,       // for targets in expression [if filter]: body [else: else_body]
  Set,       // set targets = expression, or set targets[0].attribute = expression
  SetBlock,  // set targets[0] %}body{% endset
  Scope,     // a block rendered as is: {% generation %} of transformers' AssistantTracker
  Break,     // {% break %} (Options::loop_controls)
  Continue,  // {% continue %}
};

struct Node {
  Node(NodeKind kind_, Position position_, std::string text_ = {})
      : kind(kind_), position(position_), text(std::move(text_)) {}
  NodeKind kind;
  Position position;
  std::string text;
  ExprPtr expression;
  ExprPtr filter;
  std::vector<std::string> targets;
  std::string attribute;  // Set: `set ns.attribute = ...`
  std::vector<std::pair<ExprPtr, std::vector<Node>>> branches;
  std::vector<Node> body;
  std::vector<Node> else_body;
};

std::vector<Node> parse(std::vector<Token> tokens, const SourceInfo& info, bool loop_controls);

// A parsed template: what Template holds and the renderer walks.
struct Compiled {
  SourceInfo info;
  Options options;
  std::vector<Node> body;
};

std::string render(const Compiled& compiled, const Value& context);
Value evaluate(const Compiled& compiled, const Value& context);

}  // namespace gemma::jinja::detail

namespace gemma::jinja {

struct Template::Parsed : detail::Compiled {};

}  // namespace gemma::jinja

// Python semantics of JSON values (common/jinja_values.cpp).
namespace gemma::jinja::detail {

// Python's repr() (strings quoted and escaped as repr does; floats as float.__repr__).
std::string python_repr(const Value& value);
// Python's repr of a float: the shortest text that reads back the same, "1.0", "1e-05", "1e+16", "inf".
std::string python_float_repr(double value);
// The Python type name of the value as Python would have it after json.loads: str, int, float, bool,
// NoneType, list, dict.
const char* python_type_name(const Value& value);
bool is_number(const Value& value);    // bool, int or float (Python's numbers.Number)
bool is_integral(const Value& value);  // bool or int
// Python's ==: 1 == 1.0 == True, lists and dicts element by element.
bool python_equal(const Value& a, const Value& b);
// Python's ordering (<0, 0, >0) of numbers, strings and lists; false where Python raises TypeError.
bool python_compare(const Value& a, const Value& b, int& order);
// Python's json.dumps(value, ensure_ascii=..., indent=..., sort_keys=...), with jinja's htmlsafe escapes
// (<, >, &, ' as \u003c ...) when html_safe.
std::string json_dumps(const Value& value, bool sort_keys, bool ensure_ascii, bool html_safe, int indent,
                       const std::string& item_separator, const std::string& key_separator);

}  // namespace gemma::jinja::detail
