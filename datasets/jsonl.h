#pragma once
// JSON Lines: one JSON value per line (LF or CRLF). Whitespace-only lines are accepted only at the
// end of the input (the usual trailing newline); one in the middle means a damaged or concatenated
// file and is an error, as is any line that does not parse or nests deeper than 128 levels (nlohmann
// copies and dumps recursively; a deeper line could overflow the stack where a doc is logged).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gemma::datasets {

struct JsonlRecord {
  size_t line = 0;               // 1-based line number in the input
  nlohmann::ordered_json value;  // key order kept as in the file (it shows in logged samples)
};

// `source` names the input in error messages: "<source>:<line>: invalid JSON: <parser message>".
// A leading UTF-8 BOM is ignored.
std::vector<JsonlRecord> parse_jsonl(std::string_view text, const std::string& source);

// Reads and parses a whole file; errors name the path.
std::vector<JsonlRecord> read_jsonl(const std::filesystem::path& path);

}  // namespace gemma::datasets
