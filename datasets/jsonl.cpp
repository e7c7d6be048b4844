#include "datasets/jsonl.h"

#include <algorithm>

#include "common/error.h"
#include "common/files.h"

namespace gemma::datasets {
namespace {

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// Dataset rows nest a few levels deep. nlohmann::json dumps and copies values recursively, so a line
// of deeply nested brackets would overflow the stack wherever a doc is logged or copied: such lines
// are refused up front.
constexpr size_t kMaxNesting = 128;

// The deepest bracket nesting of a JSON text (brackets inside strings do not count).
size_t nesting_depth(std::string_view line) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // skips the escaped character
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

std::vector<JsonlRecord> parse_jsonl(std::string_view text, const std::string& source) {
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());

  std::vector<JsonlRecord> records;
  size_t first_blank_line = 0;  // 0 = none seen since the last record
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t newline = text.find('\n', pos);
    const size_t end = newline == std::string_view::npos ? text.size() : newline;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    if (is_blank(line)) {
      if (first_blank_line == 0) first_blank_line = line_number;
      continue;
    }
    if (first_blank_line != 0)
      fail("{}:{}: empty line inside JSON Lines data (only trailing empty lines are allowed)", source,
           first_blank_line);
    if (nesting_depth(line) > kMaxNesting)
      fail("{}:{}: JSON nested deeper than {} levels", source, line_number, kMaxNesting);
    try {
      records.push_back({line_number, nlohmann::ordered_json::parse(line)});
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
      fail("{}:{}: invalid JSON: {}", source, line_number, e.what());
    }
  }
  return records;
}

std::vector<JsonlRecord> read_jsonl(const std::filesystem::path& path) {
  return parse_jsonl(read_file(path), path.string());
}

}  // namespace gemma::datasets
