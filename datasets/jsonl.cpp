#include "datasets/jsonl.h"

#include "common/error.h"
#include "common/files.h"

namespace gemma::datasets {
namespace {

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
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
    try {
      records.push_back({line_number, nlohmann::ordered_json::parse(line)});
    } catch (const nlohmann::json::parse_error& e) {
      fail("{}:{}: invalid JSON: {}", source, line_number, e.what());
    }
  }
  return records;
}

std::vector<JsonlRecord> read_jsonl(const std::filesystem::path& path) {
  return parse_jsonl(read_file(path), path.string());
}

}  // namespace gemma::datasets
