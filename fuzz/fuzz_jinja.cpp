// libFuzzer target: the Jinja engine (common/jinja.h). The input is a template's text; it is parsed and
// rendered with lm-eval's options (task-file templates) and with transformers' chat-template options,
// over a fixed context shaped like the rows and conversations those templates see (the variables of
// tests/data/jinja/cases.json). gemma::Error (TemplateError: syntax, undefined names, raise_exception,
// limits) is the expected outcome for bad input; any other exception, crash, sanitizer report or hang is
// a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/error.h"
#include "common/jinja.h"

namespace {

const gemma::jinja::Value& context() {
  static const gemma::jinja::Value value = gemma::jinja::Value::parse(R"json({
    "question": "  Which of the following is a prime number?\n", "subject": "abstract_algebra",
    "choices": ["4", "6", "7", "9"], "answer": 2, "label": 1, "answerKey": "C", "id": "Mercury_7175875",
    "goal": "How do I ready a guinea pig cage?", "sol1": "Bedding.", "sol2": "Straw.",
    "ctx_a": "Then, the man writes over the snow", "ctx_b": "then", "activity_label": "Removing ice from car",
    "premise": "A man walks.", "hypothesis": "A person moves.", "passage": "Windows Movie Maker (formerly ...)",
    "answers": [{"aid": 1, "atext": "Flu"}, {"aid": 2, "atext": "Cold"}], "ra": 2, "answer_number": 18,
    "equation_solution": null, "text": "In my palm is a clear stone.", "x": 1, "s": "h\u00e9llo w\u00f6rld",
    "l": [1, 2, 3, 4, 5], "d": {"a": 1, "b": {"c": "deep"}}, "t": true, "n": null, "f": 3.0,
    "nested": [[{}], []], "m": [["a", "b"], ["c"]], "doc": {"a": 1},
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
                 {"role": "assistant", "content": "yo"},
                 {"role": "user", "content": [{"type": "text", "text": "and?"}]}],
    "add_generation_prompt": true, "bos_token": "<bos>", "eos_token": "<eos>", "tools": null, "documents": null
  })json");
  return value;
}

void parse_and_render(std::string_view source, const gemma::jinja::Options& options) {
  try {
    const auto parsed = gemma::jinja::Template::parse(source, "fuzz.jinja", 1, options);
    (void)parsed.render(context());
  } catch (const gemma::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  parse_and_render(source, gemma::jinja::lm_eval_options());
  parse_and_render(source, gemma::jinja::chat_template_options());
  return 0;
}
