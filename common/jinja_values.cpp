// Python's view of JSON values for the Jinja engine: str(), repr(), truthiness, ==, ordering and
// json.dumps, as CPython 3.11 (Objects/unicodeobject.c unicode_repr, Objects/floatobject.c float_repr,
// Lib/json/encoder.py) has them.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "common/jinja_ast.h"
#include "common/utf8.h"

namespace gemma::jinja {
namespace detail {
namespace {

constexpr int kMaxValueDepth = 512;  // deeper JSON is refused instead of recursing without bound

void check_depth(int depth) {
  if (depth > kMaxValueDepth) throw TemplateError(fmt::format("a value nests deeper than {} levels", kMaxValueDepth));
}

// Python's str.isprintable() for the code points that are not: controls, separators other than the
// space, format characters and the private and unassigned ranges most likely to appear.
bool is_printable(char32_t c) {
  if (c < 0x20 || c == 0x7F) return false;
  if (c >= 0x80 && c <= 0xA0) return false;
  if (c == 0xAD || c == 0x1680 || c == 0x180E || c == 0x3000 || c == 0xFEFF) return false;
  if (c >= 0x2000 && c <= 0x200F) return false;
  if (c >= 0x2028 && c <= 0x202F) return false;
  if (c >= 0x205F && c <= 0x206F) return false;
  if (c >= 0xD800 && c <= 0xF8FF) return false;  // surrogates and the private use area
  if (c >= 0xFFF9 && c <= 0xFFFB) return false;
  return true;
}

std::string string_repr(const std::string& text) {
  const bool has_single = text.find('\'') != std::string::npos;
  const bool has_double = text.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8_at(text, pos);
    const char32_t cp = c.code_point;
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!c.valid) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[pos]));
    } else if (!is_printable(cp)) {
      if (cp <= 0xFF) {
        out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
      } else if (cp <= 0xFFFF) {
        out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
      } else {
        out += fmt::format("\\U{:08x}", static_cast<unsigned>(cp));
      }
    } else {
      out.append(text, pos, c.length);
    }
    pos += c.length;
  }
  out += quote;
  return out;
}

void append_str(std::string& out, const Value& value, bool quoted, int depth) {
  check_depth(depth);
  switch (value.type()) {
    case Value::value_t::string:
      out += quoted ? string_repr(value.get_ref<const std::string&>()) : value.get_ref<const std::string&>();
      return;
    case Value::value_t::boolean:
      out += value.get<bool>() ? "True" : "False";
      return;
    case Value::value_t::null:
      out += "None";
      return;
    case Value::value_t::number_integer:
      out += std::to_string(value.get<int64_t>());
      return;
    case Value::value_t::number_unsigned:
      out += std::to_string(value.get<uint64_t>());
      return;
    case Value::value_t::number_float:
      out += python_float_repr(value.get<double>());
      return;
    case Value::value_t::array: {
      out += '[';
      bool first = true;
      for (const Value& item : value) {
        if (!first) out += ", ";
        first = false;
        append_str(out, item, true, depth + 1);
      }
      out += ']';
      return;
    }
    case Value::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) out += ", ";
        first = false;
        out += string_repr(key);
        out += ": ";
        append_str(out, item, true, depth + 1);
      }
      out += '}';
      return;
    }
    default:
      out += "None";
      return;  // binary and discarded values do not come from JSON text
  }
}

double as_double(const Value& value) {
  if (value.is_boolean()) return value.get<bool>() ? 1.0 : 0.0;
  return value.get<double>();
}

bool equal_at(const Value& a, const Value& b, int depth) {
  check_depth(depth);
  if (is_number(a) && is_number(b)) {
    if (a.is_number_float() || b.is_number_float()) return as_double(a) == as_double(b);
    if (a.is_number_unsigned() && b.is_number_unsigned()) return a.get<uint64_t>() == b.get<uint64_t>();
    const auto wide = [](const Value& v) -> long double {
      if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
      if (v.is_number_unsigned()) return static_cast<long double>(v.get<uint64_t>());
      return static_cast<long double>(v.get<int64_t>());
    };
    return wide(a) == wide(b);
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::value_t::null:
      return true;
    case Value::value_t::string:
      return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
    case Value::value_t::array:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!equal_at(a[i], b[i], depth + 1)) return false;
      return true;
    case Value::value_t::object:
      if (a.size() != b.size()) return false;
      for (const auto& [key, item] : a.items()) {
        const auto found = b.find(key);
        if (found == b.end() || !equal_at(item, *found, depth + 1)) return false;
      }
      return true;
    default:
      return a == b;
  }
}

void append_json_string(std::string& out, const std::string& text, bool ensure_ascii) {
  out += '"';
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8_at(text, pos);
    const char32_t cp = c.code_point;
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (cp < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
        } else if (cp < 0x80 || !ensure_ascii) {
          out.append(text, pos, c.length);
        } else if (cp <= 0xFFFF) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
        } else {  // a surrogate pair, as json.dumps writes it
          const char32_t v = cp - 0x10000;
          out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
        }
    }
    pos += c.length;
  }
  out += '"';
}

struct JsonWriter {
  bool sort_keys;
  bool ensure_ascii;
  int indent;
  std::string item_separator;
  std::string key_separator;
  std::string out;

  void newline(int level) {
    out += '\n';
    out.append(static_cast<size_t>(indent) * level, ' ');
  }

