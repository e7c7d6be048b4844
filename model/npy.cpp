#include "model/npy.h"

#include <cctype>
#include <cstring>
#include <limits>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/files.h"

namespace gemma {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kHeaderAlignment = 64;  // numpy's ARRAY_ALIGN

[[noreturn]] void invalid_npy(const std::string& source, const std::string& detail) {
  fail("invalid .npy file {}: {}", source, detail);
}

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (5, 5), }.
// Only what numpy writes there is understood: string keys; string, True/False and int-tuple values.
struct HeaderValue {
  enum class Kind { String, Bool, IntTuple } kind;
  std::string text;
  bool flag = false;
  std::vector<int64_t> ints;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

  std::map<std::string, HeaderValue> parse_dict() {
    std::map<std::string, HeaderValue> dict;
    expect('{');
    while (!consume('}')) {
      std::string key = parse_string();
      expect(':');
      dict[key] = parse_value();
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    return dict;
  }

 private:
  HeaderValue parse_value() {
    skip_spaces();
    if (peek() == '\'' || peek() == '"') return {HeaderValue::Kind::String, parse_string(), false, {}};
    if (consume_word("True")) return {HeaderValue::Kind::Bool, "", true, {}};
    if (consume_word("False")) return {HeaderValue::Kind::Bool, "", false, {}};
    if (peek() == '(') return {HeaderValue::Kind::IntTuple, "", false, parse_int_tuple()};
    error("expected a string, True, False or a tuple");
  }

  std::string parse_string() {
    skip_spaces();
    char quote = peek();
    if (quote != '\'' && quote != '"') error("expected a quoted string");
    size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) error("unterminated string");
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return value;
  }

  std::vector<int64_t> parse_int_tuple() {
    expect('(');
    std::vector<int64_t> values;
    while (!consume(')')) {
      values.push_back(parse_dimension());
      consume('L');  // Python 2 long suffix, written by old numpy
      if (!consume(',')) {
        expect(')');
        break;
      }
    }
    return values;
  }

  int64_t parse_dimension() {
    skip_spaces();
    if (!std::isdigit(static_cast<unsigned char>(peek()))) error("expected a non-negative integer in the shape");
    int64_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      int digit = text_[pos_++] - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) error("shape dimension too large");
      value = value * 10 + digit;
    }
    return value;
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_spaces() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool consume(char c) {
    skip_spaces();
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  bool consume_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  void expect(char c) {
    if (!consume(c)) error(fmt::format("expected '{}'", c));
  }
  [[noreturn]] void error(const std::string& what) const {
    invalid_npy(source_, fmt::format("header {:?} at offset {}: {}", std::string(text_), pos_, what));
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string source_;
};

// Item size of each supported descr; the '<' / '|' prefix makes the byte order explicit.
std::optional<size_t> item_size(const std::string& descr) {
  static const std::map<std::string, size_t> kSizes = {{"<f4", 4}, {"<f8", 8}, {"<i4", 4},
                                                       {"<i8", 8}, {"|u1", 1}, {"|b1", 1}};
  auto it = kSizes.find(descr);
  return it == kSizes.end() ? std::nullopt : std::optional<size_t>(it->second);
}

const HeaderValue& header_field(const std::map<std::string, HeaderValue>& dict, const std::string& key,
                                HeaderValue::Kind kind, const std::string& source) {
  auto it = dict.find(key);
  if (it == dict.end() || it->second.kind != kind) invalid_npy(source, fmt::format("header lacks a valid '{}'", key));
  return it->second;
}

template <typename T>
std::vector<T> read_items(const NpyArray& array) {
  std::vector<T> values(array.data.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), array.data.data(), values.size() * sizeof(T));
  return values;
}

[[noreturn]] void cannot_convert(const NpyArray& array, const char* target) {
  fail("array {} has dtype '{}', which cannot be read as {}", array.source.empty() ? "(in memory)" : array.source,
       array.descr, target);
}

// numpy's repr of a shape tuple: "()", "(5,)", "(5, 5)".
std::string python_shape_tuple(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

}  // namespace

int64_t NpyArray::numel() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

std::vector<float> NpyArray::to_float32() const {
  if (descr == "<f4") return read_items<float>(*this);
  if (descr == "<f8") {
    std::vector<double> wide = read_items<double>(*this);
    return std::vector<float>(wide.begin(), wide.end());
  }
  cannot_convert(*this, "float32");
}

