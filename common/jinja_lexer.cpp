// The Jinja lexer: template text into data and tag tokens, with Jinja 3.1's whitespace control
// (jinja2/lexer.py tokeniter: `{%-`/`-%}` strip all whitespace, lstrip_blocks removes the spaces and tabs
// before a block or comment tag that starts a line, trim_blocks the first newline after one, `+` turns
// both off for that tag).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/jinja_ast.h"
#include "common/python_float.h"
#include "common/python_text.h"
#include "common/utf8.h"

namespace gemma::jinja::detail {

void SourceInfo::fail(Position position, const std::string& message) const {
  throw TemplateError(fmt::format("{}:{}:{}: {}", origin, first_line + position.line - 1, position.column, message));
}

namespace {

// Jinja turns every newline sequence into "\n" before lexing (lexer.py newline_re, _normalize_newlines).
std::string normalize_newlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Python's str.rstrip(): trailing Unicode whitespace removed.
std::string_view rstrip_whitespace(std::string_view text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && is_utf8_continuation(static_cast<unsigned char>(text[start]))) --start;
    if (!python_isspace(decode_utf8_at(text, start).code_point)) break;
    end = start;
  }
  return text.substr(0, end);
}

// The length of the run of Unicode whitespace starting at `pos`.
size_t whitespace_run(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size()) {
    const Utf8Char c = decode_utf8_at(text, end);
    if (!python_isspace(c.code_point)) break;
    end += c.length;
  }
  return end - pos;
}

