#pragma once
// A plain GitHub-flavoured markdown table with padded columns, for the compare and history reports
// (reports/markdown.cpp keeps its own writer: it must match pytablewriter byte for byte, these need not).
#include <optional>
#include <string>
#include <vector>

namespace gemma::reports {

enum class Align { Left, Right };

// Cells are escaped ('|' -> "\|") and padded to the widest cell of their column, counted in UTF-8 code
// points (so Δ, ±, → count as one).
std::string text_table(const std::vector<std::string>& headers, const std::vector<Align>& align,
                       const std::vector<std::vector<std::string>>& rows);

// "%.4f"; "-" for none.
std::string fixed4(const std::optional<double>& value);

}  // namespace gemma::reports
