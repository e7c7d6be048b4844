// HumanEval 0-shot (lm-eval tasks/humaneval/{humaneval.yaml,utils.py}). Data:
// openai/human-eval, data_dir/humaneval/HumanEval.jsonl.gz (or an uncompressed HumanEval.jsonl)
// with {task_id, prompt, canonical_solution, test, entry_point}.
#include <filesystem>

#include "common/error.h"
#include "common/gzip.h"
#include "datasets/jsonl.h"
#include "evals/task_registry.h"
#include "evals/tasks/code.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

namespace fs = std::filesystem;

Doc humaneval_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  for (const char* field : {"task_id", "prompt", "canonical_solution", "test", "entry_point"})
    doc[field] = string_field(row, field, at);
  return doc;
}

DocSplit load_humaneval(const fs::path& dir) {
  const fs::path plain = dir / "humaneval" / "HumanEval.jsonl";
  if (fs::exists(plain)) return jsonl_split("test", plain, humaneval_doc);
  SourceFile file = read_source(dir / "humaneval" / "HumanEval.jsonl.gz");
  DocSplit split;
  split.name = "test";
  for (const auto& record : datasets::parse_jsonl(gunzip(file.bytes, file.info.path), file.info.path))
    split.docs.push_back(humaneval_doc(record.value, RowSource{file.info.path, record.line}));
  file.info.rows = split.docs.size();
  split.files.push_back(std::move(file.info));
  return split;
}

// lm-eval's doc_to_target "{{test}}\ncheck({{entry_point}})": the test program of HF code_eval.
std::string test_program(const Doc& doc) {
  return doc.at("test").get<std::string>() + "\ncheck(" + doc.at("entry_point").get<std::string>() + ")";
}

TaskSpec humaneval_task() {
  TaskSpec t = new_task("humaneval", 1, OutputType::GenerateUntil, 0);
  t.load_eval = load_humaneval;
  t.doc_to_text = [](const Doc& doc) { return doc.at("prompt").get<std::string>(); };
  t.doc_to_target = test_program;
  // References: [prompt, test program]. lm-eval's create_test filter (utils.build_predictions)
  // prepends the prompt to the completion; a filter here sees only the response, so the scorer does
  // it, and the logged prediction is the bare completion (deviation, same score).
  t.doc_to_references = [](const Doc& doc) {
    return std::vector<std::string>{doc.at("prompt").get<std::string>(), test_program(doc)};
  };
  t.until = {"\nclass", "\ndef", "\n#", "\nif", "\nprint"};
  t.max_gen_toks = 1024;
  t.executes_code = true;
  t.filters = {{"create_test", {{FilterStep::Kind::TakeFirst, "", 0, "[invalid]"}}}};
  // code_eval: check_program = candidate + "\n" + test_case, candidate = prompt + completion.
  t.metrics = {pass_at_1_metric("pass@1", [](const std::string& completion, const std::vector<std::string>& refs) {
    if (refs.size() != 2) fail("humaneval: expected references [prompt, test program], got {} strings", refs.size());
    return refs[0] + completion + "\n" + refs[1];
  })};
  return t;
}

}  // namespace

const TaskRegistration kHumanevalRegistration{2300, &humaneval_task};

}  // namespace gemma::evals::tasks
