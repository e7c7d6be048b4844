// The Jinja renderer: walks the syntax tree with Python semantics (jinja2/runtime.py, filters.py,
// tests.py, and Python's str, list and dict methods that templates call).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "common/jinja_ast.h"
#include "common/python_float.h"
#include "common/python_text.h"
#include "common/utf8.h"

namespace gemma::jinja {
namespace detail {
namespace {

// The sandbox's bound on range() (jinja2/sandbox.py MAX_RANGE), and on repeated strings and lists.
constexpr int64_t kMaxRange = 100000;
constexpr size_t kMaxBuiltSize = 64u << 20;
// A namespace attribute set in a loop ({% set ns.x = [ns.x] %}) could nest a value without bound, and
// copying or printing it recurses; it is refused beyond this depth.
constexpr int kMaxValueDepth = 256;

int value_depth(const Value& value, int depth) {
  if (depth > kMaxValueDepth || !value.is_structured()) return depth;
  int deepest = depth;
  for (const Value& item : value) deepest = std::max(deepest, value_depth(item, depth + 1));
  return deepest;
}

// A value while rendering: JSON (borrowed from the context or a variable, or computed) or Undefined.
class Val {
 public:
  static Val borrow(const Value& value) {
    Val v;
    v.ref_ = &value;
    return v;
  }
  static Val own(Value value) {
    Val v;
    v.owned_ = std::move(value);
    return v;
  }
  // `message` is what using it reports: "'x' is undefined", "'dict object' has no attribute 'y'".
  static Val undefined(std::string message, bool silent = false) {
    Val v;
    v.undefined_ = true;
    v.silent_ = silent;
    v.message_ = std::move(message);
    return v;
  }
  bool is_undefined() const { return undefined_; }
  bool is_borrowed() const { return ref_ != nullptr; }
  bool is_silent() const { return silent_; }
  const std::string& message() const { return message_; }
  const Value& json() const { return ref_ != nullptr ? *ref_ : owned_; }
  Value take() { return ref_ != nullptr ? *ref_ : std::move(owned_); }

 private:
  const Value* ref_ = nullptr;
  Value owned_;
  bool undefined_ = false;
  bool silent_ = false;  // an `a if c` without else: prints as "" even under StrictUndefined
  std::string message_;
};

std::u32string code_points(const std::string& text) { return decode_utf8(text); }

std::string to_utf8(std::u32string_view text) {
  std::string out;
  for (char32_t c : text) append_utf8(out, c);
  return out;
}

int64_t as_int(const Value& value) {
  if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw TemplateError("an integer beyond 64 bits");
    return static_cast<int64_t>(u);
  }
  return value.get<int64_t>();
}

double as_double(const Value& value) {
  if (value.is_boolean()) return value.get<bool>() ? 1.0 : 0.0;
  return value.get<double>();
}

char32_t simple_upper(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c == 0xB5) return 0x39C;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c == 0x131) return 'I';
  if (c == 0x17F) return 'S';
  if (c > 0x100 && c <= 0x17F) {  // Latin Extended-A: an upper-case letter followed by its lower case
    if (python_lower(to_utf8(std::u32string(1, c - 1))) == to_utf8(std::u32string(1, c))) return c - 1;
    return c;
  }
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 37;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 63;
  if (c == 0x3C2) return 0x3A3;
  if (c >= 0x3B1 && c <= 0x3CB) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

// Python's str.upper() for the scripts python_lower covers; "ß" becomes "SS" as in Python.
std::string python_upper(const std::string& text) {
  std::string out;
  for (char32_t c : code_points(text)) {
    if (c == 0xDF) {
      out += "SS";
    } else {
      append_utf8(out, simple_upper(c));
    }
  }
  return out;
}

bool is_python_space(char32_t c) { return python_isspace(c); }

std::string strip_chars(const std::string& text, const std::optional<std::string>& chars, bool left, bool right) {
  const std::u32string cps = code_points(text);
  const std::u32string set = chars ? code_points(*chars) : std::u32string();
  const auto strip = [&](char32_t c) { return chars ? set.find(c) != std::u32string::npos : is_python_space(c); };
  size_t begin = 0, end = cps.size();
  if (left)
    while (begin < end && strip(cps[begin])) ++begin;
  if (right)
    while (end > begin && strip(cps[end - 1])) --end;
  return to_utf8(std::u32string_view(cps).substr(begin, end - begin));
}

// Python's str.split(sep=None, maxsplit=-1).
Value python_split_value(const std::string& text, const std::optional<std::string>& separator, int64_t max_split) {
  Value parts = Value::array();
  if (separator) {
    if (separator->empty()) throw TemplateError("str.split: empty separator");
    size_t start = 0;
    int64_t splits = 0;
    while (max_split < 0 || splits < max_split) {
      const size_t found = text.find(*separator, start);
      if (found == std::string::npos) break;
      parts.push_back(text.substr(start, found - start));
      start = found + separator->size();
      ++splits;
    }
    parts.push_back(text.substr(start));
    return parts;
  }
  const std::u32string cps = code_points(text);
  size_t i = 0;
  int64_t splits = 0;
  while (true) {
    while (i < cps.size() && is_python_space(cps[i])) ++i;
    if (i >= cps.size()) break;
    if (max_split >= 0 && splits >= max_split) {  // the rest as it is, trailing whitespace included
      parts.push_back(to_utf8(std::u32string_view(cps).substr(i)));
      break;
    }
    size_t j = i;
    while (j < cps.size() && !is_python_space(cps[j])) ++j;
    parts.push_back(to_utf8(std::u32string_view(cps).substr(i, j - i)));
    ++splits;
    i = j;
  }
  return parts;
}

std::string python_replace(const std::string& text, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) {  // Python inserts `to` between characters (and at both ends)
    const std::u32string cps = code_points(text);
    std::string out;
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (i < cps.size()) append_utf8(out, cps[i]);
    }
    return out;
  }
  std::string out;
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t found = text.find(from, start);
    if (found == std::string::npos) break;
    out.append(text, start, found - start);
    out += to;
    start = found + from.size();
    ++done;
  }
  out.append(text, start, std::string::npos);
  return out;
}

// Python's slice.indices(length) and the indices it selects.
std::vector<int64_t> slice_indices(int64_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   std::optional<int64_t> step_arg) {
  const int64_t step = step_arg.value_or(1);
  if (step == 0) throw TemplateError("slice step cannot be zero");
  const int64_t lower = step < 0 ? -1 : 0;
  const int64_t upper = step < 0 ? length - 1 : length;
  const auto clamp = [&](std::optional<int64_t> bound, int64_t fallback) {
    if (!bound) return fallback;
    int64_t b = *bound;
    if (b < 0) return std::max(b + length, lower);
    return std::min(b, upper);
  };
  const int64_t begin = clamp(start, step < 0 ? upper : lower);
  const int64_t end = clamp(stop, step < 0 ? lower : upper);
  std::vector<int64_t> indices;
  for (int64_t i = begin; step > 0 ? i < end : i > end; i += step) indices.push_back(i);
  return indices;
}

