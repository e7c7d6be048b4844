// The Jinja parser: tokens into the syntax tree, with jinja2/parser.py's grammar and precedence
// (condexpr < or < and < not < comparisons and `in` < + - < ~ < * / // % < ** < unary - + < postfix . [] ()
// and filters | and tests `is`).
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/jinja_ast.h"

namespace gemma::jinja::detail {
namespace {

const std::set<std::string>& unsupported_tags() {
  static const std::set<std::string> tags = {"macro",   "call",   "filter",   "block", "extends",
                                             "include", "import", "from",     "with",  "autoescape",
                                             "do",      "break",  "continue", "trans", "pluralize"};
  return tags;
}

std::string describe(const Token& token) {
  switch (token.type) {
    case TokenType::Text:
      return "template text";
    case TokenType::VariableBegin:
      return "'{{'";
    case TokenType::VariableEnd:
      return "end of print statement '}}'";
    case TokenType::BlockBegin:
      return "'{%'";
    case TokenType::BlockEnd:
      return "end of statement block '%}'";
    case TokenType::Name:
      return fmt::format("'{}'", token.value);
    case TokenType::String:
      return "a string";
    case TokenType::Integer:
    case TokenType::Float:
      return "a number";
    case TokenType::Operator:
      return fmt::format("'{}'", token.value);
    case TokenType::End:
      return "the end of the template";
  }
  return "a token";
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const SourceInfo& info, bool loop_controls)
      : tokens_(std::move(tokens)), info_(info), loop_controls_(loop_controls) {}

  std::vector<Node> parse_template() {
    std::vector<Node> body = parse_body({}, nullptr);
    return body;
  }

 private:
  // ---- token stream ----
  const Token& current() const { return tokens_[index_]; }
  const Token& peek(size_t ahead = 1) const { return tokens_[std::min(index_ + ahead, tokens_.size() - 1)]; }
  const Token& advance() {
    const Token& token = tokens_[index_];
    if (index_ + 1 < tokens_.size()) ++index_;
    return token;
  }
  bool is_operator(const char* op) const { return current().type == TokenType::Operator && current().value == op; }
  bool is_name(const char* name) const { return current().type == TokenType::Name && current().value == name; }
  bool skip_operator(const char* op) {
    if (!is_operator(op)) return false;
    advance();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }
  [[noreturn]] void unexpected(const std::string& expected) const {
    info_.fail(current().position, fmt::format("expected {}, got {}", expected, describe(current())));
  }
  void expect_operator(const char* op) {
    if (!skip_operator(op)) unexpected(fmt::format("'{}'", op));
  }
  void expect_block_end() {
    if (current().type != TokenType::BlockEnd) unexpected("end of statement block '%}'");
    advance();
  }
  std::string expect_name(const char* what) {
    if (current().type != TokenType::Name) unexpected(what);
    return advance().value;
  }

  // Bounds the recursion of both the parser and, through the depth of the tree, the renderer.
  struct DepthGuard {
    DepthGuard(Parser& parser, Position position) : parser_(parser) {
      if (++parser_.depth_ > kMaxNesting)
        parser_.info_.fail(position, fmt::format("the template nests deeper than {} levels", kMaxNesting));
    }
    ~DepthGuard() { --parser_.depth_; }
    Parser& parser_;
  };

  // ---- statements ----

  // Parses nodes until `{% name %}` for a name in `end_tags`, and leaves the stream at that name. `opener`
  // (the tag that needs closing) is named when the template ends first.
  std::vector<Node> parse_body(const std::set<std::string>& end_tags, const Token* opener) {
    std::vector<Node> body;
    while (true) {
      const Token& token = current();
      switch (token.type) {
        case TokenType::Text:
          body.push_back(Node{NodeKind::Text, token.position, token.value});
          advance();
          break;
        case TokenType::VariableBegin: {
          advance();
          Node node{NodeKind::Output, token.position};
          node.expression = parse_tuple(true, false, {});
          if (current().type != TokenType::VariableEnd) unexpected("end of print statement '}}'");
          advance();
          body.push_back(std::move(node));
          break;
        }
        case TokenType::BlockBegin: {
          const Token& name = peek();
          if (name.type == TokenType::Name && end_tags.count(name.value) != 0) {
            advance();
            return body;
          }
          advance();
          body.push_back(parse_statement(token));
          break;
        }
        case TokenType::End:
          if (opener != nullptr) {
            std::string expected;
            for (const std::string& tag : end_tags) expected += (expected.empty() ? "'" : " or '") + tag + "'";
            info_.fail(opener->position, fmt::format("the {{% {} %}} block opened here is never closed: the template "
                                                     "ended where {} was expected",
                                                     peek_name_at(*opener), expected));
          }
          return body;
        default:
          unexpected("template text or a tag");
      }
    }
  }

