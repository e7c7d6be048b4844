#include "reports/text_table.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"

namespace gemma::reports {

namespace {

size_t display_width(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++width;  // UTF-8 lead bytes only
  return width;
}

std::string escaped(const std::string& cell) {
  std::string out;
  for (char c : cell) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';  // a newline would end the table row
    else
      out += c;
  }
  return out;
}

std::string padded(const std::string& text, size_t width, Align align) {
  const std::string fill(width - std::min(width, display_width(text)), ' ');
  return align == Align::Right ? fill + text : text + fill;
}

}  // namespace

std::string text_table(const std::vector<std::string>& headers, const std::vector<Align>& align,
                       const std::vector<std::vector<std::string>>& rows) {
  if (align.size() != headers.size()) fail("text_table: {} alignments for {} columns", align.size(), headers.size());
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size());
  std::vector<size_t> widths(headers.size(), 3);  // "---" is the shortest separator
  for (size_t c = 0; c < headers.size(); ++c) widths[c] = std::max(widths[c], display_width(escaped(headers[c])));
  for (const auto& row : rows) {
    if (row.size() != headers.size()) fail("text_table: a row has {} cells for {} columns", row.size(), headers.size());
    auto& out = cells.emplace_back();
    for (size_t c = 0; c < row.size(); ++c) {
      out.push_back(escaped(row[c]));
      widths[c] = std::max(widths[c], display_width(out.back()));
    }
  }
  auto line = [&](const std::vector<std::string>& row) {
    std::string text = "|";
    for (size_t c = 0; c < row.size(); ++c) text += " " + padded(row[c], widths[c], align[c]) + " |";
    return text + "\n";
  };
  std::vector<std::string> header_cells;
  for (const auto& header : headers) header_cells.push_back(escaped(header));
  std::string text = line(header_cells);
  text += "|";
  for (size_t c = 0; c < headers.size(); ++c)
    text += align[c] == Align::Right ? std::string(widths[c] + 1, '-') + ":|" : std::string(widths[c] + 2, '-') + "|";
  text += "\n";
  for (const auto& row : cells) text += line(row);
  return text;
}

std::string fixed4(const std::optional<double>& value) { return value ? fmt::format("{:.4f}", *value) : "-"; }

}  // namespace gemma::reports