bool all_whitespace(std::string_view text) { return whitespace_run(text, 0) == text.size(); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  Lexer(std::string_view source, const Options& options, const SourceInfo& info)
      : source_(normalize_newlines(source)), options_(options), info_(info) {
    if (!options_.keep_trailing_newline && !source_.empty() && source_.back() == '\n') source_.pop_back();
    line_starts_.push_back(0);
    for (size_t i = 0; i < source_.size(); ++i)
      if (source_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t pos = 0;
    bool line_starting = true;
    const std::string_view src = source_;
    while (pos < src.size()) {
      const size_t tag = find_tag_start(pos);
      if (tag == std::string_view::npos) {
        emit_text(src.substr(pos));
        break;
      }
      const char kind = src[tag + 1];
      size_t after = tag + 2;
      char sign = 0;
      if (after < src.size() && (src[after] == '-' || src[after] == '+')) sign = src[after++];
      std::string_view text = src.substr(pos, tag - pos);
      const size_t raw_end = kind == '%' ? match_raw_begin(after) : 0;
      // lstrip_blocks never applies to variables; `{%+` and `{%-` decide for themselves.
      emit_text(strip_before_tag(text, sign, kind != '{', line_starting));
      if (raw_end != 0) {
        pos = lex_raw(tag, raw_end);
      } else if (kind == '#') {
        pos = lex_comment(tag, after);
      } else {
        pos = lex_tag(tag, after, kind == '{');
      }
      line_starting = pos > 0 && src[pos - 1] == '\n';
    }
    tokens_.push_back({TokenType::End, "", position_of(src.size())});
    return std::move(tokens_);
  }

 private:
  // Tokens come mostly in source order: the column is counted on from the last position asked for on the
  // same line, so a long one-line template costs linear time, not quadratic.
  Position position_of(size_t offset) {
    const auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line_start = *(next - 1);
    const int line = static_cast<int>(next - line_starts_.begin());
    size_t from = line_start;
    int column = 1;
    if (cached_line_ == line && cached_offset_ <= offset) {
      from = cached_offset_;
      column = cached_column_;
    }
    for (size_t i = from; i < offset; ++i)
      if (!is_utf8_continuation(static_cast<unsigned char>(source_[i]))) ++column;
    cached_line_ = line;
    cached_offset_ = offset;
    cached_column_ = column;
    return {line, column};
  }

  size_t find_tag_start(size_t pos) const {
    for (size_t i = source_.find('{', pos); i != std::string::npos; i = source_.find('{', i + 1)) {
      if (i + 1 < source_.size() && (source_[i + 1] == '{' || source_[i + 1] == '%' || source_[i + 1] == '#')) return i;
    }
    return std::string_view::npos;
  }

  std::string_view strip_before_tag(std::string_view text, char sign, bool is_block_or_comment,
                                    bool line_starting) const {
    if (sign == '-') return rstrip_whitespace(text);
    if (sign == '+' || !options_.lstrip_blocks || !is_block_or_comment) return text;
    const size_t line_pos = text.rfind('\n') == std::string_view::npos ? 0 : text.rfind('\n') + 1;
    if ((line_pos > 0 || line_starting) && line_pos < text.size() && all_whitespace(text.substr(line_pos)))
      return text.substr(0, line_pos);
    return text;
  }

  void emit_text(std::string_view text) {
    if (text.empty()) return;
    tokens_.push_back({TokenType::Text, std::string(text), position_of(text.data() - source_.data())});
  }

  // `{% raw %}` (jinja2 lexer raw_begin: `{%[-+]?\s*raw\s*(-%}\s*|%})`): the end of the tag, or 0.
  size_t match_raw_begin(size_t after) {
    size_t i = after + whitespace_run(source_, after);
    if (source_.compare(i, 3, "raw") != 0) return 0;
    i += 3;
    if (i < source_.size() && is_name_char(source_[i])) return 0;
    i += whitespace_run(source_, i);
    if (source_.compare(i, 3, "-%}") == 0) return i + 3 + whitespace_run(source_, i + 3);
    if (source_.compare(i, 2, "%}") == 0) return i + 2;
    return 0;
  }

  // The raw text up to `{% endraw %}`, emitted as data; returns the end of the endraw tag.
  size_t lex_raw(size_t tag, size_t body_start) {
    for (size_t i = source_.find("{%", body_start); i != std::string::npos; i = source_.find("{%", i + 1)) {
      size_t j = i + 2;
      char sign = 0;
      if (j < source_.size() && (source_[j] == '-' || source_[j] == '+')) sign = source_[j++];
      j += whitespace_run(source_, j);
      if (source_.compare(j, 6, "endraw") != 0) continue;
      j += 6;
      j += whitespace_run(source_, j);
      size_t end = 0;
      if (source_.compare(j, 3, "+%}") == 0) {
        end = j + 3;
      } else if (source_.compare(j, 3, "-%}") == 0) {
        end = j + 3 + whitespace_run(source_, j + 3);
      } else if (source_.compare(j, 2, "%}") == 0) {
        end = j + 2;
        if (options_.trim_blocks && end < source_.size() && source_[end] == '\n') ++end;
      } else {
        continue;
      }
      const bool raw_line_starting = source_[body_start - 1] == '\n';
      emit_text(strip_before_tag(std::string_view(source_).substr(body_start, i - body_start), sign, true,
                                 raw_line_starting));
      return end;
    }
    info_.fail(position_of(tag), "the {% raw %} block is never closed with {% endraw %}");
  }

  size_t lex_comment(size_t tag, size_t after) {
    const size_t close = source_.find("#}", after);
    if (close == std::string::npos) info_.fail(position_of(tag), "the comment {# is never closed with #}");
    const char before = close > after ? source_[close - 1] : 0;
    size_t end = close + 2;
    if (before == '-') {
      end += whitespace_run(source_, end);
    } else if (before != '+' && options_.trim_blocks && end < source_.size() && source_[end] == '\n') {
      ++end;
    }
    return end;
  }

  // The tokens of a {{ ... }} or {% ... %} tag; returns the position after its end (and the whitespace
  // the end consumes).
  size_t lex_tag(size_t tag, size_t pos, bool is_variable) {
    const std::string_view src = source_;
    tokens_.push_back(
        {is_variable ? TokenType::VariableBegin : TokenType::BlockBegin, is_variable ? "{{" : "{%", position_of(tag)});
    std::vector<char> brackets;
    while (true) {
      pos += whitespace_run(src, pos);
      if (pos >= src.size())
        info_.fail(position_of(tag), is_variable ? "the {{ opened here is never closed with }}"
                                                 : "the {% opened here is never closed with %}");
      if (brackets.empty()) {
        if (size_t end = match_tag_end(pos, is_variable)) {
          tokens_.push_back({is_variable ? TokenType::VariableEnd : TokenType::BlockEnd, is_variable ? "}}" : "%}",
                             position_of(pos)});
          return end;
        }
      }
      const char c = src[pos];
      const Position here = position_of(pos);
      if (is_digit(c)) {
        pos = lex_number(pos);
      } else if (is_name_start(c)) {
        size_t end = pos;
        while (end < src.size() && is_name_char(src[end])) ++end;
        tokens_.push_back({TokenType::Name, std::string(src.substr(pos, end - pos)), here});
        pos = end;
      } else if (c == '\'' || c == '"') {
        pos = lex_string(pos);
      } else {
        static const char* const kTwoCharOperators[] = {"//", "**", "==", "!=", ">=", "<="};
        std::string op;
        for (const char* candidate : kTwoCharOperators)
          if (src.compare(pos, 2, candidate) == 0) op = candidate;
        if (op.empty() && std::strchr("+-/*%~[](){}><=.:|,;", c) != nullptr) op = std::string(1, c);
        if (op.empty()) {
          const Utf8Char bad = decode_utf8_at(src, pos);
          info_.fail(here, fmt::format("unexpected character '{}' in a tag", src.substr(pos, bad.length)));
        }
        if (op == "(" || op == "[" || op == "{") {
          if (brackets.size() >= static_cast<size_t>(kMaxNesting)) info_.fail(here, "brackets nested too deeply");
          brackets.push_back(c);
        } else if (op == ")" || op == "]" || op == "}") {
          const char open = c == ')' ? '(' : c == ']' ? '[' : '{';
          if (brackets.empty()) info_.fail(here, fmt::format("unexpected '{}'", c));
          if (brackets.back() != open) {
            const char expected = brackets.back() == '(' ? ')' : brackets.back() == '[' ? ']' : '}';
            info_.fail(here, fmt::format("unexpected '{}', expected '{}'", c, expected));
          }
          brackets.pop_back();
        }
        tokens_.push_back({TokenType::Operator, op, here});
        pos += op.size();
      }
    }
  }

  // The end of the tag's closing sequence at `pos` (after the whitespace it strips), or 0 if none is there.
  size_t match_tag_end(size_t pos, bool is_variable) const {
    const std::string_view src = source_;
    const char* close = is_variable ? "}}" : "%}";
    if (src.compare(pos, 2, close) == 0) {
      size_t end = pos + 2;
      if (!is_variable && options_.trim_blocks && end < src.size() && src[end] == '\n') ++end;
      return end;
    }
    if (src.size() > pos + 2 && src[pos] == '-' && src.compare(pos + 1, 2, close) == 0)
      return pos + 3 + whitespace_run(src, pos + 3);
    if (!is_variable && src.size() > pos + 2 && src[pos] == '+' && src.compare(pos + 1, 2, close) == 0) return pos + 3;
    return 0;
  }

  // Digits with single underscores between them (jinja2 lexer integer_re and float_re, decimal forms).
  size_t digits_end(size_t pos) const {
    size_t end = pos;
    while (end < source_.size() && is_digit(source_[end])) {
      ++end;
      if (end + 1 < source_.size() && source_[end] == '_' && is_digit(source_[end + 1])) ++end;
    }
    return end;
  }

  size_t lex_number(size_t pos) {
    const Position here = position_of(pos);
    size_t end = digits_end(pos);
    bool is_float = false;
    // `foo.0.1` is item 0 then item 1, not the float 0.1: jinja's float_re does not start after a dot.
    const bool after_dot = pos > 0 && source_[pos - 1] == '.';
    if (!after_dot && end + 1 < source_.size() && source_[end] == '.' && is_digit(source_[end + 1])) {
      end = digits_end(end + 1);
      is_float = true;
    }
    if (!after_dot && end < source_.size() && (source_[end] == 'e' || source_[end] == 'E')) {
      size_t exponent = end + 1;
      if (exponent < source_.size() && (source_[exponent] == '+' || source_[exponent] == '-')) ++exponent;
      if (exponent < source_.size() && is_digit(source_[exponent])) {
        end = digits_end(exponent);
        is_float = true;
      }
    }
    std::string text;
    for (size_t i = pos; i < end; ++i)
      if (source_[i] != '_') text += source_[i];
    Token token{is_float ? TokenType::Float : TokenType::Integer, text, here};
    if (is_float) {
      token.number = python_float(text).value_or(0.0);
    } else {
      constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
      for (char d : text) {
        if (token.integer > (kMax - (d - '0')) / 10)
          info_.fail(here, fmt::format("the integer {} is too large (64-bit integers only)", text));
        token.integer = token.integer * 10 + (d - '0');
      }
    }
    tokens_.push_back(std::move(token));
    return end;
  }

  // A quoted literal, decoded as jinja does (Python's "unicode-escape" codec on the text between quotes).
  size_t lex_string(size_t pos) {
    const Position here = position_of(pos);
    const char quote = source_[pos];
    std::string value;
    size_t i = pos + 1;
    while (true) {
      if (i >= source_.size()) info_.fail(here, "unterminated string literal");
      const char c = source_[i];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++i;
        continue;
      }
      if (i + 1 >= source_.size()) info_.fail(here, "unterminated string literal");
      const char e = source_[i + 1];
      i += 2;
      switch (e) {
        case '\n':
          break;
        case '\\':
          value += '\\';
          break;
        case '\'':
          value += '\'';
          break;
        case '"':
          value += '"';
          break;
        case 'a':
          value += '\a';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'n':
          value += '\n';
          break;
        case 'r':
          value += '\r';
          break;
        case 't':
          value += '\t';
          break;
        case 'v':
          value += '\v';
          break;
        case 'x':
        case 'u':
        case 'U': {
          const int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          char32_t code = 0;
          for (int d = 0; d < digits; ++d, ++i) {
            const int h = i < source_.size() ? hex_value(source_[i]) : -1;
            if (h < 0) info_.fail(here, fmt::format("truncated \\{} escape in a string literal", e));
            code = code * 16 + static_cast<char32_t>(h);
          }
          if (code > 0x10FFFF) info_.fail(here, "an escape in a string literal is beyond U+10FFFF");
          append_utf8(value, code);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            char32_t code = e - '0';
            for (int d = 0; d < 2 && i < source_.size() && source_[i] >= '0' && source_[i] <= '7'; ++d, ++i)
              code = code * 8 + (source_[i] - '0');
            append_utf8(value, code);
          } else if (e == 'N') {
            info_.fail(here, "\\N{...} escapes are not supported in string literals");
          } else {  // Python keeps an unknown escape as it is
            value += '\\';
            value += e;
          }
      }
    }
    tokens_.push_back({TokenType::String, std::move(value), here});
    return i + 1;
  }

  std::string source_;
  Options options_;
  const SourceInfo& info_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  int cached_line_ = 0;
  size_t cached_offset_ = 0;
  int cached_column_ = 1;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const Options& options, const SourceInfo& info) {
  return Lexer(source, options, info).run();
}

}  // namespace gemma::jinja::detail