  std::string peek_name_at(const Token& block_begin) const {
    const size_t at = static_cast<size_t>(&block_begin - tokens_.data());
    return at + 1 < tokens_.size() ? tokens_[at + 1].value : std::string();
  }

  Node parse_statement(const Token& block_begin) {
    DepthGuard guard(*this, block_begin.position);
    if (current().type != TokenType::Name) unexpected("a statement name (if, for, set, ...)");
    const std::string keyword = current().value;
    if (keyword == "if") return parse_if(block_begin);
    if (keyword == "for") return parse_for(block_begin);
    if (keyword == "set") return parse_set(block_begin);
    if ((keyword == "break" || keyword == "continue") && loop_controls_) {
      if (loop_depth_ == 0) info_.fail(current().position, fmt::format("'{}' outside of a for loop", keyword));
      advance();
      expect_block_end();
      return Node{keyword == "break" ? NodeKind::Break : NodeKind::Continue, block_begin.position};
    }
    if (keyword == "generation") {
      advance();
      expect_block_end();
      Node node{NodeKind::Scope, block_begin.position};
      node.body = parse_body({"endgeneration"}, &block_begin);
      advance();
      expect_block_end();
      return node;
    }
    if (unsupported_tags().count(keyword) != 0)
      info_.fail(current().position, fmt::format("the {{% {} %}} tag is not supported by this Jinja subset", keyword));
    info_.fail(current().position, fmt::format("unknown or misplaced tag '{}'", keyword));
  }

  Node parse_if(const Token& block_begin) {
    advance();  // if
    Node node{NodeKind::If, block_begin.position};
    ExprPtr condition = parse_tuple(false, false, {});
    expect_block_end();
    while (true) {
      std::vector<Node> body = parse_body({"elif", "else", "endif"}, &block_begin);
      node.branches.emplace_back(std::move(condition), std::move(body));
      const std::string tag = advance().value;
      if (tag == "elif") {
        condition = parse_tuple(false, false, {});
        expect_block_end();
      } else if (tag == "else") {
        expect_block_end();
        node.branches.emplace_back(nullptr, parse_body({"endif"}, &block_begin));
        advance();
        expect_block_end();
        return node;
      } else {
        expect_block_end();
        return node;
      }
    }
  }

  // Names, comma-separated and optionally in parentheses: `x`, `k, v`, `(k, v)`.
  std::vector<std::string> parse_target_names() {
    std::vector<std::string> names;
    const bool parenthesised = skip_operator("(");
    do {
      names.push_back(expect_name("a variable name"));
    } while (skip_operator(","));
    if (parenthesised) expect_operator(")");
    return names;
  }

  Node parse_for(const Token& block_begin) {
    advance();  // for
    Node node{NodeKind::For, block_begin.position};
    node.targets = parse_target_names();
    if (!skip_name("in")) unexpected("'in'");
    node.expression = parse_tuple(false, false, {"recursive"});
    if (skip_name("if")) node.filter = parse_expression(true);
    if (is_name("recursive"))
      info_.fail(current().position, "recursive for loops are not supported by this Jinja subset");
    expect_block_end();
    ++loop_depth_;
    node.body = parse_body({"endfor", "else"}, &block_begin);
    --loop_depth_;
    if (advance().value == "else") {
      expect_block_end();
      node.else_body = parse_body({"endfor"}, &block_begin);
      advance();
    }
    expect_block_end();
    return node;
  }

  Node parse_set(const Token& block_begin) {
    advance();  // set
    Node node{NodeKind::Set, block_begin.position};
    if (current().type == TokenType::Name && peek().type == TokenType::Operator && peek().value == ".") {
      node.targets.push_back(advance().value);
      advance();
      node.attribute = expect_name("an attribute name");
    } else {
      node.targets = parse_target_names();
    }
    if (skip_operator("=")) {
      node.expression = parse_tuple(true, false, {});
      expect_block_end();
      return node;
    }
    if (node.targets.size() != 1 || !node.attribute.empty()) unexpected("'='");
    expect_block_end();
    node.kind = NodeKind::SetBlock;
    node.body = parse_body({"endset"}, &block_begin);
    advance();
    expect_block_end();
    return node;
  }