std::vector<int32_t> NpyArray::to_int32() const {
  if (descr == "<i4") return read_items<int32_t>(*this);
  if (descr == "|u1" || descr == "|b1") {
    std::vector<uint8_t> bytes = read_items<uint8_t>(*this);
    return std::vector<int32_t>(bytes.begin(), bytes.end());
  }
  if (descr != "<i8") cannot_convert(*this, "int32");
  std::vector<int32_t> narrow;
  for (int64_t value : read_items<int64_t>(*this)) {
    if (value < std::numeric_limits<int32_t>::min() || value > std::numeric_limits<int32_t>::max())
      fail("array {}: value {} does not fit in int32", source, value);
    narrow.push_back(static_cast<int32_t>(value));
  }
  return narrow;
}

std::vector<uint8_t> NpyArray::to_bool() const {
  if (descr != "|b1" && descr != "|u1") cannot_convert(*this, "bool");
  std::vector<uint8_t> values = read_items<uint8_t>(*this);
  for (uint8_t& value : values) value = value != 0;
  return values;
}

NpyArray read_npy(const fs::path& path) {
  const std::string source = path.string();
  const std::string bytes = read_file(follow_link_stub(path));
  if (bytes.size() < 10 || std::string_view(bytes).substr(0, kMagic.size()) != kMagic)
    invalid_npy(source, "it does not start with the \\x93NUMPY magic");
  const auto major = static_cast<uint8_t>(bytes[6]);
  if (major < 1 || major > 3)
    invalid_npy(source, fmt::format("unsupported format version {}.{}", major, int(bytes[7])));
  // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4.
  size_t length_bytes = major == 1 ? 2 : 4;
  size_t header_start = 8 + length_bytes;
  if (bytes.size() < header_start) invalid_npy(source, "the file ends inside the header length");
  uint32_t header_size = 0;
  std::memcpy(&header_size, bytes.data() + 8, length_bytes);
  if (bytes.size() < header_start + header_size) invalid_npy(source, "the file ends inside the header");

  auto dict = HeaderParser(std::string_view(bytes).substr(header_start, header_size), source).parse_dict();
  NpyArray array;
  array.source = source;
  array.descr = header_field(dict, "descr", HeaderValue::Kind::String, source).text;
  if (header_field(dict, "fortran_order", HeaderValue::Kind::Bool, source).flag)
    invalid_npy(source, "fortran_order is True; only C-order arrays are supported");
  array.shape = header_field(dict, "shape", HeaderValue::Kind::IntTuple, source).ints;
  std::optional<size_t> size = item_size(array.descr);
  if (!size) invalid_npy(source, fmt::format("dtype '{}' is not supported (<f4 <f8 <i4 <i8 |u1 |b1)", array.descr));

  uint64_t expected = *size;
  for (int64_t dim : array.shape)
    if (__builtin_mul_overflow(expected, static_cast<uint64_t>(dim), &expected))
      invalid_npy(source, fmt::format("shape {} is too large", python_shape_tuple(array.shape)));
  size_t data_size = bytes.size() - header_start - header_size;
  if (data_size != expected)
    invalid_npy(source, fmt::format("shape {} of '{}' needs {} data bytes but the file has {}",
                                    python_shape_tuple(array.shape), array.descr, expected, data_size));
  array.data = bytes.substr(header_start + header_size);
  return array;
}

void write_npy_float32(const fs::path& path, const float* data, const std::vector<int64_t>& shape) {
  int64_t numel = 1;
  for (int64_t dim : shape) {
    if (dim < 0) fail("cannot write {}: negative dimension in shape {}", path.string(), python_shape_tuple(shape));
    numel *= dim;
  }
  std::string header =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}", python_shape_tuple(shape));
  size_t unpadded = kMagic.size() + 2 + 2 + header.size() + 1;  // magic, version, length, dict, '\n'
  header.append((kHeaderAlignment - unpadded % kHeaderAlignment) % kHeaderAlignment, ' ');
  header += '\n';
  if (header.size() > std::numeric_limits<uint16_t>::max())
    fail("cannot write {}: shape {} makes the .npy 1.0 header too long", path.string(), python_shape_tuple(shape));
  const auto header_size = static_cast<uint16_t>(header.size());

  std::string out(kMagic);
  out += '\x01';  // version 1.0
  out += '\x00';
  out.append(reinterpret_cast<const char*>(&header_size), sizeof(header_size));
  out += header;
  if (numel > 0) out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(numel) * sizeof(float));
  write_file_atomic(path, out);
}

}  // namespace gemma