  void write(const Value& value, int level) {
    check_depth(level);
    switch (value.type()) {
      case Value::value_t::string:
        append_json_string(out, value.get_ref<const std::string&>(), ensure_ascii);
        return;
      case Value::value_t::boolean:
        out += value.get<bool>() ? "true" : "false";
        return;
      case Value::value_t::number_float: {
        const double d = value.get<double>();
        if (std::isnan(d)) {
          out += "NaN";
        } else if (std::isinf(d)) {
          out += d > 0 ? "Infinity" : "-Infinity";
        } else {
          out += python_float_repr(d);
        }
        return;
      }
      case Value::value_t::number_integer:
        out += std::to_string(value.get<int64_t>());
        return;
      case Value::value_t::number_unsigned:
        out += std::to_string(value.get<uint64_t>());
        return;
      case Value::value_t::array: {
        if (value.empty()) {
          out += "[]";
          return;
        }
        out += '[';
        bool first = true;
        for (const Value& item : value) {
          if (!first) out += item_separator;
          first = false;
          if (indent >= 0) newline(level + 1);
          write(item, level + 1);
        }
        if (indent >= 0) newline(level);
        out += ']';
        return;
      }
      case Value::value_t::object: {
        if (value.empty()) {
          out += "{}";
          return;
        }
        std::vector<std::pair<const std::string*, const Value*>> entries;
        for (const auto& [key, item] : value.items()) entries.emplace_back(&key, &item);
        if (sort_keys)
          std::stable_sort(entries.begin(), entries.end(),
                           [](const auto& a, const auto& b) { return *a.first < *b.first; });
        out += '{';
        bool first = true;
        for (const auto& [key, item] : entries) {
          if (!first) out += item_separator;
          first = false;
          if (indent >= 0) newline(level + 1);
          append_json_string(out, *key, ensure_ascii);
          out += key_separator;
          write(*item, level + 1);
        }
        if (indent >= 0) newline(level);
        out += '}';
        return;
      }
      default:
        out += "null";
        return;
    }
  }
};

}  // namespace

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const std::string scientific(buffer, result.ptr);  // "-1.2345e+02": the shortest digits that read back
  const size_t e = scientific.find('e');
  std::string mantissa = scientific.substr(0, e);
  const int exponent = std::atoi(scientific.c_str() + e + 1);
  const bool negative = mantissa[0] == '-';
  std::string digits;
  for (char c : mantissa)
    if (c >= '0' && c <= '9') digits += c;
  std::string out = negative ? "-" : "";
  // float_repr_style 'short': positional for 1e-4 <= |x| < 1e16, else exponent with at least 2 digits.
  if (exponent >= -4 && exponent < 16) {
    const int point = exponent + 1;  // digits before the decimal point
    if (point <= 0) {
      out += "0." + std::string(static_cast<size_t>(-point), '0') + digits;
    } else if (static_cast<size_t>(point) >= digits.size()) {
      out += digits + std::string(point - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, point) + "." + digits.substr(point);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out;
}

std::string python_repr(const Value& value) {
  std::string out;
  append_str(out, value, true, 0);
  return out;
}

const char* python_type_name(const Value& value) {
  switch (value.type()) {
    case Value::value_t::string:
      return "str";
    case Value::value_t::boolean:
      return "bool";
    case Value::value_t::number_integer:
    case Value::value_t::number_unsigned:
      return "int";
    case Value::value_t::number_float:
      return "float";
    case Value::value_t::array:
      return "list";
    case Value::value_t::object:
      return "dict";
    default:
      return "NoneType";
  }
}

bool is_number(const Value& value) { return value.is_number() || value.is_boolean(); }
bool is_integral(const Value& value) { return value.is_number_integer() || value.is_boolean(); }

bool python_equal(const Value& a, const Value& b) { return equal_at(a, b, 0); }

bool python_compare(const Value& a, const Value& b, int& order) {
  if (is_number(a) && is_number(b)) {
    if (python_equal(a, b)) {
      order = 0;
    } else if (a.is_number_float() || b.is_number_float() || a.is_number_unsigned() || b.is_number_unsigned()) {
      order = as_double(a) < as_double(b) ? -1 : 1;
    } else {
      const int64_t x = a.is_boolean() ? a.get<bool>() : a.get<int64_t>();
      const int64_t y = b.is_boolean() ? b.get<bool>() : b.get<int64_t>();
      order = x < y ? -1 : 1;
    }
    return true;
  }
  if (a.is_string() && b.is_string()) {  // UTF-8 byte order is code point order
    const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    order = c < 0 ? -1 : c > 0 ? 1 : 0;
    return true;
  }
  if (a.is_array() && b.is_array()) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (python_equal(a[i], b[i])) continue;
      return python_compare(a[i], b[i], order);
    }
    order = a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
    return true;
  }
  return false;
}

std::string json_dumps(const Value& value, bool sort_keys, bool ensure_ascii, bool html_safe, int indent,
                       const std::string& item_separator, const std::string& key_separator) {
  JsonWriter writer{sort_keys, ensure_ascii, indent, item_separator, key_separator, {}};
  writer.write(value, 0);
  if (!html_safe) return writer.out;
  std::string out;  // jinja2/utils.py htmlsafe_json_dumps
  for (char c : writer.out) {
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '\'':
        out += "\\u0027";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace detail

std::string python_str(const Value& value) {
  std::string out;
  detail::append_str(out, value, false, 0);
  return out;
}

bool python_truthy(const Value& value) {
  switch (value.type()) {
    case Value::value_t::null:
      return false;
    case Value::value_t::boolean:
      return value.get<bool>();
    case Value::value_t::number_integer:
      return value.get<int64_t>() != 0;
    case Value::value_t::number_unsigned:
      return value.get<uint64_t>() != 0;
    case Value::value_t::number_float:
      return value.get<double>() != 0.0;
    case Value::value_t::string:
      return !value.get_ref<const std::string&>().empty();
    case Value::value_t::array:
    case Value::value_t::object:
      return !value.empty();
    default:
      return false;
  }
}

}  // namespace gemma::jinja
