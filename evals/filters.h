#pragma once
// lm-eval's response filters (lm-eval lm_eval/filters/@4e7e0d47) applied to one generated response:
// regex (re.findall semantics), multi_choice_regex, take_first, remove_whitespace, lowercase, uppercase. Patterns run
// on RE2, which has no lookaround; a pattern RE2 rejects is a gemma::Error when the pipeline is compiled. Torch-free.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "evals/task.h"

namespace re2 {
class RE2;
}

namespace gemma::evals {

struct FilterOutcome {
  std::string text;
  bool fell_back = false;  // a regex step found nothing usable and produced its fallback
};

// A FilterPipeline with its regexes compiled once, applied to every response of a task.
class CompiledFilterPipeline {
 public:
  explicit CompiledFilterPipeline(const FilterPipeline& pipeline);
  ~CompiledFilterPipeline();
  CompiledFilterPipeline(CompiledFilterPipeline&&) noexcept;
  CompiledFilterPipeline& operator=(CompiledFilterPipeline&&) noexcept;

  const std::string& name() const { return name_; }
  // `doc` is the response's document: a multi_choice_regex step reads its "choices" (lm-eval passes the docs to
  // every filter); a pipeline with such a step and no doc is a gemma::Error.
  FilterOutcome apply(std::string_view response, const Doc* doc = nullptr) const;

 private:
  struct Step {
    FilterStep spec;
    std::unique_ptr<re2::RE2> regex;                 // Regex and MultiChoiceRegex steps
    std::vector<std::unique_ptr<re2::RE2>> ignores;  // MultiChoiceRegex: regexes_to_ignore
  };
  FilterOutcome multi_choice_extract(const Step& step, std::string_view response, const Doc* doc) const;
  std::string name_;
  std::vector<Step> steps_;
};

// True when a pipeline has a step that can fall back to "[invalid]" (a regex or a function step).
bool extraction_can_fail(const FilterPipeline& pipeline);

// Python's re.findall(pattern, text) with RE2: each match's full text when the pattern has no group,
// group 1 when it has one, every group (as a tuple) when it has several; unmatched groups are "".
std::vector<std::vector<std::string>> regex_findall(const re2::RE2& regex, std::string_view text);

// lm-eval's RegexFilter on one response: matches[group_select] (negative counts from the end); for a
// several-group pattern, its first non-empty group; then str.strip(). No match (or only empty groups)
// gives the fallback.
FilterOutcome regex_extract(const re2::RE2& regex, std::string_view response, int group_select,
                            const std::string& fallback);

}  // namespace gemma::evals