// Python's "%s" % args (printf-style) for %s %r %d %i %f %e %g %x %% with flags, width and precision.
std::string percent_format(const std::string& format, const std::vector<Value>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    size_t j = i + 1;
    std::string spec;
    while (j < format.size() && std::string_view("-+ #0").find(format[j]) != std::string_view::npos)
      spec += format[j++];
    while (j < format.size() && format[j] >= '0' && format[j] <= '9') spec += format[j++];
    if (j < format.size() && format[j] == '.') {
      spec += format[j++];
      while (j < format.size() && format[j] >= '0' && format[j] <= '9') spec += format[j++];
    }
    if (j >= format.size()) throw TemplateError("incomplete format");
    const char type = format[j];
    i = j;
    if (type == '%') {
      out += '%';
      continue;
    }
    if (next >= args.size()) throw TemplateError("not enough arguments for format string");
    const Value& arg = args[next++];
    // Python's flags into fmt's spec: '-' left-aligns (Python right-aligns by default, strings too), '0'
    // pads numbers with zeros, '+' and ' ' are signs, '#' the alternate form.
    std::string flags, width, precision;
    size_t k = 0;
    while (k < spec.size() && std::string_view("-+ #0").find(spec[k]) != std::string_view::npos) flags += spec[k++];
    while (k < spec.size() && spec[k] != '.') width += spec[k++];
    if (k < spec.size()) precision = spec.substr(k);
    const bool left = flags.find('-') != std::string::npos;
    const bool numeric = type != 's' && type != 'r';
    std::string fmt_spec = "{:";
    if (!width.empty()) fmt_spec += left ? '<' : '>';
    if (numeric && flags.find('+') != std::string::npos) {
      fmt_spec += '+';
    } else if (numeric && flags.find(' ') != std::string::npos) {
      fmt_spec += ' ';
    }
    if (numeric && flags.find('#') != std::string::npos) fmt_spec += '#';
    if (numeric && !left && flags.find('0') != std::string::npos && !width.empty()) {
      const size_t align = fmt_spec.find('>');
      if (align != std::string::npos) fmt_spec.erase(align, 1);
      fmt_spec += '0';
    }
    fmt_spec += width;
    switch (type) {
      case 's':
      case 'r': {
        const std::string text = type == 's' ? python_str(arg) : python_repr(arg);
        out += fmt::format(fmt::runtime(fmt_spec + precision + "}"), text);
        break;
      }
      case 'd':
      case 'i':
      case 'x':
      case 'X':
      case 'o':
        if (!is_number(arg))
          throw TemplateError(fmt::format("%{} format: a number is required, not {}", type, python_type_name(arg)));
        out += fmt::format(
            fmt::runtime(fmt_spec + (type == 'd' || type == 'i' ? std::string() : std::string(1, type)) + "}"),
            arg.is_number_float() ? static_cast<int64_t>(arg.get<double>()) : as_int(arg));
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        if (!is_number(arg))
          throw TemplateError(fmt::format("%{} format: a number is required, not {}", type, python_type_name(arg)));
        out += fmt::format(fmt::runtime(fmt_spec + (precision.empty() ? ".6" : precision) + std::string(1, type) + "}"),
                           as_double(arg));
        break;
      default:
        throw TemplateError(fmt::format("unsupported format character '{}'", type));
    }
  }
  if (next < args.size()) throw TemplateError("not all arguments converted during string formatting");
  return out;
}

// Python's str.format(*args, **kwargs) with {} {0} {name} fields, !s/!r conversions and no format spec
// beyond an empty one.
std::string brace_format(const std::string& format, const std::vector<Value>& args, const Value& kwargs) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      throw TemplateError("str.format: single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = format.find('}', i);
    if (close == std::string::npos) throw TemplateError("str.format: single '{' encountered in format string");
    std::string field = format.substr(i + 1, close - i - 1);
    i = close;
    char conversion = 's';
    const size_t colon = field.find(':');
    if (colon != std::string::npos) {
      if (colon + 1 != field.size()) throw TemplateError("str.format: format specs ({:...}) are not supported");
      field.resize(colon);
    }
    const size_t bang = field.find('!');
    if (bang != std::string::npos) {
      if (bang + 2 != field.size() || (field[bang + 1] != 's' && field[bang + 1] != 'r'))
        throw TemplateError("str.format: only !s and !r conversions are supported");
      conversion = field[bang + 1];
      field.resize(bang);
    }
    const Value* arg = nullptr;
    if (field.empty()) {
      if (auto_index >= args.size()) throw TemplateError("str.format: not enough positional arguments");
      arg = &args[auto_index++];
    } else if (field.size() <= 9 &&
               std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      const size_t index = std::stoul(field);
      if (index >= args.size()) throw TemplateError(fmt::format("str.format: no positional argument {}", index));
      arg = &args[index];
    } else {
      const auto found = kwargs.find(field);
      if (found == kwargs.end()) throw TemplateError(fmt::format("str.format: no keyword argument '{}'", field));
      arg = &*found;
    }
    out += conversion == 'r' ? python_repr(*arg) : python_str(*arg);
  }
  return out;
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The evaluated arguments of a call, filter or test.
struct Arguments {
  std::vector<Val> positional;
  std::vector<std::pair<std::string, Val>> keywords;
};

class Renderer {
 public:
  Renderer(const Compiled& parsed, const Value& context) : parsed_(parsed), context_(context) {
    scopes_.emplace_back();
  }

  std::string run() {
    std::string out;
    guarded([&] { render_nodes(parsed_.body, out); });
    return out;
  }

  // Template::evaluate: one "{{ expression }}" gives the expression's value, anything else its text.
  Value run_value() {
    const Node* single = nullptr;
    for (const Node& node : parsed_.body) {
      if (node.kind == NodeKind::Text && node.text.find_first_not_of(" \t\r\n") == std::string::npos) continue;
      if (single != nullptr || node.kind != NodeKind::Output) return run();
      single = &node;
    }
    if (single == nullptr) return run();
    Value value;
    guarded([&] { value = defined(eval(*single->expression), single->expression->position); });
    return value;
  }

 private:
  template <typename Body>
  void guarded(const Body& body) {
    if (!context_.is_object())
      throw TemplateError(fmt::format("{}: the template's variables must be a JSON object, not {}", parsed_.info.origin,
                                      python_type_name(context_)));
    try {
      body();
    } catch (const TemplateError& error) {
      // A helper's error that reached here without a position still names the template.
      const std::string message = error.what();
      if (message.rfind(parsed_.info.origin + ":", 0) == 0) throw;
      throw TemplateError(fmt::format("{}: {}", parsed_.info.origin, message));
    } catch (const std::exception& error) {  // a JSON or formatting error a bad value caused
      throw TemplateError(fmt::format("{}: {}", parsed_.info.origin, error.what()));
    }
  }

  [[noreturn]] void fail(Position position, const std::string& message) const { parsed_.info.fail(position, message); }

  bool strict() const { return parsed_.options.strict_undefined; }

  // The JSON of a value that must be defined (an error naming the undefined thing otherwise).
  const Value& defined(const Val& value, Position position) const {
    if (value.is_undefined()) fail(position, value.message());
    return value.json();
  }

  // Undefined where Jinja's default Undefined is lenient (printing, truthiness, iteration): an error under
  // StrictUndefined, otherwise "".
  Val lenient(Val value, Position position) const {
    if (!value.is_undefined()) return value;
    if (strict() && !value.is_silent()) fail(position, value.message());
    return Val::own("");
  }

  bool truthy(const Val& value, Position position) const {
    if (value.is_undefined()) {
      if (strict()) fail(position, value.message());
      return false;
    }
    return python_truthy(value.json());
  }

  std::string to_text(const Val& value, Position position) const {
    if (value.is_undefined()) {
      if (strict() && !value.is_silent()) fail(position, value.message());
      return "";
    }
    return python_str(value.json());
  }

  // ---- statements ----

  void render_nodes(const std::vector<Node>& nodes, std::string& out) {
    for (const Node& node : nodes) {
      render_node(node, out);
      if (loop_signal_ != NodeKind::Text) return;  // a break or continue skips the rest of the loop body
    }
  }

  void render_node(const Node& node, std::string& out) {
    switch (node.kind) {
      case NodeKind::Text:
        out += node.text;
        return;
      case NodeKind::Output:
        out += to_text(eval(*node.expression), node.expression->position);
        return;
      case NodeKind::If:
        for (const auto& [condition, body] : node.branches) {
          if (condition == nullptr || truthy(eval(*condition), condition->position)) {
            render_nodes(body, out);
            return;
          }
        }
        return;
      case NodeKind::For:
        render_for(node, out);
        return;
      case NodeKind::Set: {
        Val value = eval(*node.expression);
        Value json = defined(value, node.expression->position);
        if (!node.attribute.empty()) {
          Value* object = find_variable(node.targets[0]);
          if (object == nullptr || !object->is_object())
            fail(node.position, fmt::format("cannot assign the attribute '{}' of '{}': it is not a namespace() set in "
                                            "this template",
                                            node.attribute, node.targets[0]));
          if (value_depth(json, 0) > kMaxValueDepth)
            fail(node.position, fmt::format("the value assigned to {}.{} nests deeper than {} levels", node.targets[0],
                                            node.attribute, kMaxValueDepth));
          (*object)[node.attribute] = std::move(json);
          return;
        }
        assign(node.targets, std::move(json), node.position);
        return;
      }
      case NodeKind::SetBlock: {
        std::string text;
        render_nodes(node.body, text);
        scopes_.back()[node.targets[0]] = std::move(text);
        return;
      }
      case NodeKind::Scope:
        render_nodes(node.body, out);
        return;
      case NodeKind::Break:
      case NodeKind::Continue:
        loop_signal_ = node.kind;
        return;
    }
  }

  void assign(const std::vector<std::string>& targets, Value value, Position position) {
    if (targets.size() == 1) {
      scopes_.back()[targets[0]] = std::move(value);
      return;
    }
    Value items = iterable_items(Val::own(std::move(value)), position);
    if (items.size() != targets.size())
      fail(position, fmt::format("cannot unpack {} values into {} names", items.size(), targets.size()));
    for (size_t i = 0; i < targets.size(); ++i) scopes_.back()[targets[i]] = std::move(items[i]);
  }

