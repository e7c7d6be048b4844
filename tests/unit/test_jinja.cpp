// The Jinja2 subset (common/jinja.h) against the real Jinja2: tests/data/jinja/cases.json holds
// templates, variables and what Jinja2 3.1 rendered (or the error it raised and the line it named),
// written by tests/data/jinja/make_cases.py. Hand-written cases below cover what Jinja cannot be asked
// about the same way: positions in our messages, first_line, hostile input.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/jinja.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using gemma::jinja::Options;
using gemma::jinja::Template;
using gemma::jinja::TemplateError;
using gemma::jinja::Value;

namespace {

const Value& jinja_cases() {
  static const Value cases = [] {
    const fs::path path = fs::path(GEMMA_TEST_SOURCE_DIR) / "tests/data/jinja/cases.json";
    std::ifstream in(path);
    REQUIRE(in.good());
    return Value::parse(in)["cases"];
  }();
  return cases;
}

Options options_named(const std::string& name) {
  return name == "chat" ? gemma::jinja::chat_template_options() : gemma::jinja::lm_eval_options();
}

std::string render(const std::string& source, const Value& context = Value::object(),
                   const Options& options = gemma::jinja::lm_eval_options()) {
  return Template::parse(source, "test.yaml", 1, options).render(context);
}

std::string error_of(const std::string& source, const Value& context = Value::object(),
                     const Options& options = gemma::jinja::lm_eval_options(), int first_line = 1) {
  try {
    Template::parse(source, "test.yaml", first_line, options).render(context);
  } catch (const TemplateError& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("every case renders as Jinja2 renders it", "[jinja]") {
  const Value& cases = jinja_cases();
  REQUIRE(cases.size() > 100);
  size_t rendered = 0;
  for (const Value& c : cases) {
    if (!c.contains("expected")) continue;
    const std::string name = c["name"].get<std::string>();
    INFO("case: " << name << "\ntemplate: " << c["template"].get<std::string>());
    std::string output;
    try {
      output =
          Template::parse(c["template"].get<std::string>(), name, 1, options_named(c["options"])).render(c["context"]);
    } catch (const TemplateError& error) {
      output = std::string("(error) ") + error.what();
    }
    CHECK(output == c["expected"].get<std::string>());
    ++rendered;
  }
  CHECK(rendered > 80);
}

TEST_CASE("every error case fails, naming the line Jinja2 names", "[jinja]") {
  size_t failed = 0;
  for (const Value& c : jinja_cases()) {
    if (!c.contains("error")) continue;
    const std::string name = c["name"].get<std::string>();
    INFO("case: " << name << "\nJinja2: " << c["error"].get<std::string>());
    std::string message = "(no error)";
    try {
      Template::parse(c["template"].get<std::string>(), name, 1, options_named(c["options"])).render(c["context"]);
    } catch (const TemplateError& error) {
      message = error.what();
    }
    CHECK_THAT(message, StartsWith(name + ":" + std::to_string(c["error_line"].get<int>()) + ":"));
    ++failed;
  }
  CHECK(failed > 20);
}

TEST_CASE("errors name origin, line and column, offset by first_line", "[jinja]") {
  CHECK(error_of("Question: {{ question }}\nAnswer: {{ answer }}", {{"question", "q"}}) ==
        "test.yaml:2:12: 'answer' is undefined");
  // A template starting on line 10 of its task file.
  CHECK_THAT(error_of("a\n  {{ doc.missing }}", {{"doc", Value::object()}}, gemma::jinja::lm_eval_options(), 10),
             StartsWith("test.yaml:11:6: 'dict object' has no attribute 'missing'"));
  CHECK_THAT(error_of("{{ 1 +\n 'x' }}"),
             StartsWith("test.yaml:1:6: unsupported operand type(s) for +: 'int' and 'str'"));
  CHECK_THAT(error_of("text {{ x "), StartsWith("test.yaml:1:6: the {{ opened here is never closed"));
  CHECK_THAT(error_of("{% if x %}\n{% for y in z %}"), StartsWith("test.yaml:2:1: the {% for %} block"));
  CHECK_THAT(error_of("{% macro m() %}{% endmacro %}"), Contains("not supported"));
  CHECK_THAT(error_of("{{ raise_exception('bad role') }}"), StartsWith("test.yaml:1:4: bad role"));
  CHECK_THAT(error_of("{{ 'é' ~ }}"), StartsWith("test.yaml:1:10: expected an expression"));
  CHECK_THAT(error_of("{{ x }}", Value::array()), Contains("must be a JSON object"));
}

TEST_CASE("hostile templates give errors, not crashes", "[jinja]") {
  // Nesting deeper than the bound: parentheses, lists, unary minus, not, blocks.
  CHECK_THAT(error_of("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"),
             Contains("nested too deeply"));
  CHECK_THAT(error_of("{{ " + std::string(5000, '-') + "1 }}"), Contains("nests deeper"));
  CHECK_THAT(error_of("{{ " + std::string(3000, 'n') + " }}"), Contains("undefined"));
  std::string nots = "{{ ";
  for (int i = 0; i < 3000; ++i) nots += "not ";
  CHECK_THAT(error_of(nots + "x }}"), Contains("nests deeper"));
  std::string blocks;
  for (int i = 0; i < 3000; ++i) blocks += "{% if true %}";
  CHECK_THAT(error_of(blocks), Contains("nests deeper"));
  // Long chains nest the tree without recursing in the parser: bounded too.
  std::string sum = "{{ 1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  CHECK_THAT(error_of(sum + " }}"), Contains("nests deeper"));
  std::string filters = "{{ 'a'";
  for (int i = 0; i < 5000; ++i) filters += "|trim";
  CHECK_THAT(error_of(filters + " }}"), Contains("nests deeper"));
  std::string attributes = "{{ a";
  for (int i = 0; i < 5000; ++i) attributes += ".b";
  CHECK_THAT(error_of(attributes + " }}"), Contains("nests deeper"));
  // ...while a long chain under the bound renders.
  std::string short_sum = "{{ 0";
  for (int i = 0; i < 300; ++i) short_sum += " + 1";
  CHECK(render(short_sum + " }}") == "300");
  // A value nested without bound through a namespace in a loop.
  CHECK_THAT(error_of("{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}"),
             StartsWith("test.yaml:1:57: the value assigned to ns.x nests deeper"));
  // A long one-line template (positions are counted in linear time).
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "{{ x }}";
  CHECK(render(many, {{"x", "y"}}) == std::string(20000, 'y'));
  // Unterminated and malformed tags.
  for (const char* bad : {"{{",           "{%",          "{#",         "{{ 'a",
                          "{{ (",         "{% if %}",    "{% for %}",  "{% for x %}",
                          "{% set %}",    "{% endif %}", "{{ a.}}",    "{{ a[ }}",
                          "{{ 1 2 }}",    "{{ ) }}",     "{% raw %}x", "{{ 99999999999999999999 }}",
                          "{{ '\\x4' }}", "{{ a | }}",   "{{ a is }}", "{{ f(x=1, 2) }}",
                          "{% else %}",   "{{ {1: 2} }}"})
    CHECK_THAT(error_of(bad, {{"a", 1}, {"f", 1}, {"x", 1}}), StartsWith("test.yaml:1:"));
  // Bad types in operations and calls.
  for (const char* bad : {"{{ [] - 1 }}", "{{ {} < {} }}", "{{ 'a' * 'b' }}", "{{ -'a' }}", "{{ 1 // 0 }}",
                          "{{ 5 % 0 }}", "{{ 'x'.nosuchmethod() }}", "{{ 'x'[::0] }}", "{{ 1[0:1] }}",
                          "{{ range(1000000)|length }}", "{{ 'a' * 100000000000 }}", "{{ 9223372036854775807 + 1 }}",
                          "{{ 2 ** 64 }}", "{{ x(1) }}", "{{ 'a'.split('') }}", "{{ none.attr }}", "{{ [1][0][0] }}",
                          "{% for a, b in [1] %}{% endfor %}", "{{ 'a'.join([1]) }}"})
    CHECK_THAT(error_of(bad, {{"x", 1}}), StartsWith("test.yaml:1:"));
}

TEST_CASE("python_str and python_truthy follow Python", "[jinja]") {
  using gemma::jinja::python_str;
  using gemma::jinja::python_truthy;
  CHECK(python_str(Value::parse(R"(["a", 1, 2.0, true, null, {"k": "it's"}])")) ==
        R"(['a', 1, 2.0, True, None, {'k': "it's"}])");
  CHECK(python_str(1e-5) == "1e-05");
  CHECK(python_str(1e22) == "1e+22");
  CHECK(python_str(0.1) == "0.1");
  CHECK(python_str(100.0) == "100.0");
  CHECK(python_str(Value::parse("18446744073709551615")) == "18446744073709551615");
  CHECK_FALSE(python_truthy(Value::parse("[]")));
  CHECK_FALSE(python_truthy(0.0));
  CHECK_FALSE(python_truthy(""));
  CHECK_FALSE(python_truthy(nullptr));
  CHECK(python_truthy(Value::parse("[0]")));
  CHECK(python_truthy(" "));
}

TEST_CASE("templates are parsed once and rendered many times, and copy", "[jinja]") {
  const Template question = Template::parse("Q: {{ q|trim }}", "t");
  Template copy = question;
  CHECK(copy.origin() == "t");
  CHECK(question.render({{"q", " a "}}) == "Q: a");
  CHECK(copy.render({{"q", "b"}}) == "Q: b");
  // A parse error is raised by parse, before any render.
  CHECK_THROWS_AS(Template::parse("{% if %}", "t"), TemplateError);
  CHECK(render("{{ x }}", {{"x", Value::parse(R"({"a": [1, 2]})")}}) == "{'a': [1, 2]}");
}

TEST_CASE("evaluate: one expression keeps its value's type, anything else is text", "[jinja]") {
  const Value context = Value::parse(R"({"row": {"n": 3, "items": [{"t": "a"}, {"t": "b"}]}, "flag": true})");
  auto evaluate = [&](const std::string& source) { return Template::parse(source, "t").evaluate(context); };
  CHECK(evaluate("{{ row.n + 1 }}") == 4);
  CHECK(evaluate("  {{ row.items | map(attribute='t') | list }}\n") == Value::parse(R"(["a","b"])"));
  CHECK(evaluate("{{ {'k': row.n, 'f': flag} }}") == Value::parse(R"({"k":3,"f":true})"));
  CHECK(evaluate("{{ none }}").is_null());
  CHECK(evaluate("n={{ row.n }}") == "n=3");          // text around it: rendered
  CHECK(evaluate("{{ row.n }}{{ row.n }}") == "33");  // two expressions: rendered
  CHECK(evaluate("{% if flag %}yes{% endif %}") == "yes");
  CHECK_THROWS_WITH(evaluate("{{ row.missing }}"), Catch::Contains("t:1:") && Catch::Contains("missing"));
  CHECK_THROWS_WITH(evaluate("{{ raise_exception('bad row') }}"), Catch::Contains("bad row"));
}