  // ---- expressions ----

  ExprPtr make(ExprKind kind, Position position) {
    auto expr = std::make_unique<Expr>();
    expr->kind = kind;
    expr->position = position;
    return expr;
  }

  bool at_tuple_end(const std::set<std::string>& extra_end_names) const {
    const Token& token = current();
    if (token.type == TokenType::VariableEnd || token.type == TokenType::BlockEnd || token.type == TokenType::End)
      return true;
    if (token.type == TokenType::Operator && token.value == ")") return true;
    return token.type == TokenType::Name && extra_end_names.count(token.value) != 0;
  }

  // An expression, or several separated by commas as a tuple (a list here): `{% set a, b = 1, 2 %}`.
  ExprPtr parse_tuple(bool with_condition, bool explicit_parentheses, const std::set<std::string>& extra_end_names) {
    const Position start = current().position;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_operator(",");
      if (at_tuple_end(extra_end_names)) break;
      items.push_back(parse_expression(with_condition));
      if (is_operator(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parentheses) unexpected("an expression");
    }
    ExprPtr tuple = make(ExprKind::List, start);
    tuple->children = std::move(items);
    return tuple;
  }

  ExprPtr parse_expression(bool with_condition) {
    DepthGuard guard(*this, current().position);
    return with_condition ? parse_condition() : parse_or();
  }

  ExprPtr parse_condition() {
    ExprPtr expr = parse_or();
    while (is_name("if")) {
      const Position position = advance().position;
      ExprPtr condition = parse_or();
      ExprPtr otherwise;
      if (skip_name("else")) otherwise = parse_condition();
      ExprPtr node = make(ExprKind::Condition, position);
      node->children.push_back(std::move(expr));
      node->children.push_back(std::move(condition));
      node->children.push_back(std::move(otherwise));
      expr = bounded(std::move(node));
    }
    return expr;
  }

  ExprPtr binary(ExprKind kind, Position position, ExprPtr left, ExprPtr right, std::string op = {}) {
    ExprPtr node = make(kind, position);
    node->name = std::move(op);
    node->children.push_back(std::move(left));
    node->children.push_back(std::move(right));
    return bounded(std::move(node));
  }

  // Chains built by loops (a + b + c ..., a.b.c ..., x|f|g ...) nest without recursing in the parser; their
  // depth is bounded here so that the recursive renderer is bounded too.
  ExprPtr bounded(ExprPtr node) {
    int depth = 0;
    for (const ExprPtr& child : node->children)
      if (child != nullptr) depth = std::max(depth, child->depth);
    node->depth = depth + 1;
    if (node->depth > kMaxChainDepth)
      info_.fail(node->position, fmt::format("the expression nests deeper than {} levels", kMaxChainDepth));
    return node;
  }

  ExprPtr parse_or() {
    ExprPtr expr = parse_and();
    while (is_name("or")) {
      const Position position = advance().position;
      expr = binary(ExprKind::Or, position, std::move(expr), parse_and());
    }
    return expr;
  }

  ExprPtr parse_and() {
    ExprPtr expr = parse_not();
    while (is_name("and")) {
      const Position position = advance().position;
      expr = binary(ExprKind::And, position, std::move(expr), parse_not());
    }
    return expr;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      const Position position = advance().position;
      DepthGuard guard(*this, position);
      ExprPtr node = make(ExprKind::Not, position);
      node->children.push_back(parse_not());
      return bounded(std::move(node));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Position position = current().position;
    ExprPtr first = parse_math1();
    ExprPtr node;
    while (true) {
      std::string op;
      if (current().type == TokenType::Operator &&
          (current().value == "==" || current().value == "!=" || current().value == "<" || current().value == "<=" ||
           current().value == ">" || current().value == ">=")) {
        op = advance().value;
      } else if (is_name("in")) {
        advance();
        op = "in";
      } else if (is_name("not") && peek().type == TokenType::Name && peek().value == "in") {
        advance();
        advance();
        op = "not in";
      } else {
        break;
      }
      if (!node) {
        node = make(ExprKind::Compare, position);
        node->children.push_back(std::move(first));
      }
      node->operators.push_back(op);
      node->children.push_back(parse_math1());
    }
    return node ? bounded(std::move(node)) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr expr = parse_concat();
    while (is_operator("+") || is_operator("-")) {
      const Token& op = advance();
      expr = binary(ExprKind::Binary, op.position, std::move(expr), parse_concat(), op.value);
    }
    return expr;
  }

