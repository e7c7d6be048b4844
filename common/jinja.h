#pragma once
// The subset of Jinja2 that lm-evaluation-harness task files (doc_to_text, doc_to_target,
// doc_to_choice) and Hugging Face chat templates (tokenizer_config.json "chat_template") use, rendered
// with Python semantics: truthiness, `str()` of values (a list renders as ['a', 'b'], True, None,
// Python float repr), string methods and slicing by code point. Values are JSON values, as the rows of
// a dataset are. Torch-free; depends only on common/.
//
// Reference behaviour: Jinja2 3.1 (jinja2/lexer.py, parser.py, filters.py) as lm-eval renders task
// templates (lm_eval/utils.py: Environment(undefined=StrictUndefined, keep_trailing_newline=True)) and as
// transformers renders chat templates (utils/chat_template_utils.py: ImmutableSandboxedEnvironment with
// trim_blocks=True, lstrip_blocks=True, and a raise_exception(message) global).
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace gemma::jinja {

using Value = nlohmann::ordered_json;

// How the template text is tokenised; lm-eval's task templates and HF chat templates differ here.
struct Options {
  bool trim_blocks = false;    // the first newline after a block tag ({% ... %}) is removed
  bool lstrip_blocks = false;  // spaces and tabs before a block tag at the start of a line are removed
  bool keep_trailing_newline = true;
  // lm-eval renders with StrictUndefined (using an undefined value is an error); transformers renders chat
  // templates with Jinja's default Undefined (it prints as "", is false, iterates as empty).
  bool strict_undefined = true;
  // The tojson filter: Jinja's own (keys sorted, non-ASCII and <>&' escaped) or the one transformers installs
  // for chat templates (json.dumps(x, ensure_ascii=False), keys in order).
  bool transformers_tojson = false;
  // {% break %} and {% continue %} in for loops: Jinja's loopcontrols extension, which transformers loads for
  // chat templates and lm-eval does not.
  bool loop_controls = false;
};
inline Options lm_eval_options() { return {}; }
// transformers' environment keeps Jinja's default keep_trailing_newline=False.
inline Options chat_template_options() { return {true, true, false, false, true, true}; }

// A template or render failure. what() reads "ORIGIN:LINE:COLUMN: message", LINE and COLUMN 1-based
// within the template source (plus Template::parse's first_line), so an error in a task file names the
// file, the line and the column in it. raise_exception("text") in a template throws this with the text.
class TemplateError : public Error {
 public:
  using Error::Error;
};

class Template {
 public:
  // Parses `source` once; throws TemplateError on a syntax error. `origin` names the template in
  // errors ("tasks/arc/arc_easy.yaml" or "tokenizer_config.json chat_template"); `first_line` is the
  // line of `origin` the source starts on (1 for a whole file).
  static Template parse(std::string_view source, std::string origin, int first_line = 1,
                        const Options& options = lm_eval_options());

  // Renders with `context`'s keys (a JSON object) as the template's variables. An undefined variable,
  // attribute or key is an error (StrictUndefined), except where Jinja tests for it (`is defined`,
  // `default`). Throws TemplateError naming origin, line and column.
  std::string render(const Value& context) const;

  // A template that is one expression, "{{ expr }}" (whitespace around it aside), gives the expression's
  // value with its type ("{{ [a, b] }}" a list, "{{ n + 1 }}" a number); any other template gives its rendered
  // text as a string. An undefined result is an error. For gemma-eval's doc_fields (evals/task_file.h),
  // where a row's fields are reshaped into a document's.
  Value evaluate(const Value& context) const;

  const std::string& origin() const;

  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  Template(const Template&);
  Template& operator=(const Template&);
  ~Template();

 private:
  struct Parsed;
  explicit Template(std::shared_ptr<const Parsed> parsed);
  std::shared_ptr<const Parsed> parsed_;
};

// Python's str() of a JSON value, as Jinja's {{ value }} prints it: strings as they are; true/false ->
// True/False; null -> None; integers as digits; floats as Python's repr (1.0, 0.1, 1e-05); lists and
// objects as Python's repr of list/dict (['a', 1], {'k': 'v'}), strings inside them quoted as repr does.
std::string python_str(const Value& value);

// Python's truthiness: false, null, 0, 0.0, "", [] and {} are false.
bool python_truthy(const Value& value);

}  // namespace gemma::jinja
