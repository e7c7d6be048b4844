// lm-eval's filters: GSM8K strict/flexible extraction vectors (lm-eval
// lm_eval/tasks/gsm8k/{gsm8k.yaml,gsm8k-cot.yaml}@4e7e0d47) and Python re.findall semantics (checked against CPython
// 3.11).
#include <catch2/catch.hpp>

#include <re2/re2.h>

#include "common/error.h"
#include "evals/filters.h"

using namespace gemma::evals;

namespace {

FilterStep regex_step(const std::string& pattern, int group_select = 0) {
  FilterStep step;
  step.kind = FilterStep::Kind::Regex;
  step.pattern = pattern;
  step.group_select = group_select;
  return step;
}

FilterStep simple_step(FilterStep::Kind kind) {
  FilterStep step;
  step.kind = kind;
  return step;
}

const CompiledFilterPipeline& strict_match() {
  static const CompiledFilterPipeline pipeline(FilterPipeline{
      "strict-match", {regex_step(R"(#### (\-?[0-9\.\,]+))"), simple_step(FilterStep::Kind::TakeFirst)}});
  return pipeline;
}

const CompiledFilterPipeline& flexible_extract() {
  static const CompiledFilterPipeline pipeline(
      FilterPipeline{"flexible-extract",
                     {regex_step(R"((-?[$0-9.,]{2,})|(-?[0-9]+))", -1), simple_step(FilterStep::Kind::TakeFirst)}});
  return pipeline;
}

using Matches = std::vector<std::vector<std::string>>;

}  // namespace

TEST_CASE("filters: GSM8K strict-match and flexible-extract") {
  const std::string worked = "She has 3 + 4 = 7 apples.\n#### 7";
  CHECK(strict_match().apply(worked).text == "7");
  CHECK(flexible_extract().apply(worked).text == "7");

  const FilterOutcome no_hashes = strict_match().apply("The answer is $1,234.50.");
  CHECK(no_hashes.text == "[invalid]");
  CHECK(no_hashes.fell_back);
  const FilterOutcome flexible = flexible_extract().apply("The answer is $1,234.50.");
  CHECK(flexible.text == "$1,234.50.");
  CHECK_FALSE(flexible.fell_back);

  CHECK(flexible_extract().apply("So 18 - 2 = 16 eggs per day, 16 * 2 = $32").text == "$32");
  CHECK(flexible_extract().apply("answer: 5").text == "5");
  CHECK(flexible_extract().apply("no numbers here").text == "[invalid]");
  CHECK(strict_match().name() == "strict-match");
}

TEST_CASE("filters: regex_findall follows Python's re.findall") {
  const RE2 one_group(R"(#### (\-?[0-9\.\,]+))");
  CHECK(regex_findall(one_group, "She has 3 + 4 = 7 apples.\n#### 7") == Matches{{"7"}});
  const RE2 two_groups(R"((-?[$0-9.,]{2,})|(-?[0-9]+))");
  CHECK(regex_findall(two_groups, "answer: 5") == Matches{{"", "5"}});
  CHECK(regex_findall(two_groups, "So 18 - 2 = $32") == Matches{{"18", ""}, {"", "2"}, {"$32", ""}});
  // ^ anchors at the start of the text, not where the scan resumes.
  CHECK(regex_findall(RE2("^a"), "aaa") == Matches{{"a"}});
  // Empty matches: the scan steps past them, as Python does.
  CHECK(regex_findall(RE2("a*"), "baaac") == Matches{{""}, {"aaa"}, {""}, {""}});
  CHECK(regex_findall(RE2("(a)(b)?"), "ab a") == Matches{{"a", "b"}, {"a", ""}});
}

TEST_CASE("filters: regex_extract picks the match, then its first non-empty group, then strips") {
  const RE2 numbers("( ?[0-9]+ ?)");
  CHECK(regex_extract(numbers, "1 22 333", 0, "[invalid]").text == "1");
  CHECK(regex_extract(numbers, "1 22 333", 1, "[invalid]").text == "22");
  CHECK(regex_extract(numbers, "1 22 333", -1, "[invalid]").text == "333");
  CHECK_THROWS_AS(regex_extract(numbers, "1 22 333", 3, "[invalid]"), gemma::Error);
  const FilterOutcome all_groups_empty = regex_extract(RE2("x(y)?(z)?"), "x", 0, "[none]");
  CHECK(all_groups_empty.text == "[none]");
  CHECK(all_groups_empty.fell_back);
  CHECK(regex_extract(numbers, "none", 0, "custom fallback").text == "custom fallback");
}

