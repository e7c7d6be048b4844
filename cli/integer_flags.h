#pragma once
// Integer flags checked as text before CLI11 converts them. CLI11 2.1 reads integers with
// strtoll/strtoull in base 0, so without this `--seed -1` wraps to 2^64-1, `--limit 99999999999999999999`
// saturates, `--limit 010` is octal 8 and `--shard 0/4294967297` (sscanf %d) overflows to 0/1: each a
// plausible run of something else. Here a value is a plain base-10 integer inside the flag's range, or
// the flag is refused by name.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace CLI {
class Validator;
}

namespace gemma::cli {

// The value of `text` when it is a base-10 integer ('-' allowed, leading zeros read as decimal; no '+',
// spaces, 0x or exponent) within [min, max]; nullopt otherwise.
std::optional<int64_t> parse_integer_in(std::string_view text, int64_t min, int64_t max);
std::optional<uint64_t> parse_unsigned_in(std::string_view text, uint64_t max);

// CLI11 transforms (->transform(...)) that refuse a value outside [min, max] naming the range, and
// rewrite an accepted value in canonical decimal so CLI11's base-0 conversion reads what was meant.
CLI::Validator integer_in(int64_t min, int64_t max);
CLI::Validator unsigned_in(uint64_t max);

// --shard K/N: 0 <= K < N, both within int; errors name the flag.
std::pair<int, int> parse_shard(const std::string& text);

}  // namespace gemma::cli