  Value* find_variable(const std::string& name) {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
      const auto found = scope->find(name);
      if (found != scope->end()) return &found->second;
    }
    return nullptr;
  }

  // The items a for loop (or list()) goes through: a list's items, a dict's keys, a string's characters.
  Value iterable_items(const Val& value, Position position) const {
    if (value.is_undefined()) {
      if (strict()) fail(position, value.message());
      return Value::array();
    }
    const Value& json = value.json();
    if (json.is_array()) return json;
    Value items = Value::array();
    if (json.is_object()) {
      for (const auto& [key, unused] : json.items()) items.push_back(key);
    } else if (json.is_string()) {
      for (char32_t c : code_points(json.get_ref<const std::string&>())) items.push_back(to_utf8(std::u32string(1, c)));
    } else {
      fail(position, fmt::format("'{}' object is not iterable", python_type_name(json)));
    }
    return items;
  }

  void render_for(const Node& node, std::string& out) {
    const Value all_items = iterable_items(eval(*node.expression), node.expression->position);
    std::vector<const Value*> items;
    for (const Value& item : all_items) {
      if (node.filter != nullptr) {
        scopes_.emplace_back();
        assign(node.targets, item, node.position);
        const bool keep = truthy(eval(*node.filter), node.filter->position);
        scopes_.pop_back();
        if (!keep) continue;
      }
      items.push_back(&item);
    }
    // Jinja's compiled loop clears its "no iteration" flag at the end of the body, which break and continue skip:
    // the else branch runs unless some iteration ran its body to the end.
    bool completed_an_iteration = false;
    const int64_t length = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < length; ++i) {
      Value loop = Value::object();
      loop["index"] = i + 1;
      loop["index0"] = i;
      loop["revindex"] = length - i;
      loop["revindex0"] = length - i - 1;
      loop["first"] = i == 0;
      loop["last"] = i == length - 1;
      loop["length"] = length;
      loop["depth"] = 1;
      loop["depth0"] = 0;
      if (i > 0) loop["previtem"] = *items[i - 1];
      if (i + 1 < length) loop["nextitem"] = *items[i + 1];
      scopes_.emplace_back();  // a fresh scope each iteration: `set` in a loop body does not outlive it
      scopes_.back()["loop"] = std::move(loop);
      assign(node.targets, *items[i], node.position);
      render_nodes(node.body, out);
      scopes_.pop_back();
      const NodeKind signal = loop_signal_;
      loop_signal_ = NodeKind::Text;
      if (signal == NodeKind::Break) break;
      if (signal == NodeKind::Text) completed_an_iteration = true;
    }
    if (!completed_an_iteration) render_nodes(node.else_body, out);
  }

  // ---- expressions ----

  Val lookup(const Expr& expr) const {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
      const auto found = scope->find(expr.name);
      if (found != scope->end()) return Val::borrow(found->second);
    }
    const auto found = context_.find(expr.name);
    if (found != context_.end()) return Val::borrow(*found);
    return Val::undefined(fmt::format("'{}' is undefined", expr.name));
  }

  Val eval(const Expr& expr) {
    switch (expr.kind) {
      case ExprKind::Literal:
        return Val::borrow(expr.literal);
      case ExprKind::Name:
        return lookup(expr);
      case ExprKind::List: {
        Value list = Value::array();
        for (const ExprPtr& item : expr.children) list.push_back(defined(eval(*item), item->position));
        return Val::own(std::move(list));
      }
      case ExprKind::Dict: {
        Value dict = Value::object();
        for (size_t i = 0; i + 1 < expr.children.size(); i += 2) {
          Val key = eval(*expr.children[i]);
          const Value& key_json = defined(key, expr.children[i]->position);
          if (!key_json.is_string())
            fail(expr.children[i]->position,
                 fmt::format("dict keys must be strings here (JSON objects), not {}", python_type_name(key_json)));
          dict[key_json.get<std::string>()] = defined(eval(*expr.children[i + 1]), expr.children[i + 1]->position);
        }
        return Val::own(std::move(dict));
      }
      case ExprKind::Attribute: {
        Val object = eval(*expr.children[0]);
        const Value& json = defined(object, expr.children[0]->position);
        return attribute(object, json, expr.name);
      }
      case ExprKind::Item: {
        Val object = eval(*expr.children[0]);
        defined(object, expr.children[0]->position);
        Val key = eval(*expr.children[1]);
        return item(object, defined(key, expr.children[1]->position), expr.position);
      }
      case ExprKind::Slice:
        return slice(expr);
      case ExprKind::Call:
        return call(expr);
      case ExprKind::Filter:
        return filter(expr);
      case ExprKind::Test: {
        const bool result = test(expr);
        return Val::own(expr.negated ? !result : result);
      }
      case ExprKind::Negate:
      case ExprKind::Plus: {
        const Val operand_value = eval(*expr.children[0]);
        const Value& operand = defined(operand_value, expr.children[0]->position);
        if (!is_number(operand))
          fail(expr.position, fmt::format("bad operand type for unary {}: '{}'",
                                          expr.kind == ExprKind::Negate ? '-' : '+', python_type_name(operand)));
        if (expr.kind == ExprKind::Plus) return Val::own(operand.is_boolean() ? Value(as_int(operand)) : operand);
        if (operand.is_number_float()) return Val::own(-operand.get<double>());
        const int64_t value = as_int(operand);
        if (value == std::numeric_limits<int64_t>::min()) fail(expr.position, "integer overflow");
        return Val::own(-value);
      }
      case ExprKind::Binary:
        return binary(expr);
      case ExprKind::Compare:
        return compare(expr);
      case ExprKind::And: {
        Val left = eval(*expr.children[0]);
        if (!truthy(left, expr.children[0]->position)) return left;
        return eval(*expr.children[1]);
      }
      case ExprKind::Or: {
        Val left = eval(*expr.children[0]);
        if (truthy(left, expr.children[0]->position)) return left;
        return eval(*expr.children[1]);
      }
      case ExprKind::Not:
        return Val::own(!truthy(eval(*expr.children[0]), expr.children[0]->position));
      case ExprKind::Condition:
        if (truthy(eval(*expr.children[1]), expr.children[1]->position)) return eval(*expr.children[0]);
        if (expr.children[2] != nullptr) return eval(*expr.children[2]);
        return Val::undefined("the conditional expression has no else branch", true);
    }
    fail(expr.position, "unknown expression");
  }

  // `object.name`: a dict's key (jinja's getattr falls back to getitem; JSON values have no other attributes).
  Val attribute(const Val& object, const Value& json, const std::string& name) const {
    if (json.is_object()) {
      const auto found = json.find(name);
      if (found != json.end()) return member_of(object, *found);
    }
    return Val::undefined(fmt::format("'{} object' has no attribute '{}'", python_type_name(json), name));
  }

  // A member of `object`: borrowed when `object` is (it outlives the expression), copied from a temporary.
  static Val member_of(const Val& object, const Value& member) {
    return object.is_borrowed() ? Val::borrow(member) : Val::own(member);
  }

  Val item(const Val& object, const Value& key, Position position) const {
    const Value& json = object.json();
    if (json.is_array() || json.is_string()) {
      if (!is_integral(key)) {
        if (key.is_string()) return attribute(object, json, key.get<std::string>());
        fail(position, fmt::format("{} indices must be integers or slices, not {}", python_type_name(json),
                                   python_type_name(key)));
      }
      int64_t index = as_int(key);
      if (json.is_array()) {
        const int64_t size = static_cast<int64_t>(json.size());
        if (index < 0) index += size;
        if (index < 0 || index >= size)
          return Val::undefined(fmt::format("'list object' has no element {}", as_int(key)));
        return member_of(object, json[static_cast<size_t>(index)]);
      }
      const std::u32string cps = code_points(json.get_ref<const std::string&>());
      const int64_t size = static_cast<int64_t>(cps.size());
      if (index < 0) index += size;
      if (index < 0 || index >= size) return Val::undefined(fmt::format("'str object' has no element {}", as_int(key)));
      return Val::own(to_utf8(std::u32string(1, cps[static_cast<size_t>(index)])));
    }
    if (json.is_object()) {
      if (key.is_string()) {
        const auto found = json.find(key.get<std::string>());
        if (found != json.end()) return member_of(object, *found);
      }
      return Val::undefined(fmt::format("'dict object' has no attribute {}", python_repr(key)));
    }
    return Val::undefined(fmt::format("'{} object' has no attribute {}", python_type_name(json), python_repr(key)));
  }

  std::optional<int64_t> slice_bound(const ExprPtr& expr) {
    if (expr == nullptr) return std::nullopt;
    const Val bound = eval(*expr);
    const Value& value = defined(bound, expr->position);
    if (value.is_null()) return std::nullopt;
    if (!is_integral(value))
      fail(expr->position, fmt::format("slice indices must be integers or None, not {}", python_type_name(value)));
    return as_int(value);
  }

  Val slice(const Expr& expr) {
    Val object = eval(*expr.children[0]);
    const Value& json = defined(object, expr.children[0]->position);
    const auto start = slice_bound(expr.children[1]);
    const auto stop = slice_bound(expr.children[2]);
    const auto step = slice_bound(expr.children[3]);
    try {
      if (json.is_array()) {
        Value out = Value::array();
        for (int64_t i : slice_indices(static_cast<int64_t>(json.size()), start, stop, step))
          out.push_back(json[static_cast<size_t>(i)]);
        return Val::own(std::move(out));
      }
      if (json.is_string()) {
        const std::u32string cps = code_points(json.get_ref<const std::string&>());
        std::u32string out;
        for (int64_t i : slice_indices(static_cast<int64_t>(cps.size()), start, stop, step))
          out += cps[static_cast<size_t>(i)];
        return Val::own(to_utf8(out));
      }
    } catch (const TemplateError& error) {
      fail(expr.position, error.what());
    }
    fail(expr.position, fmt::format("'{}' object is not subscriptable with a slice", python_type_name(json)));
  }

  Arguments evaluate_arguments(const Expr& expr, size_t first_argument) {
    Arguments args;
    for (size_t i = first_argument; i < expr.children.size(); ++i) args.positional.push_back(eval(*expr.children[i]));
    for (const auto& [name, value] : expr.keywords) args.keywords.emplace_back(name, eval(*value));
    return args;
  }

  // ---- arithmetic ----

  Val binary(const Expr& expr) {
    const std::string& op = expr.name;
    Val left_val = eval(*expr.children[0]);
    Val right_val = eval(*expr.children[1]);
    if (op == "~") {
      return Val::own(to_text(left_val, expr.children[0]->position) + to_text(right_val, expr.children[1]->position));
    }
    const Value& a = defined(left_val, expr.children[0]->position);
    const Value& b = defined(right_val, expr.children[1]->position);
    try {
      return Val::own(arithmetic(op, a, b));
    } catch (const TemplateError& error) {
      fail(expr.position, error.what());
    }
  }

  static Value arithmetic(const std::string& op, const Value& a, const Value& b) {
    const auto unsupported = [&]() -> TemplateError {
      return TemplateError(fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", op, python_type_name(a),
                                       python_type_name(b)));
    };
    const bool numbers = is_number(a) && is_number(b);
    const bool integers = numbers && !a.is_number_float() && !b.is_number_float();
    if (op == "+") {
      if (integers) {
        int64_t r;
        if (__builtin_add_overflow(as_int(a), as_int(b), &r)) throw TemplateError("integer overflow");
        return r;
      }
      if (numbers) return as_double(a) + as_double(b);
      if (a.is_string() && b.is_string()) return a.get<std::string>() + b.get<std::string>();
      if (a.is_array() && b.is_array()) {
        Value out = a;
        for (const Value& item : b) out.push_back(item);
        return out;
      }
      throw unsupported();
    }
    if (op == "-") {
      if (integers) {
        int64_t r;
        if (__builtin_sub_overflow(as_int(a), as_int(b), &r)) throw TemplateError("integer overflow");
        return r;
      }
      if (numbers) return as_double(a) - as_double(b);
      throw unsupported();
    }
    if (op == "*") {
      if (integers) {
        int64_t r;
        if (__builtin_mul_overflow(as_int(a), as_int(b), &r)) throw TemplateError("integer overflow");
        return r;
      }
      if (numbers) return as_double(a) * as_double(b);
      const Value* sequence = (a.is_string() || a.is_array()) && is_integral(b)   ? &a
                              : (b.is_string() || b.is_array()) && is_integral(a) ? &b
                                                                                  : nullptr;
      if (sequence == nullptr) throw unsupported();
      const int64_t times = std::max<int64_t>(0, as_int(sequence == &a ? b : a));
      const size_t unit = sequence->is_string() ? sequence->get_ref<const std::string&>().size() : sequence->size();
      if (unit != 0 && static_cast<uint64_t>(times) > kMaxBuiltSize / unit)
        throw TemplateError("the repeated sequence would be too large");
      if (sequence->is_string()) {
        std::string out;
        for (int64_t i = 0; i < times; ++i) out += sequence->get_ref<const std::string&>();
        return out;
      }
      Value out = Value::array();
      for (int64_t i = 0; i < times; ++i)
        for (const Value& item : *sequence) out.push_back(item);
      return out;
    }
    if (op == "/") {
      if (!numbers) throw unsupported();
      if (as_double(b) == 0) throw TemplateError("division by zero");
      return as_double(a) / as_double(b);
    }
    if (op == "//" || op == "%") {
      if (op == "%" && a.is_string()) {
        std::vector<Value> args;
        if (b.is_array()) {
          args.assign(b.begin(), b.end());
        } else {
          args.push_back(b);
        }
        return percent_format(a.get<std::string>(), args);
      }
      if (!numbers) throw unsupported();
      if (integers) {
        const int64_t x = as_int(a), y = as_int(b);
        if (y == 0) throw TemplateError("integer division or modulo by zero");
        if (x == std::numeric_limits<int64_t>::min() && y == -1) throw TemplateError("integer overflow");
        int64_t quotient = x / y, remainder = x % y;
        if (remainder != 0 && ((remainder < 0) != (y < 0))) {  // Python floors toward negative infinity
          --quotient;
          remainder += y;
        }
        return op == "//" ? quotient : remainder;
      }
      const double x = as_double(a), y = as_double(b);
      if (y == 0) throw TemplateError("float division by zero");
      // CPython Objects/floatobject.c float_divmod.
      double remainder = std::fmod(x, y);
      double quotient = (x - remainder) / y;
      if (remainder != 0 && ((remainder < 0) != (y < 0))) {
        remainder += y;
        quotient -= 1.0;
      }
      if (op == "%") return remainder != 0 ? remainder : std::copysign(0.0, y);
      if (quotient == 0) return std::copysign(0.0, x / y);
      double floored = std::floor(quotient);
      if (quotient - floored > 0.5) floored += 1.0;
      return floored;
    }
    if (op == "**") {
      if (!numbers) throw unsupported();
      if (integers && as_int(b) >= 0) {
        int64_t result = 1, base = as_int(a);
        for (int64_t e = as_int(b); e > 0; --e) {
          if (__builtin_mul_overflow(result, base, &result)) throw TemplateError("integer overflow");
          if (result == 0 || result == 1) break;
        }
        return result;
      }
      if (as_double(a) == 0 && as_double(b) < 0) throw TemplateError("0.0 cannot be raised to a negative power");
      return std::pow(as_double(a), as_double(b));
    }
    throw TemplateError(fmt::format("unknown operator {}", op));
  }

  bool contains(const Value& container, const Value& item, Position position) const {
    if (container.is_string()) {
      if (!item.is_string())
        fail(position, fmt::format("'in <string>' requires string as left operand, not {}", python_type_name(item)));
      return container.get_ref<const std::string&>().find(item.get_ref<const std::string&>()) != std::string::npos;
    }
    if (container.is_array()) {
      for (const Value& element : container)
        if (python_equal(element, item)) return true;
      return false;
    }
    if (container.is_object()) return item.is_string() && container.contains(item.get<std::string>());
    fail(position, fmt::format("argument of type '{}' is not iterable", python_type_name(container)));
  }

  bool compare_pair(const std::string& op, const Val& left, const Val& right, Position left_position,
                    Position right_position, Position position) const {
    if (op == "==" || op == "!=") {
      bool equal;
      if (left.is_undefined() || right.is_undefined()) {
        if (strict())
          fail(left.is_undefined() ? left_position : right_position,
               left.is_undefined() ? left.message() : right.message());
        equal = left.is_undefined() && right.is_undefined();
      } else {
        equal = python_equal(left.json(), right.json());
      }
      return op == "==" ? equal : !equal;
    }
    if (op == "in" || op == "not in") {
      const Value& item = defined(left, left_position);
      if (right.is_undefined() && !strict()) return op == "not in";
      const bool found = contains(defined(right, right_position), item, position);
      return op == "in" ? found : !found;
    }
    const Value& a = defined(left, left_position);
    const Value& b = defined(right, right_position);
    int order = 0;
    if (!python_compare(a, b, order))
      fail(position, fmt::format("'{}' not supported between instances of '{}' and '{}'", op, python_type_name(a),
                                 python_type_name(b)));
    if (op == "<") return order < 0;
    if (op == "<=") return order <= 0;
    if (op == ">") return order > 0;
    return order >= 0;
  }

  Val compare(const Expr& expr) {
    Val left = eval(*expr.children[0]);
    for (size_t i = 0; i < expr.operators.size(); ++i) {
      Val right = eval(*expr.children[i + 1]);
      if (!compare_pair(expr.operators[i], left, right, expr.children[i]->position, expr.children[i + 1]->position,
                        expr.position))
        return Val::own(false);
      left = Val::own(right.is_undefined() ? Value() : right.take());
    }
    return Val::own(true);
  }

  // ---- calls: globals and methods ----

  Val call(const Expr& expr) {
    const Expr& callee = *expr.children[0];
    Arguments args = evaluate_arguments(expr, 1);
    try {
      if (callee.kind == ExprKind::Name) return call_global(callee, args, expr.position);
      if (callee.kind == ExprKind::Attribute) {
        Val object = eval(*callee.children[0]);
        const Value& json = defined(object, callee.children[0]->position);
        if (callee.name == "cycle" && callee.children[0]->kind == ExprKind::Name &&
            callee.children[0]->name == "loop") {
          if (args.positional.empty()) throw TemplateError("loop.cycle needs at least one value");
          if (!json.is_object() || !json.contains("index0") || !is_integral(json["index0"]))
            throw TemplateError("loop.cycle outside a for loop");
          const int64_t index0 = as_int(json["index0"]);
          return Val::own(
              defined(args.positional[static_cast<size_t>(index0) % args.positional.size()], expr.position));
        }
        return Val::own(call_method(json, callee.name, args, expr.position));
      }
    } catch (const TemplateError& error) {
      rethrow_at(expr.position, error);
    }
    fail(expr.position, "this expression cannot be called");
  }

  // An error from a helper that does not know the position gets this call's position; one that already
  // names a place keeps it.
  [[noreturn]] void rethrow_at(Position position, const TemplateError& error) const {
    const std::string message = error.what();
    if (message.rfind(parsed_.info.origin + ":", 0) == 0) throw error;
    fail(position, message);
  }

  const Value& argument(const Arguments& args, size_t index, const char* name, Position position) const {
    if (index < args.positional.size()) return defined(args.positional[index], position);
    for (const auto& [keyword, value] : args.keywords)
      if (keyword == name) return defined(value, position);
    throw TemplateError(fmt::format("missing argument '{}'", name));
  }

  const Value* optional_argument(const Arguments& args, size_t index, const char* name, Position position) const {
    if (index < args.positional.size()) return &defined(args.positional[index], position);
    for (const auto& [keyword, value] : args.keywords)
      if (keyword == name) return &defined(value, position);
    return nullptr;
  }

  static void check_arity(const Arguments& args, size_t most, const std::string& what) {
    if (args.positional.size() + args.keywords.size() > most)
      throw TemplateError(fmt::format("{} takes at most {} argument{}", what, most, most == 1 ? "" : "s"));
  }

  static const std::string& need_string(const Value& value, const std::string& what) {
    if (!value.is_string())
      throw TemplateError(fmt::format("{} needs a string, not {}", what, python_type_name(value)));
    return value.get_ref<const std::string&>();
  }

  static int64_t need_int(const Value& value, const std::string& what) {
    if (!is_integral(value))
      throw TemplateError(fmt::format("{} needs an integer, not {}", what, python_type_name(value)));
    return as_int(value);
  }

  Val call_global(const Expr& callee, const Arguments& args, Position position) {
    const std::string& name = callee.name;
    if (find_variable(name) == nullptr && !context_.contains(name)) {
      if (name == "raise_exception") {
        const Value& message = argument(args, 0, "message", position);
        fail(position, python_str(message));
      }
      if (name == "range") {
        check_arity(args, 3, "range");
        std::vector<int64_t> bounds;
        for (const Val& arg : args.positional) bounds.push_back(need_int(defined(arg, position), "range"));
        if (bounds.empty()) throw TemplateError("range expected at least 1 argument, got 0");
        const int64_t start = bounds.size() >= 2 ? bounds[0] : 0;
        const int64_t stop = bounds.size() >= 2 ? bounds[1] : bounds[0];
        const int64_t step = bounds.size() == 3 ? bounds[2] : 1;
        if (step == 0) throw TemplateError("range() arg 3 must not be zero");
        Value out = Value::array();
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
          if (static_cast<int64_t>(out.size()) >= kMaxRange)
            throw TemplateError(fmt::format("range too big, the sandbox allows {} items", kMaxRange));
          out.push_back(i);
        }
        return Val::own(std::move(out));
      }
      if (name == "namespace" || name == "dict") {
        Value out = Value::object();
        if (!args.positional.empty()) {
          const Value& initial = defined(args.positional[0], position);
          if (args.positional.size() > 1 || !initial.is_object())
            throw TemplateError(fmt::format("{}() takes keyword arguments (and at most one dict)", name));
          out = initial;
        }
        for (const auto& [keyword, value] : args.keywords) out[keyword] = defined(value, position);
        return Val::own(std::move(out));
      }
      throw TemplateError(fmt::format("'{}' is undefined", name));
    }
    throw TemplateError(fmt::format("'{}' is not callable", name));
  }

  Value call_method(const Value& object, const std::string& method, const Arguments& args, Position position) {
    const std::string what = fmt::format("{}.{}()", python_type_name(object), method);
    const auto arg = [&](size_t i, const char* name) -> const Value& { return argument(args, i, name, position); };
    const auto optional = [&](size_t i, const char* name) { return optional_argument(args, i, name, position); };
    if (object.is_string()) {
      const std::string& text = object.get_ref<const std::string&>();
      if (method == "strip" || method == "lstrip" || method == "rstrip") {
        check_arity(args, 1, what);
        const Value* chars = optional(0, "chars");
        std::optional<std::string> set;
        if (chars != nullptr && !chars->is_null()) set = need_string(*chars, what);
        return strip_chars(text, set, method != "rstrip", method != "lstrip");
      }
      if (method == "split" || method == "rsplit") {
        check_arity(args, 2, what);
        const Value* sep = optional(0, "sep");
        const Value* max_split = optional(1, "maxsplit");
        std::optional<std::string> separator;
        if (sep != nullptr && !sep->is_null()) separator = need_string(*sep, what);
        const int64_t limit = max_split != nullptr ? need_int(*max_split, what) : -1;
        if (method == "rsplit" && limit >= 0) throw TemplateError("str.rsplit with maxsplit is not supported");
        return python_split_value(text, separator, limit);
      }
      if (method == "replace") {
        check_arity(args, 3, what);
        const Value* count = optional(2, "count");
        return python_replace(text, need_string(arg(0, "old"), what), need_string(arg(1, "new"), what),
                              count != nullptr ? need_int(*count, what) : -1);
      }
      if (method == "lower") return python_lower(text);
      if (method == "upper") return python_upper(text);
      if (method == "capitalize") return capitalize(text);
      if (method == "title") return title(text);
      if (method == "index" || method == "find" || method == "rindex" || method == "rfind" || method == "count") {
        check_arity(args, 1, what);
        const std::string& sub = need_string(arg(0, "sub"), what);
        if (method == "count") {
          if (sub.empty()) return static_cast<int64_t>(code_point_length(text) + 1);
          int64_t n = 0;
          for (size_t at = text.find(sub); at != std::string::npos; at = text.find(sub, at + sub.size())) ++n;
          return n;
        }
        const bool reverse = method[0] == 'r';
        const size_t at = reverse ? text.rfind(sub) : text.find(sub);
        if (at == std::string::npos) {
          if (method == "find" || method == "rfind") return -1;
          throw TemplateError("substring not found");
        }
        return static_cast<int64_t>(code_point_length(std::string_view(text).substr(0, at)));
      }
      if (method == "startswith" || method == "endswith") {
        check_arity(args, 1, what);
        const Value& affix = arg(0, "prefix");
        std::vector<std::string> candidates;
        if (affix.is_array()) {
          for (const Value& a : affix) candidates.push_back(need_string(a, what));
        } else {
          candidates.push_back(need_string(affix, what));
        }
        for (const std::string& c : candidates) {
          if (c.size() > text.size()) continue;
          if (method == "startswith" ? text.compare(0, c.size(), c) == 0
                                     : text.compare(text.size() - c.size(), c.size(), c) == 0)
            return true;
        }
        return false;
      }
      if (method == "join") {
        check_arity(args, 1, what);
        const Value items = iterable_items(Val::borrow(arg(0, "iterable")), position);
        std::string out;
        bool first = true;
        for (const Value& item : items) {
          if (!first) out += text;
          first = false;
          out += need_string(item, "str.join()");
        }
        return out;
      }
      if (method == "format") {
        std::vector<Value> positional;
        for (const Val& a : args.positional) positional.push_back(defined(a, position));
        Value keywords = Value::object();
        for (const auto& [name, value] : args.keywords) keywords[name] = defined(value, position);
        return brace_format(text, positional, keywords);
      }
      if (method == "isdigit" || method == "isalpha" || method == "isspace" || method == "isalnum" ||
          method == "isupper" || method == "islower") {
        return string_predicate(text, method);
      }
      if (method == "splitlines") {
        Value lines = Value::array();
        size_t start = 0;
        for (size_t i = 0; i < text.size(); ++i) {
          if (text[i] == '\n' || text[i] == '\r') {
            lines.push_back(text.substr(start, i - start));
            if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            start = i + 1;
          }
        }
        if (start < text.size()) lines.push_back(text.substr(start));
        return lines;
      }
    } else if (object.is_array()) {
      if (method == "index" || method == "count") {
        check_arity(args, 1, what);
        const Value& needle = arg(0, "value");
        int64_t count = 0;
        for (size_t i = 0; i < object.size(); ++i) {
          if (!python_equal(object[i], needle)) continue;
          if (method == "index") return static_cast<int64_t>(i);
          ++count;
        }
        if (method == "count") return count;
        throw TemplateError(fmt::format("{} is not in list", python_repr(needle)));
      }
    } else if (object.is_object()) {
      if (method == "items" || method == "keys" || method == "values") {
        check_arity(args, 0, what);
        Value out = Value::array();
        for (const auto& [key, value] : object.items()) {
          if (method == "items") {
            out.push_back(Value::array({key, value}));
          } else {
            out.push_back(method == "keys" ? Value(key) : value);
          }
        }
        return out;
      }
      if (method == "get") {
        check_arity(args, 2, what);
        const Value& key = arg(0, "key");
        const Value* fallback = optional(1, "default");
        if (key.is_string()) {
          const auto found = object.find(key.get<std::string>());
          if (found != object.end()) return *found;
        }
        return fallback != nullptr ? *fallback : Value();
      }
    }
    throw TemplateError(
        fmt::format("'{}' object has no method '{}' in this Jinja subset", python_type_name(object), method));
  }

  static std::string capitalize(const std::string& text) {
    const std::u32string cps = code_points(text);
    if (cps.empty()) return text;
    std::string out = python_upper(to_utf8(cps.substr(0, 1)));
    out += python_lower(to_utf8(cps.substr(1)));
    return out;
  }

  static bool is_cased(char32_t c) {
    const std::string one = to_utf8(std::u32string(1, c));
    return python_lower(one) != one || python_upper(one) != one;
  }

  // Python's str.title(): a cased character after an uncased one starts a word.
  static std::string title(const std::string& text) {
    std::string out;
    bool previous_cased = false;
    for (char32_t c : code_points(text)) {
      const std::string one = to_utf8(std::u32string(1, c));
      out += previous_cased ? python_lower(one) : python_upper(one);
      previous_cased = is_cased(c);
    }
    return out;
  }

  static bool string_predicate(const std::string& text, const std::string& method) {
    const std::u32string cps = code_points(text);
    if (cps.empty()) return false;
    bool any_cased = false;
    for (char32_t c : cps) {
      const bool digit = unicode_decimal_value(c).has_value();
      const std::string one = to_utf8(std::u32string(1, c));
      const bool alpha = is_cased(c) || (c > 0x7F && !python_isspace(c) && !digit && c >= 0x3040);
      if (method == "isdigit" && !digit) return false;
      if (method == "isalpha" && !alpha) return false;
      if (method == "isalnum" && !alpha && !digit) return false;
      if (method == "isspace" && !python_isspace(c)) return false;
      if (method == "isupper" || method == "islower") {
        if (!is_cased(c)) continue;
        any_cased = true;
        if (method == "isupper" && python_upper(one) != one) return false;
        if (method == "islower" && python_lower(one) != one) return false;
      }
    }
    return method == "isupper" || method == "islower" ? any_cased : true;
  }

  // ---- filters ----

  Val filter(const Expr& expr) {
    const std::string& name = expr.name;
    Val operand = eval(*expr.children[0]);
    Arguments args = evaluate_arguments(expr, 1);
    try {
      if (name == "default" || name == "d") {
        check_arity(args, 2, "default");
        const Value* boolean = optional_argument(args, 1, "boolean", expr.position);
        const bool use_default =
            operand.is_undefined() || (boolean != nullptr && python_truthy(*boolean) && !python_truthy(operand.json()));
        if (!use_default) return operand;
        const Value* fallback = optional_argument(args, 0, "default_value", expr.position);
        return Val::own(fallback != nullptr ? *fallback : Value(""));
      }
      const Val value = lenient(std::move(operand), expr.children[0]->position);
      if ((name == "first" || name == "last") && (value.json().is_array() || value.json().is_string()) &&
          value.json().empty())
        return Val::undefined(fmt::format("no {} item, the sequence was empty", name));
      return Val::own(apply_filter(name, value.json(), args, expr.position));
    } catch (const TemplateError& error) {
      rethrow_at(expr.position, error);
    }
  }

  Value apply_filter(const std::string& name, const Value& value, const Arguments& args, Position position) {
    const std::string what = "the " + name + " filter";
    const auto optional = [&](size_t i, const char* arg_name) {
      return optional_argument(args, i, arg_name, position);
    };
    if (name == "trim") {
      check_arity(args, 1, what);
      const Value* chars = optional(0, "chars");
      std::optional<std::string> set;
      if (chars != nullptr && !chars->is_null()) set = need_string(*chars, what);
      return strip_chars(python_str(value), set, true, true);
    }
    if (name == "lower") return python_lower(python_str(value));
    if (name == "upper") return python_upper(python_str(value));
    if (name == "capitalize") return capitalize(python_str(value));
    if (name == "title") return title(python_str(value));
    if (name == "string") return python_str(value);
    if (name == "e" || name == "escape") return html_escape(python_str(value));
    if (name == "replace") {
      check_arity(args, 3, what);
      const Value* count = optional(2, "count");
      return python_replace(python_str(value), python_str(argument(args, 0, "old", position)),
                            python_str(argument(args, 1, "new", position)),
                            count != nullptr ? need_int(*count, what) : -1);
    }
    if (name == "length" || name == "count") {
      if (value.is_string()) return static_cast<int64_t>(code_point_length(value.get_ref<const std::string&>()));
      if (value.is_array() || value.is_object()) return static_cast<int64_t>(value.size());
      throw TemplateError(fmt::format("object of type '{}' has no len()", python_type_name(value)));
    }
    if (name == "join") {
      check_arity(args, 2, what);
      const Value* separator = optional(0, "d");
      const Value* attribute_name = optional(1, "attribute");
      std::string out;
      bool first = true;
      for (const Value& item : iterable_items(Val::borrow(value), position)) {
        if (!first && separator != nullptr) out += python_str(*separator);
        first = false;
        out += python_str(attribute_name != nullptr ? attribute_of(item, *attribute_name) : item);
      }
      return out;
    }
    if (name == "first" || name == "last") {
      const Value items = iterable_items(Val::borrow(value), position);
      if (items.empty()) throw TemplateError(fmt::format("{}: the sequence is empty", what));
      return name == "first" ? items.front() : items.back();
    }
    if (name == "list") return iterable_items(Val::borrow(value), position);
    if (name == "reverse") {
      if (value.is_string()) {
        std::u32string cps = code_points(value.get<std::string>());
        std::reverse(cps.begin(), cps.end());
        return to_utf8(cps);
      }
      Value items = iterable_items(Val::borrow(value), position);
      std::reverse(items.begin(), items.end());
      return items;
    }
    if (name == "int") {
      check_arity(args, 2, what);
      const Value* fallback = optional(0, "default");
      const Value* base = optional(1, "base");
      return to_int(value, fallback != nullptr ? *fallback : Value(0), base != nullptr ? need_int(*base, what) : 10);
    }
    if (name == "float") {
      check_arity(args, 1, what);
      const Value* fallback = optional(0, "default");
      if (is_number(value)) return as_double(value);
      if (value.is_string())
        if (const auto parsed = python_float(value.get_ref<const std::string&>())) return *parsed;
      return fallback != nullptr ? *fallback : Value(0.0);
    }
    if (name == "abs") {
      if (!is_number(value))
        throw TemplateError(fmt::format("bad operand type for abs(): '{}'", python_type_name(value)));
      if (value.is_number_float()) return std::fabs(value.get<double>());
      return std::abs(as_int(value));
    }
    if (name == "round") {
      check_arity(args, 2, what);
      const Value* precision = optional(0, "precision");
      const Value* method = optional(1, "method");
      if (!is_number(value))
        throw TemplateError(fmt::format("{} needs a number, not {}", what, python_type_name(value)));
      const std::string how = method != nullptr ? need_string(*method, what) : "common";
      const double scale = std::pow(10.0, precision != nullptr ? static_cast<double>(need_int(*precision, what)) : 0.0);
      const double x = as_double(value) * scale;
      double rounded;
      if (how == "common") {  // Python's round(): halves to even
        rounded = std::nearbyint(x);
      } else if (how == "ceil") {
        rounded = std::ceil(x);
      } else if (how == "floor") {
        rounded = std::floor(x);
      } else {
        throw TemplateError("method must be common, ceil or floor");
      }
      return rounded / scale;
    }
    if (name == "tojson") return tojson(value, args, position);
    if (name == "items") {
      if (!value.is_object())
        throw TemplateError(fmt::format("{} needs a dict, not {}", what, python_type_name(value)));
      Value out = Value::array();
      for (const auto& [key, item] : value.items()) out.push_back(Value::array({key, item}));
      return out;
    }
    if (name == "unique") {
      Value out = Value::array();
      for (const Value& item : iterable_items(Val::borrow(value), position)) {
        bool seen = false;
        for (const Value& kept : out) seen = seen || python_equal(kept, item);
        if (!seen) out.push_back(item);
      }
      return out;
    }
    if (name == "sum") {
      check_arity(args, 2, what);
      const Value* attribute_name = optional(0, "attribute");
      const Value* start = optional(1, "start");
      Value total = start != nullptr ? *start : Value(0);
      for (const Value& item : iterable_items(Val::borrow(value), position))
        total = arithmetic("+", total, attribute_name != nullptr ? attribute_of(item, *attribute_name) : item);
      return total;
    }
    if (name == "min" || name == "max" || name == "sort") return sort_filter(name, value, args, position);
    if (name == "map") return map_filter(value, args, position);
    if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr")
      return select_filter(name, value, args, position);
    if (name == "indent") return indent(value, args, position);
    if (name == "format") {
      std::vector<Value> positional;
      for (const Val& a : args.positional) positional.push_back(defined(a, position));
      return percent_format(python_str(value), positional);
    }
    if (name == "wordcount") return static_cast<int64_t>(python_split(python_str(value)).size());
    throw TemplateError(fmt::format("no filter named '{}' in this Jinja subset", name));
  }

  static Value to_int(const Value& value, const Value& fallback, int64_t base) {
    if (value.is_boolean() || value.is_number_integer() || value.is_number_unsigned()) return as_int(value);
    if (value.is_number_float()) {
      const double d = value.get<double>();
      if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
      return static_cast<int64_t>(d);
    }
    if (!value.is_string()) return fallback;
    // jinja2 filters.do_int: int(value, base), else int(float(value)).
    std::string text = strip_chars(value.get<std::string>(), std::nullopt, true, true);
    std::string digits;
    for (char c : text)
      if (c != '_') digits += c;
    if (!digits.empty()) {
      size_t start = (digits[0] == '-' || digits[0] == '+') ? 1 : 0;
      // Python's int(text, base) accepts the base's prefix (0x, 0o, 0b); base 0 reads the base from it.
      if (digits.size() > start + 1 && digits[start] == '0') {
        const char prefix = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[start + 1])));
        const int prefix_base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : prefix == 'b' ? 2 : 0;
        if (prefix_base != 0 && (base == 0 || base == prefix_base)) {
          base = prefix_base;
          start += 2;
        }
      }
      if (base == 0) base = 10;
      int64_t parsed = 0;
      bool ok = start < digits.size();
      for (size_t i = start; ok && i < digits.size(); ++i) {
        const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[i])));
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99;
        if (d >= base || __builtin_mul_overflow(parsed, base, &parsed) || __builtin_add_overflow(parsed, d, &parsed))
          ok = false;
      }
      if (ok) return digits[0] == '-' ? -parsed : parsed;
    }
    if (const auto parsed = python_float(value.get_ref<const std::string&>())) {
      if (std::isfinite(*parsed) && std::fabs(*parsed) < 9.2e18) return static_cast<int64_t>(*parsed);
    }
    return fallback;
  }

  Value tojson(const Value& value, const Arguments& args, Position position) const {
    const Value* indent_arg = optional_argument(args, 0, "indent", position);
    const int indent =
        indent_arg != nullptr && !indent_arg->is_null() ? static_cast<int>(need_int(*indent_arg, "tojson")) : -1;
    if (!parsed_.options.transformers_tojson) {
      check_arity(args, 1, "the tojson filter");
      return json_dumps(value, /*sort_keys=*/true, /*ensure_ascii=*/true, /*html_safe=*/true, indent,
                        indent >= 0 ? "," : ", ", ": ");
    }
    // transformers/utils/chat_template_utils.py: json.dumps(x, ensure_ascii=False, indent=indent,
    // separators=separators, sort_keys=sort_keys).
    const Value* ensure_ascii = optional_argument(args, 1, "ensure_ascii", position);
    const Value* separators = optional_argument(args, 3, "separators", position);
    const Value* sort_keys = optional_argument(args, 4, "sort_keys", position);
    std::string item_separator = indent >= 0 ? "," : ", ", key_separator = ": ";
    if (separators != nullptr && !separators->is_null()) {
      if (!separators->is_array() || separators->size() != 2) throw TemplateError("tojson: separators must be a pair");
      item_separator = need_string((*separators)[0], "tojson separators");
      key_separator = need_string((*separators)[1], "tojson separators");
    }
    return json_dumps(value, sort_keys != nullptr && python_truthy(*sort_keys),
                      ensure_ascii != nullptr && python_truthy(*ensure_ascii), false, indent, item_separator,
                      key_separator);
  }

  // jinja's attribute lookup for filters (map(attribute=...), selectattr): "a.b" and "a.0" walk down.
  static Value attribute_of(const Value& item, const Value& path) {
    if (is_integral(path)) {
      if (item.is_array() && as_int(path) >= 0 && static_cast<size_t>(as_int(path)) < item.size())
        return item[static_cast<size_t>(as_int(path))];
      throw TemplateError(fmt::format("{} has no item {}", python_type_name(item), as_int(path)));
    }
    const std::string& dotted = need_string(path, "attribute");
    const Value* current = &item;
    size_t start = 0;
    while (true) {
      const size_t dot = dotted.find('.', start);
      const std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      const Value* next = nullptr;
      if (current->is_object() && current->contains(part)) {
        next = &(*current)[part];
      } else if (current->is_array() && !part.empty() && part.size() <= 9 &&
                 std::all_of(part.begin(), part.end(), ::isdigit) && std::stoul(part) < current->size()) {
        next = &(*current)[std::stoul(part)];
      }
      if (next == nullptr)
        throw TemplateError(fmt::format("'{} object' has no attribute '{}'", python_type_name(*current), part));
      current = next;
      if (dot == std::string::npos) return *current;
      start = dot + 1;
    }
  }

  Value sort_filter(const std::string& name, const Value& value, const Arguments& args, Position position) const {
    const Value* reverse = name == "sort" ? optional_argument(args, 0, "reverse", position) : nullptr;
    const Value* case_sensitive = optional_argument(args, name == "sort" ? 1 : 0, "case_sensitive", position);
    const Value* attribute_name = optional_argument(args, name == "sort" ? 2 : 1, "attribute", position);
    Value items = iterable_items(Val::borrow(value), position);
    const bool fold = case_sensitive == nullptr || !python_truthy(*case_sensitive);
    const auto key = [&](const Value& item) {
      Value k = attribute_name != nullptr ? attribute_of(item, *attribute_name) : item;
      if (fold && k.is_string()) k = python_lower(k.get<std::string>());
      return k;
    };
    const auto less = [&](const Value& a, const Value& b) {
      int order = 0;
      if (!python_compare(key(a), key(b), order))
        throw TemplateError(fmt::format("'<' not supported between instances of '{}' and '{}'", python_type_name(a),
                                        python_type_name(b)));
      return order < 0;
    };
    if (name != "sort") {
      if (items.empty()) throw TemplateError(fmt::format("{}() of an empty sequence", name));
      auto best = name == "min" ? std::min_element(items.begin(), items.end(), less)
                                : std::max_element(items.begin(), items.end(), less);
      return *best;
    }
    std::vector<Value> sorted(items.begin(), items.end());
    if (reverse != nullptr && python_truthy(*reverse)) {  // Python's sort(reverse=True) keeps equal items in order
      std::stable_sort(sorted.begin(), sorted.end(), [&](const Value& a, const Value& b) { return less(b, a); });
    } else {
      std::stable_sort(sorted.begin(), sorted.end(), less);
    }
    return Value(sorted);
  }

  Value map_filter(const Value& value, const Arguments& args, Position position) {
    Value out = Value::array();
    const Value items = iterable_items(Val::borrow(value), position);
    for (const auto& [keyword, unused] : args.keywords) {
      if (keyword != "attribute" && keyword != "default")
        throw TemplateError(fmt::format("map: unknown argument '{}'", keyword));
    }
    const Value* attribute_name = optional_argument(args, 99, "attribute", position);
    if (attribute_name != nullptr) {
      const Value* fallback = optional_argument(args, 99, "default", position);
      for (const Value& item : items) {
        try {
          out.push_back(attribute_of(item, *attribute_name));
        } catch (const TemplateError&) {
          if (fallback == nullptr) throw;
          out.push_back(*fallback);
        }
      }
      return out;
    }
    if (args.positional.empty()) throw TemplateError("map needs a filter name or attribute=");
    const std::string filter_name = need_string(defined(args.positional[0], position), "map");
    Arguments rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    for (const Value& item : items) out.push_back(apply_filter(filter_name, item, rest, position));
    return out;
  }

  Value select_filter(const std::string& name, const Value& value, const Arguments& args, Position position) {
    const bool by_attribute = name == "selectattr" || name == "rejectattr";
    const bool keep_matches = name == "select" || name == "selectattr";
    size_t next = 0;
    const Value* attribute_name = nullptr;
    if (by_attribute) {
      if (args.positional.empty()) throw TemplateError(fmt::format("{} needs an attribute name", name));
      attribute_name = &defined(args.positional[next++], position);
    }
    std::string test_name;
    if (next < args.positional.size()) test_name = need_string(defined(args.positional[next++], position), name);
    Arguments test_args;
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next), args.positional.end());
    Value out = Value::array();
    for (const Value& item : iterable_items(Val::borrow(value), position)) {
      Val subject = Val::borrow(item);
      Value attribute_value;
      if (attribute_name != nullptr) {
        try {
          attribute_value = attribute_of(item, *attribute_name);
          subject = Val::borrow(attribute_value);
        } catch (const TemplateError& error) {
          subject = Val::undefined(error.what());
        }
      }
      const bool matches =
          test_name.empty() ? truthy(subject, position) : apply_test(test_name, subject, test_args, position);
      if (matches == keep_matches) out.push_back(item);
    }
    return out;
  }

  Value indent(const Value& value, const Arguments& args, Position position) const {
    const Value* width = optional_argument(args, 0, "width", position);
    const Value* first = optional_argument(args, 1, "first", position);
    const Value* blank = optional_argument(args, 2, "blank", position);
    const std::string pad =
        width == nullptr     ? std::string(4, ' ')
        : width->is_string() ? width->get<std::string>()
                             : std::string(static_cast<size_t>(std::max<int64_t>(0, need_int(*width, "indent"))), ' ');
    const std::string text = python_str(value);
    std::string out;
    size_t start = 0;
    bool first_line = true;
    while (start <= text.size()) {
      const size_t end = text.find('\n', start);
      const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
      const bool indent_this = first_line ? (first != nullptr && python_truthy(*first))
                                          : (!line.empty() || (blank != nullptr && python_truthy(*blank)));
      if (indent_this) out += pad;
      out += line;
      if (end == std::string::npos) break;
      out += '\n';
      start = end + 1;
      first_line = false;
    }
    return out;
  }

  // ---- tests ----

  bool test(const Expr& expr) {
    Val subject = eval(*expr.children[0]);
    Arguments args = evaluate_arguments(expr, 1);
    try {
      return apply_test(expr.name, subject, args, expr.position);
    } catch (const TemplateError& error) {
      rethrow_at(expr.position, error);
    }
  }

  bool apply_test(const std::string& name, const Val& subject, const Arguments& args, Position position) const {
    if (name == "defined") return !subject.is_undefined();
    if (name == "undefined") return subject.is_undefined();
    if (subject.is_undefined()) {
      // jinja's type tests are false for Undefined; tests that use the value fail as using it does.
      if (name == "none" || name == "string" || name == "number" || name == "integer" || name == "float" ||
          name == "boolean" || name == "true" || name == "false" || name == "mapping" || name == "sequence" ||
          name == "callable")
        return false;
      if (name == "iterable" && !strict()) return true;
      fail(position, subject.message());
    }
    const Value& value = subject.json();
    if (name == "none") return value.is_null();
    if (name == "string") return value.is_string();
    if (name == "number") return is_number(value);
    if (name == "integer") return value.is_number_integer();
    if (name == "float") return value.is_number_float();
    if (name == "boolean") return value.is_boolean();
    if (name == "true") return value.is_boolean() && value.get<bool>();
    if (name == "false") return value.is_boolean() && !value.get<bool>();
    if (name == "mapping") return value.is_object();
    if (name == "iterable" || name == "sequence") return value.is_string() || value.is_array() || value.is_object();
    if (name == "callable") return false;
    if (name == "odd" || name == "even") {
      const int64_t n = need_int(value, name);
      return (n % 2 != 0) == (name == "odd");
    }
    if (name == "lower") return python_lower(python_str(value)) == python_str(value);
    if (name == "upper") return python_upper(python_str(value)) == python_str(value);
    const Value& other = argument(args, 0, "other", position);
    if (name == "divisibleby") {
      const int64_t divisor = need_int(other, "divisibleby");
      if (divisor == 0) throw TemplateError("integer division or modulo by zero");
      return need_int(value, "divisibleby") % divisor == 0;
    }
    if (name == "eq" || name == "equalto" || name == "==") return python_equal(value, other);
    if (name == "ne" || name == "!=") return !python_equal(value, other);
    if (name == "sameas") {
      if (value.is_null() || value.is_boolean()) return value.type() == other.type() && value == other;
      return false;
    }
    if (name == "in") return contains(other, value, position);
    int order = 0;
    static const std::map<std::string, std::string> kOrderTests = {
        {"lt", "<"}, {"<", "<"},   {"le", "<="}, {"<=", "<="},      {"gt", ">"},
        {">", ">"},  {"ge", ">="}, {">=", ">="}, {"lessthan", "<"}, {"greaterthan", ">"}};
    const auto found = kOrderTests.find(name);
    if (found == kOrderTests.end()) throw TemplateError(fmt::format("no test named '{}' in this Jinja subset", name));
    if (!python_compare(value, other, order))
      throw TemplateError(fmt::format("'{}' not supported between instances of '{}' and '{}'", found->second,
                                      python_type_name(value), python_type_name(other)));
    const std::string& op = found->second;
    return op == "<" ? order < 0 : op == "<=" ? order <= 0 : op == ">" ? order > 0 : order >= 0;
  }

  const Compiled& parsed_;
  const Value& context_;
  std::vector<std::map<std::string, Value>> scopes_;
  // Break or Continue while one unwinds to its for loop; Text otherwise.
  NodeKind loop_signal_ = NodeKind::Text;
};

}  // namespace

std::string render(const Compiled& compiled, const Value& context) { return Renderer(compiled, context).run(); }
Value evaluate(const Compiled& compiled, const Value& context) { return Renderer(compiled, context).run_value(); }

}  // namespace detail

Template Template::parse(std::string_view source, std::string origin, int first_line, const Options& options) {
  auto parsed = std::make_shared<Parsed>();
  parsed->info = detail::SourceInfo{std::move(origin), first_line};
  parsed->options = options;
  parsed->body = detail::parse(detail::tokenize(source, options, parsed->info), parsed->info, options.loop_controls);
  return Template(std::move(parsed));
}

std::string Template::render(const Value& context) const { return detail::render(*parsed_, context); }

Value Template::evaluate(const Value& context) const { return detail::evaluate(*parsed_, context); }

const std::string& Template::origin() const { return parsed_->info.origin; }

Template::Template(std::shared_ptr<const Parsed> parsed) : parsed_(std::move(parsed)) {}
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::Template(const Template&) = default;
Template& Template::operator=(const Template&) = default;
Template::~Template() = default;

}  // namespace gemma::jinja
