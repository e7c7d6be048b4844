#include "evals/lm_eval_args.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <limits>

#include "common/edit_distance.h"
#include "common/error.h"

namespace gemma::evals {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A base-10 integer in [min, max], or nullopt (no sign, spaces, exponent or fraction).
std::optional<int64_t> decimal_in(std::string_view text, int64_t min, int64_t max) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) return std::nullopt;
  return value;
}

// Shown in an error: a value is cut so a pasted file or a 300-digit number cannot flood the terminal.
std::string shown(std::string_view value) {
  constexpr size_t kMax = 40;
  if (value.size() <= kMax) return std::string(value);
  return std::string(value.substr(0, kMax)) + "... (" + std::to_string(value.size()) + " characters)";
}

// lm-eval's handle_arg_string: "true"/"false" in any case are booleans.
std::optional<bool> python_bool(std::string_view value) {
  const std::string folded = lower(value);
  if (folded == "true") return true;
  if (folded == "false") return false;
  return std::nullopt;
}

bool is_zero_number(std::string_view value) {
  if (value.empty()) return false;
  char* end = nullptr;
  const std::string text(value);
  const double number = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && number == 0.0;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_key_values(std::string_view text, std::string_view flag) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (text.empty()) return pairs;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string_view part = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    const size_t equals = part.find('=');
    if (equals == std::string_view::npos || equals == 0)
      fail("{} {}: expected key=value pairs separated by commas, got '{}'", flag, shown(text), shown(part));
    pairs.emplace_back(std::string(part.substr(0, equals)), std::string(part.substr(equals + 1)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return pairs;
}

LmEvalModelArgs parse_model_args(std::string_view text) {
  LmEvalModelArgs args;
  for (const auto& [key, value] : parse_key_values(text, "--model_args")) {
    if (key == "pretrained") {
      args.pretrained = value;
    } else if (key == "dtype") {
      args.dtype = value;
    } else if (key == "device") {
      args.device = value;
    } else if (key == "max_length") {
      const auto length = decimal_in(value, 1, 1 << 30);
      if (!length) fail("--model_args max_length={}: expected a positive integer", shown(value));
      args.max_length = static_cast<int>(*length);
    } else {
      fail(
          "--model_args: unknown key '{}' (accepted: pretrained, dtype, device, max_length; other lm-eval model "
          "arguments have no meaning here)",
          shown(key));
    }
  }
  return args;
}

GenerationOverrides parse_gen_kwargs(std::string_view text) {
  GenerationOverrides overrides;
  for (const auto& [key, value] : parse_key_values(text, "--gen_kwargs")) {
    if (key == "max_gen_toks" || key == "max_new_tokens") {
      const auto tokens = decimal_in(value, 1, 1 << 30);
      if (!tokens) fail("--gen_kwargs {}={}: expected a positive integer", key, shown(value));
      overrides.max_gen_toks = static_cast<int>(*tokens);
    } else if (key == "until") {
      if (value.empty()) fail("--gen_kwargs until=: expected a stop string");
      overrides.until = std::vector<std::string>{value};
    } else if (key == "do_sample") {
      const auto sample = python_bool(value);
      if (!sample) fail("--gen_kwargs do_sample={}: expected True or False", shown(value));
      if (*sample) fail("--gen_kwargs do_sample=True: sampling is not supported; decoding here is greedy");
    } else if (key == "temperature") {
      if (!is_zero_number(value))
        fail("--gen_kwargs temperature={}: only temperature=0 (greedy decoding) is supported", shown(value));
    } else {
      fail(
          "--gen_kwargs: unknown key '{}' (accepted: max_gen_toks, until, do_sample=False, temperature=0; decoding "
          "here is greedy)",
          shown(key));
    }
  }
  return overrides;
}

LmEvalSeeds parse_seeds(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (parts.size() != 1 && parts.size() != 4)
    fail("--seed {}: expected one integer or four comma-separated ones (random,numpy,torch,fewshot)", shown(text));
  auto seed = [&](std::string_view part) -> std::optional<uint64_t> {
    if (part == "None") return std::nullopt;
    // Python's random.seed and numpy accept non-negative seeds below 2^32 (numpy's limit); lm-eval passes them on.
    const auto value = decimal_in(part, 0, 4294967295LL);
    if (!value) fail("--seed {}: '{}' is not an integer from 0 to 4294967295 (or None)", shown(text), shown(part));
    return static_cast<uint64_t>(*value);
  };
  LmEvalSeeds seeds;
  if (parts.size() == 1) {
    const auto value = seed(parts[0]);
    seeds.random = seeds.numpy = seeds.torch = seeds.fewshot = value;
  } else {
    seeds.random = seed(parts[0]);
    seeds.numpy = seed(parts[1]);
    seeds.torch = seed(parts[2]);
    seeds.fewshot = seed(parts[3]);
  }
  return seeds;
}

DocLimit parse_limit(std::string_view text) {
  DocLimit limit;
  if (const auto count = decimal_in(text, 0, std::numeric_limits<int64_t>::max() / 10)) {
    limit.count = static_cast<size_t>(*count);
    return limit;
  }
  const std::string copy(text);
  // Python's float() (lm-eval's argparse type): decimal digits, a point, an exponent; strtod would also
  // take hexadecimal ("0x10"), which Python refuses.
  const bool decimal = !copy.empty() && copy.find_first_not_of("0123456789.eE+-") == std::string::npos;
  char* end = nullptr;
  const double value = decimal ? std::strtod(copy.c_str(), &end) : std::nan("");
  const bool number = end == copy.c_str() + copy.size() && std::isfinite(value);
  if (number && value > 0.0 && value < 1.0) {
    limit.fraction = value;
    return limit;
  }
  if (number && value >= 1.0 && value == std::floor(value) && value < 1e15) {
    limit.count = static_cast<size_t>(value);  // "100.0"
    return limit;
  }
  fail("--limit {}: expected a number of docs (an integer) or a fraction of each task's docs below 1.0 (0.1 = 10%)",
       shown(text));
}

size_t limited_count(const DocLimit& limit, size_t total) {
  if (limit.fraction)
    return std::min(total, static_cast<size_t>(std::ceil(static_cast<double>(total) * *limit.fraction)));
  if (limit.count) return std::min(total, *limit.count);
  return total;
}

std::optional<int> parse_batch_size(std::string_view text) {
  if (text == "auto") return std::nullopt;
  const auto value = decimal_in(text, 1, std::numeric_limits<int>::max());
  if (!value)
    fail("--batch-size {}: expected a positive integer up to {} or auto", shown(text), std::numeric_limits<int>::max());
  return static_cast<int>(*value);
}

std::string sanitize_model_name(std::string_view name) {
  // lm_eval/utils.py: re.sub(r"[\"<>:/\|\\?\*\[\]]+", "__", model_name)
  constexpr std::string_view kReplaced = "\"<>:/|\\?*[]";
  std::string out;
  bool in_run = false;
  for (char c : name) {
    if (kReplaced.find(c) != std::string_view::npos) {
      if (!in_run) out += "__";
      in_run = true;
    } else {
      out += c;
      in_run = false;
    }
  }
  return out;
}

std::string file_timestamp(int64_t unix_microseconds) {
  const std::time_t seconds = static_cast<std::time_t>(unix_microseconds / 1000000);
  const int64_t micros = unix_microseconds % 1000000;
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H-%M-%S", &local);
  std::string out = text;
  if (micros != 0) {
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%06lld", static_cast<long long>(micros));
    out += fraction;
  }
  return out;
}

bool has_wildcard(std::string_view pattern) { return pattern.find_first_of("*?[") != std::string_view::npos; }

bool fnmatch(std::string_view name, std::string_view pattern) {
  if (pattern.empty()) return name.empty();
  const char p = pattern[0];
  if (p == '*') {
    for (size_t skip = 0; skip <= name.size(); ++skip)
      if (fnmatch(name.substr(skip), pattern.substr(1))) return true;
    return false;
  }
  if (name.empty()) return false;
  if (p == '?') return fnmatch(name.substr(1), pattern.substr(1));
  if (p == '[') {
    const size_t close = pattern.find(']', 2);
    if (close != std::string_view::npos) {  // Python's fnmatch: a '[' without ']' is a literal
      std::string_view set = pattern.substr(1, close - 1);
      const bool negated = !set.empty() && set[0] == '!';
      if (negated) set.remove_prefix(1);
      bool found = false;
      for (size_t i = 0; i < set.size(); ++i) {
        if (i + 2 < set.size() && set[i + 1] == '-') {
          found = found || (name[0] >= set[i] && name[0] <= set[i + 2]);
          i += 2;
        } else {
          found = found || name[0] == set[i];
        }
      }
      return found != negated && fnmatch(name.substr(1), pattern.substr(close + 1));
    }
  }
  return name[0] == p && fnmatch(name.substr(1), pattern.substr(1));
}

std::string closest_name(std::string_view given, const std::vector<std::string>& known) {
  auto fold = [](std::string_view text) {
    std::string out = lower(text);
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
  };
  const std::string a = fold(given);
  std::string best;
  size_t best_distance = std::string::npos;
  for (const std::string& candidate : known) {
    const size_t distance = edit_distance(a, fold(candidate));
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  // A third of the name may differ (at least 2 edits): "--num-fewshot" for "--num_fewshot" is 0 after folding.
  const size_t allowed = std::max<size_t>(2, a.size() / 3);
  return best_distance <= allowed ? best : std::string();
}

}  // namespace gemma::evals