TEST_CASE("filters: whitespace, lowercase and the implicit take_first pipeline") {
  const CompiledFilterPipeline none(FilterPipeline{});
  CHECK(none.name() == "none");
  CHECK(none.apply("  Paris \n").text == "  Paris \n");

  const CompiledFilterPipeline strip_lower(FilterPipeline{
      "normalised", {simple_step(FilterStep::Kind::RemoveWhitespace), simple_step(FilterStep::Kind::Lowercase)}});
  CHECK(strip_lower.apply("\t Paris ÉCOLE\xC2\xA0\n").text == "paris école");
  CHECK_FALSE(strip_lower.apply("x").fell_back);

  // lm-eval's uppercase filter: Python's str.upper() ("ß" -> "SS", Greek and Cyrillic too)
  const CompiledFilterPipeline upper(FilterPipeline{"upper", {simple_step(FilterStep::Kind::Uppercase)}});
  CHECK(upper.apply("answer: straße, école, αβγ").text == "ANSWER: STRASSE, ÉCOLE, ΑΒΓ");
  CHECK_FALSE(upper.apply("x").fell_back);
}

TEST_CASE("filters: a pattern RE2 cannot compile is an error naming the pipeline") {
  const FilterPipeline lookbehind{"get-answer", {regex_step("(?<=the answer is )(.*)(?=.)")}};
  CHECK_THROWS_WITH(CompiledFilterPipeline(lookbehind), Catch::Contains("get-answer") && Catch::Contains("RE2"));
}

// lm-eval's multi_choice_regex (MultipleChoiceRegexFilter, lm_eval/filters/extraction.py), as the MMLU flan
// CoT and GPQA CoT task files use it: the regex first; else the doc's choices (ignores applied to both sides)
// found in the response, mapped to "(A)".. by position; else ": B" style letters; else the fallback.
TEST_CASE("multi_choice_regex: regex, then the doc's choices, then a letter after a colon", "[filters]") {
  FilterStep step;
  step.kind = FilterStep::Kind::MultiChoiceRegex;
  step.pattern = R"((\([A-Z]\)))";
  step.ignore_case = true;
  step.ignore_punctuation = true;
  const CompiledFilterPipeline pipeline(FilterPipeline{"flexible-extract", {step}});
  const Doc doc = {{"question", "Capital of the UK?"}, {"choices", {"Paris", "London", "Berlin", "Madrid"}}};
  auto extract = [&](const std::string& response) { return pipeline.apply(response, &doc); };
  CHECK(extract("The answer is (B).").text == "(B)");
  CHECK(extract("I think it's LONDON!").text == "(B)");     // lower-cased, punctuation removed
  CHECK(extract("Probably: C").text == "(C)");              // no choice text: the letter after a colon
  CHECK(extract("Paris, then (D) and (A)").text == "(D)");  // the regex wins; its first match
  const FilterOutcome none = extract("no idea");
  CHECK(none.text == "[invalid]");
  CHECK(none.fell_back);
  CHECK_FALSE(extract("(A)").fell_back);

  step.group_select = -1;  // the last match, for the regex and the fallbacks alike
  step.ignore_punctuation = false;
  const CompiledFilterPipeline last(FilterPipeline{"last", {step}});
  CHECK(last.apply("Paris or Berlin", &doc).text == "(C)");
  CHECK(last.apply("paris.", &doc).text == "(A)");  // ignore_case still on
  CHECK(last.apply("(A) no, (B)", &doc).text == "(B)");

  // The choices come from the doc: without one (gemma-eval score), or without "choices", it says so.
  CHECK_THROWS_WITH(pipeline.apply("London"), Catch::Contains("no doc was given"));
  const Doc no_choices = {{"question", "q"}};
  CHECK_THROWS_WITH(pipeline.apply("London", &no_choices), Catch::Contains("has no \"choices\" list"));
  CHECK(extraction_can_fail(FilterPipeline{"x", {step}}));
}
