#include "datasets/csv.h"

#include "common/error.h"
#include "common/files.h"

namespace gemma::datasets {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// The length of the well-formed UTF-8 sequence at text[pos], 0 when it is not one: overlong forms,
// surrogates and code points above U+10FFFF are ill-formed (Unicode's Table 3-7, which nlohmann's
// JSON parser, and so read_jsonl, applies too).
size_t utf8_sequence_length(std::string_view text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char second_min = 0x80, second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF)
    length = 2;
  else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;
    if (lead == 0xED) second_max = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;
    if (lead == 0xF4) second_max = 0x8F;
  } else {
    return 0;
  }
  if (text.size() - pos < length) return 0;
  if (byte(pos + 1) < second_min || byte(pos + 1) > second_max) return 0;
  for (size_t i = 2; i < length; ++i)
    if ((byte(pos + i) & 0xC0) != 0x80) return 0;
  return length;
}

// A CSV file is text: invalid UTF-8 (a Latin-1 export, a damaged download) would otherwise reach the
// prompts as bytes no tokenizer sees in the reference harness, so it fails as JSONL does, with its line.
void require_utf8(std::string_view text, const std::string& source) {
  size_t line = 1, line_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    if (text[pos] == '\n') {
      ++line;
      line_start = ++pos;
      continue;
    }
    const size_t length = utf8_sequence_length(text, pos);
    if (length == 0)
      fail("{}:{}: invalid UTF-8 (byte {:#04x} at byte column {}); CSV data must be UTF-8 text", source, line,
           static_cast<unsigned char>(text[pos]), pos - line_start + 1);
    pos += length;
  }
}

class CsvParser {
 public:
  CsvParser(std::string_view text, const std::string& source) : text_(text), source_(source) {
    if (text_.substr(0, kUtf8Bom.size()) == kUtf8Bom) pos_ = kUtf8Bom.size();
    require_utf8(text_, source_);
  }

  std::vector<CsvRecord> parse() {
    std::vector<CsvRecord> records;
    while (!at_end()) {
      if (at_line_end()) {  // blank line: no record
        skip_line_end();
        continue;
      }
      records.push_back(parse_record());
    }
    return records;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  bool at_line_end() const {
    return text_[pos_] == '\n' || (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n');
  }
  void skip_line_end() {
    pos_ += text_[pos_] == '\r' ? 2 : 1;
    ++line_;
  }

  CsvRecord parse_record() {
    CsvRecord record;
    record.line = line_;
    while (true) {
      record.fields.push_back(text_[pos_] == '"' ? parse_quoted(record.fields.size() + 1)
                                                 : parse_unquoted(record.fields.size() + 1));
      if (at_end()) return record;
      if (at_line_end()) {
        skip_line_end();
        return record;
      }
      ++pos_;  // the comma; a record ending in "," gets a last empty field, as RFC 4180 says
      if (at_end() || at_line_end()) {
        record.fields.emplace_back();
        if (!at_end()) skip_line_end();
        return record;
      }
    }
  }

  std::string parse_unquoted(size_t field_number) {
    const size_t start = pos_;
    while (!at_end() && text_[pos_] != ',' && !at_line_end()) {
      if (text_[pos_] == '"')
        fail("{}:{}: field {}: a '\"' inside an unquoted field (quote the whole field and double the quote)", source_,
             line_, field_number);
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string parse_quoted(size_t field_number) {
    const size_t open_line = line_;
    ++pos_;  // opening quote
    std::string field;
    while (true) {
      if (at_end())
        fail("{}:{}: field {}: unterminated quoted field (the quote opened on line {})", source_, line_, field_number,
             open_line);
      const char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          field += '"';
          pos_ += 2;
          continue;
        }
        ++pos_;  // closing quote
        break;
      }
      if (c == '\n') ++line_;
      field += c;
      ++pos_;
    }
    if (!at_end() && text_[pos_] != ',' && !at_line_end())
      fail("{}:{}: field {}: unexpected character '{}' after a closing quote (expected ',' or a line end)", source_,
           line_, field_number, text_[pos_]);
    return field;
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

}  // namespace

std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& source) {
  return CsvParser(text, source).parse();
}

std::vector<CsvRecord> read_csv(const std::filesystem::path& path) { return parse_csv(read_file(path), path.string()); }

}  // namespace gemma::datasets
