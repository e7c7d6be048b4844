#include "evals/filters.h"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>

#include "common/error.h"
#include "common/jinja.h"
#include "common/python_text.h"
#include "common/utf8.h"

namespace gemma::evals {
namespace {

// Bytes to skip after an empty match so the scan moves on by one code point. (Python would first
// retry a non-empty match at the same position; RE2 cannot ask for that, so patterns that can match
// the empty string may differ from Python here. None of the built-in tasks' patterns can.)
size_t step_past_empty_match(std::string_view text, size_t pos) {
  if (pos >= text.size()) return 1;
  size_t step = 1;
  while (pos + step < text.size() && is_utf8_continuation(static_cast<unsigned char>(text[pos + step]))) ++step;
  return step;
}

std::unique_ptr<re2::RE2> compile_regex(const std::string& pattern, const std::string& pipeline_name) {
  RE2::Options options;
  options.set_log_errors(false);
  auto regex = std::make_unique<re2::RE2>(pattern, options);
  if (!regex->ok())
    fail("filter pipeline \"{}\": regex {} does not compile with RE2: {}", pipeline_name, pattern, regex->error());
  return regex;
}

std::string lowercase_step(std::string_view text) { return python_lower(text); }

// Python's str.upper(), computed by the Jinja engine's `upper` filter (common/jinja_render.cpp) so that
// there is one implementation of it.
std::string uppercase_step(std::string_view text) {
  static const jinja::Template upper = jinja::Template::parse("{{ text | upper }}", "the uppercase filter");
  return upper.render(jinja::Value{{"text", std::string(text)}});
}

}  // namespace

std::vector<std::vector<std::string>> regex_findall(const re2::RE2& regex, std::string_view text) {
  const int groups = regex.NumberOfCapturingGroups();
  std::vector<re2::StringPiece> submatches(1 + groups);
  std::vector<std::vector<std::string>> matches;
  const re2::StringPiece subject(text.data(), text.size());
  size_t pos = 0;
  while (pos <= text.size() && regex.Match(subject, pos, text.size(), RE2::UNANCHORED, submatches.data(), 1 + groups)) {
    std::vector<std::string> match;
    if (groups == 0) {
      match.emplace_back(submatches[0].data(), submatches[0].size());
    } else {
      for (int g = 1; g <= groups; ++g)
        match.emplace_back(submatches[g].data() ? std::string(submatches[g].data(), submatches[g].size()) : "");
    }
    matches.push_back(std::move(match));
    const size_t match_begin = static_cast<size_t>(submatches[0].data() - text.data());
    const size_t match_end = match_begin + submatches[0].size();
    pos = submatches[0].empty() ? match_end + step_past_empty_match(text, match_end) : match_end;
  }
  return matches;
}

namespace {

// findall's match at group_select (negative counts from the end; out of range is Python's IndexError, an
// error here). A match of several groups is a tuple, of which lm-eval's RegexFilter and
// MultipleChoiceRegexFilter keep the first non-empty group: nullopt when all are empty.
std::optional<std::string> selected_match(const std::vector<std::vector<std::string>>& matches, int group_select,
                                          const char* filter, const re2::RE2& regex) {
  const long count = static_cast<long>(matches.size());
  const long index = group_select < 0 ? count + group_select : group_select;
  if (index < 0 || index >= count)
    fail(
        "{} filter {}: group_select {} is out of range for the {} match(es) in the response (Python raises "
        "IndexError here)",
        filter, regex.pattern(), group_select, count);
  const std::vector<std::string>& match = matches[static_cast<size_t>(index)];
  if (match.size() == 1) return match[0];
  for (const std::string& group : match)
    if (!group.empty()) return group;
  return std::nullopt;
}

}  // namespace

FilterOutcome regex_extract(const re2::RE2& regex, std::string_view response, int group_select,
                            const std::string& fallback) {
  const std::vector<std::vector<std::string>> matches = regex_findall(regex, response);
  if (matches.empty()) return {fallback, true};
  const std::optional<std::string> match = selected_match(matches, group_select, "regex", regex);
  if (!match) return {python_strip(fallback), true};
  return {python_strip(*match), false};
}

bool extraction_can_fail(const FilterPipeline& pipeline) {
  return std::any_of(pipeline.steps.begin(), pipeline.steps.end(), [](const FilterStep& step) {
    return step.kind == FilterStep::Kind::Regex || step.kind == FilterStep::Kind::MultiChoiceRegex ||
           step.kind == FilterStep::Kind::Function;
  });
}

namespace {

// MultipleChoiceRegexFilter.find_match (lm-eval lm_eval/filters/extraction.py): findall's match at
// group_select (a tuple's first non-empty group), stripped, then mapped through `convert` when it is a key.
// "" when nothing matched.
std::string find_match(const re2::RE2& regex, std::string_view text, int group_select,
                       const std::map<std::string, std::string>& convert) {
  const std::vector<std::vector<std::string>> matches = regex_findall(regex, text);
  if (matches.empty()) return "";
  const std::string match =
      python_strip(selected_match(matches, group_select, "multi_choice_regex", regex).value_or(""));
  if (const auto it = convert.find(match); !match.empty() && it != convert.end()) return it->second;
  return match;
}

}  // namespace

FilterOutcome CompiledFilterPipeline::multi_choice_extract(const Step& step, std::string_view response,
                                                           const Doc* doc) const {
  const FilterStep& spec = step.spec;
  if (std::string match = find_match(*step.regex, response, spec.group_select, {}); !match.empty())
    return {match, false};
  const Doc* choices = doc && doc->is_object() && doc->contains("choices") ? &doc->at("choices") : nullptr;
  if (!choices || !choices->is_array())
    fail("filter {}: multi_choice_regex looks for the doc's choices in the response, and {}", name_,
         doc ? "this doc has no \"choices\" list" : "no doc was given (gemma-eval score has none: use run or rescore)");
  // filter_ignores: the ignore regexes removed, lower-cased, punctuation (Unicode category P) removed.
  static const re2::RE2 kPunctuation("\\p{P}");
  auto filter_ignores = [&](std::string text) {
    for (const auto& ignore : step.ignores) re2::RE2::GlobalReplace(&text, *ignore, "");
    if (spec.ignore_case) text = python_lower(text);
    if (spec.ignore_punctuation) re2::RE2::GlobalReplace(&text, kPunctuation, "");
    return text;
  };
  std::map<std::string, std::string> choice_to_alpha, letter_to_target;
  std::vector<std::string> choice_alternatives, letter_alternatives;
  char letter = 'A';
  for (const Doc& choice : *choices) {
    if (!choice.is_string()) fail("filter {}: multi_choice_regex: the doc's choices must be strings", name_);
    const std::string text = filter_ignores(python_strip(choice.get<std::string>()));
    const std::string target = std::string("(") + letter + ")";
    choice_alternatives.push_back(re2::RE2::QuoteMeta(text));
    choice_to_alpha[text] = target;  // a dict: a repeated choice maps to its last letter
    letter_alternatives.emplace_back(1, letter);
    letter_to_target[std::string(1, letter)] = target;
    ++letter;
  }
  const re2::RE2 choice_regex(fmt::format("{}", fmt::join(choice_alternatives, "|")));
  if (std::string match =
          find_match(choice_regex, filter_ignores(std::string(response)), spec.group_select, choice_to_alpha);
      !match.empty())
    return {match, false};
  const re2::RE2 letter_regex(fmt::format(":[\\s]*({})", fmt::join(letter_alternatives, "|")));
  if (std::string match = find_match(letter_regex, response, spec.group_select, letter_to_target); !match.empty())
    return {match, false};
  return {spec.fallback, true};
}

CompiledFilterPipeline::CompiledFilterPipeline(const FilterPipeline& pipeline) : name_(pipeline.name) {
  for (const FilterStep& spec : pipeline.steps) {
    Step step{spec, nullptr};
    if (spec.kind == FilterStep::Kind::Regex || spec.kind == FilterStep::Kind::MultiChoiceRegex)
      step.regex = compile_regex(spec.pattern, pipeline.name);
    for (const std::string& ignore : spec.regexes_to_ignore)
      step.ignores.push_back(compile_regex(ignore, pipeline.name));
    if (spec.kind == FilterStep::Kind::Function && !spec.function)
      fail("filter {}: a function step without a function", pipeline.name);
    steps_.push_back(std::move(step));
  }
}

CompiledFilterPipeline::~CompiledFilterPipeline() = default;
CompiledFilterPipeline::CompiledFilterPipeline(CompiledFilterPipeline&&) noexcept = default;
CompiledFilterPipeline& CompiledFilterPipeline::operator=(CompiledFilterPipeline&&) noexcept = default;

FilterOutcome CompiledFilterPipeline::apply(std::string_view response, const Doc* doc) const {
  FilterOutcome outcome{std::string(response), false};
  for (const Step& step : steps_) {
    switch (step.spec.kind) {
      case FilterStep::Kind::Regex: {
        FilterOutcome extracted = regex_extract(*step.regex, outcome.text, step.spec.group_select, step.spec.fallback);
        outcome.text = std::move(extracted.text);
        outcome.fell_back = outcome.fell_back || extracted.fell_back;
        break;
      }
      case FilterStep::Kind::MultiChoiceRegex: {
        FilterOutcome extracted = multi_choice_extract(step, outcome.text, doc);
        outcome.text = std::move(extracted.text);
        outcome.fell_back = outcome.fell_back || extracted.fell_back;
        break;
      }
      case FilterStep::Kind::TakeFirst:  // one response per request (repeats = 1): nothing to drop
        break;
      case FilterStep::Kind::RemoveWhitespace:
        outcome.text = python_strip(outcome.text);
        break;
      case FilterStep::Kind::Lowercase:
        outcome.text = lowercase_step(outcome.text);
        break;
      case FilterStep::Kind::Uppercase:
        outcome.text = uppercase_step(outcome.text);
        break;
      case FilterStep::Kind::Function: {
        std::optional<std::string> extracted = step.spec.function(outcome.text);
        outcome.fell_back = outcome.fell_back || !extracted;
        outcome.text = extracted ? std::move(*extracted) : step.spec.fallback;
        break;
      }
    }
  }
  return outcome;
}

}  // namespace gemma::evals
