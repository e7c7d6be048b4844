#pragma once
// lm-eval's command-line values, read as lm-eval reads them (lm_eval/__main__.py cli_evaluate and
// lm_eval/utils.py simple_parse_args_string / handle_arg_string), so a user's lm-eval command line works
// here unchanged where the setting means something here. Torch-free; the CLI maps them onto its own flags.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gemma::evals {

// "k1=v1,k2=v2" as lm-eval's simple_parse_args_string splits it: on commas, each part at its first '='
// (so a value may hold '='; an empty string gives no pairs). A part without '=' fails naming `flag`.
std::vector<std::pair<std::string, std::string>> parse_key_values(std::string_view text, std::string_view flag);

// --model_args pretrained=DIR_OR_HUB_ID,dtype=...,device=...: lm-eval's hf model arguments that mean
// something here. Any other key fails naming it and the keys accepted.
struct LmEvalModelArgs {
  std::string pretrained;  // the checkpoint folder or Hub id (--model)
  std::string dtype;       // "auto", "float32", "bfloat16", "float16" (--dtype)
  std::string device;      // "cpu", "cuda", "cuda:N" (--device)
  std::optional<int> max_length;
};
LmEvalModelArgs parse_model_args(std::string_view text);

// --gen_kwargs: lm-eval updates each generate_until task's generation_kwargs with these. Greedy
// decoding is the only decoding here, so do_sample=False and temperature=0 are accepted (and change
// nothing); sampling, and keys this harness has no meaning for, fail naming the key.
struct GenerationOverrides {
  std::optional<int> max_gen_toks;
  std::optional<std::vector<std::string>> until;  // a single stop string, as the CLI can give one
  bool empty() const { return !max_gen_toks && !until; }
};
GenerationOverrides parse_gen_kwargs(std::string_view text);

// --seed: lm-eval's "a,b,c,d" = python random, numpy, torch and few-shot seeds (a single value sets all
// four; "None" leaves one unset). Here the python random seed draws --limit-mode random's docs and the
// few-shot seed drives the shot sampler; numpy and torch seeds are recorded only (decoding is greedy and
// nothing here draws from them).
struct LmEvalSeeds {
  std::optional<uint64_t> random = 0, numpy = 1234, torch = 1234, fewshot = 1234;  // lm-eval's defaults
};
LmEvalSeeds parse_seeds(std::string_view text);

// --limit: an integer count of docs, or (lm-eval) a number below 1.0 meaning that share of each task's
// docs, rounded up (lm-eval evaluator.py: int(math.ceil(len(docs) * limit))). A number >= 1 with a
// fraction (2.5) is refused: lm-eval would truncate it silently.
struct DocLimit {
  std::optional<size_t> count;
  std::optional<double> fraction;  // in (0, 1)
};
DocLimit parse_limit(std::string_view text);
// How many of `total` docs a limit selects.
size_t limited_count(const DocLimit& limit, size_t total);

// --batch_size N | auto. nullopt = auto.
std::optional<int> parse_batch_size(std::string_view text);

// lm-eval's sanitize_model_name (lm_eval/utils.py): runs of " < > : / | \ ? * [ ] become "__".
std::string sanitize_model_name(std::string_view name);

// lm-eval's file timestamp: datetime.now().isoformat().replace(":", "-"), e.g. 2024-05-01T12-34-56.123456
// (isoformat leaves out ".ffffff" when the microseconds are 0). Local time, as Python's datetime.now().
std::string file_timestamp(int64_t unix_microseconds);

// Python-style fnmatch of a task name against a pattern with *, ? and [seq] (lm-eval matches --tasks
// patterns with fnmatch.filter over every task and group name).
bool fnmatch(std::string_view name, std::string_view pattern);
bool has_wildcard(std::string_view pattern);

// The known name closest to `given` (edit distance, with '_' and '-' counted as the same) when it is close
// enough to be a likely typo or spelling variant; empty otherwise.
std::string closest_name(std::string_view given, const std::vector<std::string>& known);

}  // namespace gemma::evals
