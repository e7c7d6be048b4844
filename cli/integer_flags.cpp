#include "cli/integer_flags.h"

#include <limits>

#include <CLI/CLI.hpp>

#include "common/error.h"

namespace gemma::cli {
namespace {

// The magnitude of a run of decimal digits, nullopt when empty, not all digits, or above 2^64-1.
std::optional<uint64_t> decimal_magnitude(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string range_text(int64_t min, uint64_t max) { return fmt::format("an integer from {} to {}", min, max); }

// The value as an error message shows it: a pasted 300-digit number (or a file's text) is cut, not echoed.
std::string shown_value(const std::string& value) {
  constexpr size_t kMax = 24;
  if (value.size() <= kMax) return value;
  return value.substr(0, kMax) + "... (" + std::to_string(value.size()) + " characters)";
}

}  // namespace

std::optional<int64_t> parse_integer_in(std::string_view text, int64_t min, int64_t max) {
  const bool negative = !text.empty() && text[0] == '-';
  const auto magnitude = decimal_magnitude(negative ? text.substr(1) : text);
  if (!magnitude) return std::nullopt;
  int64_t value = 0;
  if (negative) {
    // -2^63 is the most negative int64; its magnitude is one above int64's maximum.
    if (*magnitude > uint64_t(std::numeric_limits<int64_t>::max()) + 1) return std::nullopt;
    value = *magnitude == uint64_t(std::numeric_limits<int64_t>::max()) + 1 ? std::numeric_limits<int64_t>::min()
                                                                            : -static_cast<int64_t>(*magnitude);
  } else {
    if (*magnitude > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
    value = static_cast<int64_t>(*magnitude);
  }
  if (value < min || value > max) return std::nullopt;
  return value;
}

std::optional<uint64_t> parse_unsigned_in(std::string_view text, uint64_t max) {
  const auto magnitude = decimal_magnitude(text);
  if (!magnitude || *magnitude > max) return std::nullopt;
  return magnitude;
}

CLI::Validator integer_in(int64_t min, int64_t max) {
  const std::string expected = range_text(min, static_cast<uint64_t>(max));
  return CLI::Validator(
      [min, max, expected](std::string& value) -> std::string {
        const auto parsed = parse_integer_in(value, min, max);
        if (!parsed) return fmt::format("expected {}, got '{}'", expected, shown_value(value));
        value = std::to_string(*parsed);
        return {};
      },
      "INT in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
}

CLI::Validator unsigned_in(uint64_t max) {
  const std::string expected = range_text(0, max);
  return CLI::Validator(
      [max, expected](std::string& value) -> std::string {
        const auto parsed = parse_unsigned_in(value, max);
        if (!parsed) return fmt::format("expected {}, got '{}'", expected, shown_value(value));
        value = std::to_string(*parsed);
        return {};
      },
      "UINT in [0, " + std::to_string(max) + "]");
}

std::pair<int, int> parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  const auto k =
      slash == std::string::npos ? std::nullopt : parse_integer_in(std::string_view(text).substr(0, slash), 0, kIntMax);
  const auto n = slash == std::string::npos ? std::nullopt
                                            : parse_integer_in(std::string_view(text).substr(slash + 1), 1, kIntMax);
  if (!k || !n || *k >= *n)
    fail("--shard {}: expected K/N with 0 <= K < N <= {} (e.g. 0/4)", shown_value(text), kIntMax);
  return {static_cast<int>(*k), static_cast<int>(*n)};
}

}  // namespace gemma::cli