  ExprPtr parse_concat() {
    ExprPtr expr = parse_math2();
    while (is_operator("~")) {
      const Token& op = advance();
      expr = binary(ExprKind::Binary, op.position, std::move(expr), parse_math2(), "~");
    }
    return expr;
  }

  ExprPtr parse_math2() {
    ExprPtr expr = parse_pow();
    while (is_operator("*") || is_operator("/") || is_operator("//") || is_operator("%")) {
      const Token& op = advance();
      expr = binary(ExprKind::Binary, op.position, std::move(expr), parse_pow(), op.value);
    }
    return expr;
  }

  ExprPtr parse_pow() {
    ExprPtr expr = parse_unary(true);
    while (is_operator("**")) {
      const Token& op = advance();
      expr = binary(ExprKind::Binary, op.position, std::move(expr), parse_unary(true), "**");
    }
    return expr;
  }

  ExprPtr parse_unary(bool with_filter) {
    const Position position = current().position;
    DepthGuard guard(*this, position);
    ExprPtr node;
    if (is_operator("-") || is_operator("+")) {
      const bool negate = advance().value == "-";
      node = make(negate ? ExprKind::Negate : ExprKind::Plus, position);
      node->children.push_back(parse_unary(false));
      node = bounded(std::move(node));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expression(std::move(node));
    return node;
  }

  ExprPtr literal(Position position, Value value) {
    ExprPtr node = make(ExprKind::Literal, position);
    node->literal = std::move(value);
    return node;
  }

  ExprPtr parse_primary() {
    const Token& token = current();
    const Position position = token.position;
    switch (token.type) {
      case TokenType::Name: {
        advance();
        if (token.value == "true" || token.value == "True") return literal(position, true);
        if (token.value == "false" || token.value == "False") return literal(position, false);
        if (token.value == "none" || token.value == "None") return literal(position, nullptr);
        ExprPtr node = make(ExprKind::Name, position);
        node->name = token.value;
        return node;
      }
      case TokenType::String: {
        std::string text;
        while (current().type == TokenType::String) text += advance().value;  // "a" "b" is "ab", as in Python
        return literal(position, text);
      }
      case TokenType::Integer:
        advance();
        return literal(position, token.integer);
      case TokenType::Float:
        advance();
        return literal(position, token.number);
      case TokenType::Operator:
        if (token.value == "(") {
          advance();
          ExprPtr inner = parse_tuple(true, true, {});
          expect_operator(")");
          return inner;
        }
        if (token.value == "[") {
          advance();
          ExprPtr list = make(ExprKind::List, position);
          while (!is_operator("]")) {
            if (!list->children.empty()) expect_operator(",");
            if (is_operator("]")) break;
            list->children.push_back(parse_expression(true));
          }
          advance();
          return list;
        }
        if (token.value == "{") {
          advance();
          ExprPtr dict = make(ExprKind::Dict, position);
          while (!is_operator("}")) {
            if (!dict->children.empty()) expect_operator(",");
            if (is_operator("}")) break;
            dict->children.push_back(parse_expression(true));
            expect_operator(":");
            dict->children.push_back(parse_expression(true));
          }
          advance();
          return dict;
        }
        break;
      default:
        break;
    }
    unexpected("an expression");
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_operator(".") || is_operator("[")) {
        node = bounded(parse_subscript(std::move(node)));
      } else if (is_operator("(")) {
        node = bounded(parse_call(std::move(node)));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expression(ExprPtr node) {
    while (true) {
      if (is_operator("|")) {
        node = bounded(parse_filter(std::move(node)));
      } else if (is_name("is")) {
        node = bounded(parse_test(std::move(node)));
      } else if (is_operator("(")) {
        node = bounded(parse_call(std::move(node)));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    const Token& token = advance();
    if (token.value == ".") {
      const Token& attribute = current();
      if (attribute.type == TokenType::Name) {
        advance();
        ExprPtr node = make(ExprKind::Attribute, object->position);
        node->name = attribute.value;
        node->children.push_back(std::move(object));
        return node;
      }
      if (attribute.type == TokenType::Integer) {
        advance();
        ExprPtr node = make(ExprKind::Item, object->position);
        node->children.push_back(std::move(object));
        node->children.push_back(literal(attribute.position, attribute.integer));
        return node;
      }
      unexpected("an attribute name or index after '.'");
    }
    // `[`: an index or a slice start:stop:step, each part optional.
    const Position position = object->position;
    ExprPtr start, stop, step;
    bool is_slice = false;
    if (!is_operator(":")) start = parse_expression(true);
    if (skip_operator(":")) {
      is_slice = true;
      if (!is_operator("]") && !is_operator(":")) stop = parse_expression(true);
      if (skip_operator(":") && !is_operator("]")) step = parse_expression(true);
    }
    expect_operator("]");
    ExprPtr node = make(is_slice ? ExprKind::Slice : ExprKind::Item, position);
    node->children.push_back(std::move(object));
    node->children.push_back(std::move(start));
    if (is_slice) {
      node->children.push_back(std::move(stop));
      node->children.push_back(std::move(step));
    }
    return node;
  }

  // `(args, name=value)` into `node`'s children (after those it has) and keywords.
  void parse_arguments(Expr& node) {
    expect_operator("(");
    bool first = true;
    while (!is_operator(")")) {
      if (!first) expect_operator(",");
      first = false;
      if (is_operator(")")) break;
      if (is_operator("*") || is_operator("**"))
        info_.fail(current().position, "*args and **kwargs in calls are not supported by this Jinja subset");
      if (current().type == TokenType::Name && peek().type == TokenType::Operator && peek().value == "=") {
        std::string name = advance().value;
        advance();
        node.keywords.emplace_back(std::move(name), parse_expression(true));
      } else {
        if (!node.keywords.empty()) info_.fail(current().position, "a positional argument follows a keyword argument");
        node.children.push_back(parse_expression(true));
      }
    }
    advance();
  }

  ExprPtr parse_call(ExprPtr callee) {
    ExprPtr node = make(ExprKind::Call, callee->position);
    node->children.push_back(std::move(callee));
    parse_arguments(*node);
    return node;
  }

  std::string parse_dotted_name(const char* what) {
    std::string name = expect_name(what);
    while (is_operator(".") && peek().type == TokenType::Name) {
      advance();
      name += "." + advance().value;
    }
    return name;
  }

  ExprPtr parse_filter(ExprPtr operand) {
    const Position position = advance().position;  // |
    ExprPtr node = make(ExprKind::Filter, position);
    node->name = parse_dotted_name("a filter name");
    node->children.push_back(std::move(operand));
    if (is_operator("(")) parse_arguments(*node);
    return node;
  }

  ExprPtr parse_test(ExprPtr operand) {
    const Position position = advance().position;  // is
    ExprPtr node = make(ExprKind::Test, position);
    node->negated = skip_name("not");
    node->name = parse_dotted_name("a test name");
    node->children.push_back(std::move(operand));
    const Token& next = current();
    if (is_operator("(")) {
      parse_arguments(*node);
    } else if ((next.type == TokenType::Name || next.type == TokenType::String || next.type == TokenType::Integer ||
                next.type == TokenType::Float || is_operator("[") || is_operator("{")) &&
               !(next.type == TokenType::Name &&
                 (next.value == "else" || next.value == "or" || next.value == "and" || next.value == "if" ||
                  next.value == "in" || next.value == "not" || next.value == "is"))) {
      // `x is divisibleby 3`, `x is sameas false`: one argument without parentheses.
      node->children.push_back(parse_postfix(parse_primary()));
    }
    return node;
  }

  std::vector<Token> tokens_;
  const SourceInfo& info_;
  size_t index_ = 0;
  int depth_ = 0;
  bool loop_controls_ = false;  // Options::loop_controls: break and continue are statements
  int loop_depth_ = 0;          // for loops around the statement being parsed
};

}  // namespace

std::vector<Node> parse(std::vector<Token> tokens, const SourceInfo& info, bool loop_controls) {
  return Parser(std::move(tokens), info, loop_controls).parse_template();
}

}  // namespace gemma::jinja::detail
