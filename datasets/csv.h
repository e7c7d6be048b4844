#pragma once
// RFC 4180 CSV: comma-separated fields, records ended by LF or CRLF, fields optionally quoted with
// '"' (a quote inside is doubled; commas and line breaks inside are data). The MMLU files are
// headerless CSV written by pandas, with quoted multi-line questions, so a split-on-comma reader
// would silently shift columns. Strict on malformed quoting: a bad file must fail loudly with its
// path and line, never load as shifted rows.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace gemma::datasets {

struct CsvRecord {
  size_t line = 0;                  // 1-based line on which the record starts
  std::vector<std::string> fields;  // verbatim: quoted fields keep their inner CR/LF bytes
};

// `source` names the input in error messages ("<source>:<line>: ..."). Blank lines between records
// are skipped (pandas' skip_blank_lines, which produced the MMLU files); a leading UTF-8 BOM is
// ignored. Throws gemma::Error on invalid UTF-8, an unterminated quoted field, text after a closing
// quote, or a quote inside an unquoted field.
std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& source);

// Reads and parses a whole file; errors name the path.
std::vector<CsvRecord> read_csv(const std::filesystem::path& path);

}  // namespace gemma::datasets
