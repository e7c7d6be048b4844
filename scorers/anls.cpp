#include "scorers/anls.h"

#include <algorithm>
#include <cstdint>

#include "common/error.h"
#include "common/python_text.h"
#include "common/utf8.h"

namespace gemma::scorers {
namespace {

// Python's " ".join(text.strip().lower().split()), as code points.
std::u32string normalize(std::string_view text) {
  const std::u32string lowered = decode_utf8(python_lower(text));
  std::u32string out;
  size_t i = 0;
  while (i < lowered.size()) {
    while (i < lowered.size() && python_isspace(lowered[i])) ++i;
    if (i == lowered.size()) break;
    if (!out.empty()) out += U' ';
    while (i < lowered.size() && !python_isspace(lowered[i])) out += lowered[i++];
  }
  return out;
}

// Code points whose Python str.upper() is longer than one code point (SpecialCasing: ß -> SS,
// ﬃ -> FFI, Greek with iota subscript, ...): {first, last, upper length}. Generated from CPython
// 3.11's unicodedata (Unicode 14); every other code point upper-cases to one code point.
struct UpperExpansion {
  char32_t first, last;
  uint8_t length;
};
constexpr UpperExpansion kUpperExpansions[] = {
    {0xDF, 0xDF, 2},     {0x149, 0x149, 2},   {0x1F0, 0x1F0, 2},   {0x390, 0x390, 3},   {0x3B0, 0x3B0, 3},
    {0x587, 0x587, 2},   {0x1E96, 0x1E9A, 2}, {0x1F50, 0x1F50, 2}, {0x1F52, 0x1F52, 3}, {0x1F54, 0x1F54, 3},
    {0x1F56, 0x1F56, 3}, {0x1F80, 0x1FAF, 2}, {0x1FB2, 0x1FB4, 2}, {0x1FB6, 0x1FB6, 2}, {0x1FB7, 0x1FB7, 3},
    {0x1FBC, 0x1FBC, 2}, {0x1FC2, 0x1FC4, 2}, {0x1FC6, 0x1FC6, 2}, {0x1FC7, 0x1FC7, 3}, {0x1FCC, 0x1FCC, 2},
    {0x1FD2, 0x1FD3, 3}, {0x1FD6, 0x1FD6, 2}, {0x1FD7, 0x1FD7, 3}, {0x1FE2, 0x1FE3, 3}, {0x1FE4, 0x1FE4, 2},
    {0x1FE6, 0x1FE6, 2}, {0x1FE7, 0x1FE7, 3}, {0x1FF2, 0x1FF4, 2}, {0x1FF6, 0x1FF6, 2}, {0x1FF7, 0x1FF7, 3},
    {0x1FFC, 0x1FFC, 2}, {0xFB00, 0xFB02, 2}, {0xFB03, 0xFB04, 3}, {0xFB05, 0xFB06, 2}, {0xFB13, 0xFB17, 2},
};

// Python's len(text.upper()).
size_t upper_length(std::string_view text) {
  size_t length = 0;
  for (char32_t c : decode_utf8(text)) {
    size_t n = 1;
    for (const auto& e : kUpperExpansions)
      if (c >= e.first && c <= e.last) {
        n = e.length;
        break;
      }
    length += n;
  }
  return length;
}

size_t levenshtein(const std::u32string& a, const std::u32string& b) {
  const std::u32string& shorter = a.size() <= b.size() ? a : b;
  const std::u32string& longer = a.size() <= b.size() ? b : a;
  std::vector<size_t> row(shorter.size() + 1);
  for (size_t i = 0; i <= shorter.size(); ++i) row[i] = i;
  for (size_t j = 0; j < longer.size(); ++j) {
    size_t diagonal = row[0];
    row[0] = j + 1;
    for (size_t i = 0; i < shorter.size(); ++i) {
      const size_t above = row[i + 1];
      row[i + 1] = shorter[i] == longer[j] ? diagonal : 1 + std::min({diagonal, above, row[i]});
      diagonal = above;
    }
  }
  return row[shorter.size()];
}

}  // namespace

std::string anls_variant_name(AnlsVariant variant) { return variant == AnlsVariant::Lmms ? "lmms" : "official"; }

std::optional<AnlsVariant> parse_anls_variant(std::string_view name) {
  if (name == "lmms") return AnlsVariant::Lmms;
  if (name == "official") return AnlsVariant::Official;
  return std::nullopt;
}

size_t levenshtein_distance(std::string_view a, std::string_view b) {
  return levenshtein(decode_utf8(a), decode_utf8(b));
}

double anls(std::string_view prediction, const std::vector<std::string>& references, AnlsVariant variant,
            double threshold) {
  if (references.empty()) fail("anls: no references to score the prediction against");
  const std::u32string predicted = normalize(prediction);
  const size_t predicted_upper = upper_length(prediction);
  double best = 0.0;
  bool first = true;
  for (const std::string& reference : references) {
    const std::u32string gold = normalize(reference);
    const size_t distance = levenshtein(gold, predicted);
    const size_t length = variant == AnlsVariant::Lmms ? std::max(upper_length(reference), predicted_upper)
                                                       : std::max(gold.size(), predicted.size());
    const double normalized = length == 0 ? 0.0 : static_cast<double>(distance) / static_cast<double>(length);
    if (first || normalized < best) best = normalized;
    first = false;
  }
  const double score = 1.0 - best;
  return score < threshold ? 0.0 : score;
}

}  // namespace gemma::scorers
