// MBPP 3-shot (lm-eval tasks/mbpp/{mbpp.yaml,utils.py}). Data: google-research mbpp,
// data_dir/mbpp/mbpp.jsonl with all 974 tasks {text, code, task_id, test_setup_code, test_list,
// challenge_test_list}; the test split is task_ids 11-510 (HF "full" test, 500 docs) and the shots are
// utils.list_fewshot_samples' fixed task_ids 2, 3, 4 (from the prompt split, ids 1-10).
#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "datasets/jsonl.h"
#include "evals/task_registry.h"
#include "evals/tasks/code.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks {
namespace {

namespace fs = std::filesystem;

Doc mbpp_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["task_id"] = integer_like_field(row, "task_id", at);
  doc["text"] = string_field(row, "text", at);
  doc["code"] = string_field(row, "code", at);
  doc["test_setup_code"] = string_field(row, "test_setup_code", at);
  const auto tests = string_list_field(row, "test_list", at);
  if (tests.size() < 3) fail_field(at, "test_list", "expected 3 tests, got " + std::to_string(tests.size()));
  doc["test_list"] = tests;
  return doc;
}

// The rows of mbpp.jsonl whose task_id `keep` accepts, in file order (every row is validated).
DocSplit mbpp_split(const fs::path& dir, const std::string& name, const std::function<bool(long long)>& keep) {
  SourceFile file = read_source(dir / "mbpp" / "mbpp.jsonl");
  DocSplit split;
  split.name = name;
  for (const auto& record : datasets::parse_jsonl(file.bytes, file.info.path)) {
    Doc doc = mbpp_doc(record.value, RowSource{file.info.path, record.line});
    if (keep(doc.at("task_id").get<long long>())) split.docs.push_back(std::move(doc));
  }
  file.info.rows = split.docs.size();
  split.files.push_back(std::move(file.info));
  return split;
}

DocSplit load_shots(const fs::path& dir) {
  DocSplit split = mbpp_split(dir, "fewshot_config.samples", [](long long id) { return id >= 2 && id <= 4; });
  if (split.docs.size() != 3)
    fail("{}: expected the few-shot tasks 2, 3, 4, found {}", split.files[0].path, split.docs.size());
  std::sort(split.docs.begin(), split.docs.end(), [](const Doc& a, const Doc& b) {
    return a.at("task_id").get<long long>() < b.at("task_id").get<long long>();
  });
  return split;
}

std::string test_line(const Doc& doc, size_t i) { return doc.at("test_list").at(i).get<std::string>(); }

// lm-eval's eval-doc target "{{test_list[0]}}\n{{test_list[1]}}\n{{test_list[2]}}". Deviation: a
// non-empty test_setup_code (task 367 only in the test split) goes first, as the MBPP paper runs
// it; lm-eval drops it, so that task's tests fail there whatever the model writes.
std::string test_program(const Doc& doc) {
  const std::string setup = doc.at("test_setup_code").get<std::string>();
  return (setup.empty() ? "" : setup + "\n") + test_line(doc, 0) + "\n" + test_line(doc, 1) + "\n" + test_line(doc, 2);
}

TaskSpec mbpp_task() {
  TaskSpec t = new_task("mbpp", 1, OutputType::GenerateUntil, 3, ShotSampler::FirstN);
  t.load_eval = [](const fs::path& dir) {
    return mbpp_split(dir, "test", [](long long id) { return id >= 11 && id <= 510; });
  };
  t.load_fewshot = load_shots;
  t.sampler_gets_eval_doc = false;
  t.doc_to_text = [](const Doc& doc) {
    return "You are an expert Python programmer, and here is your task: " + doc.at("text").get<std::string>() +
           " Your code should pass these tests:\n\n" + test_line(doc, 0) + "\n" + test_line(doc, 1) + "\n" +
           test_line(doc, 2) + "\n[BEGIN]\n";
  };
  t.target_delimiter = "";
  t.doc_to_target = [](const Doc& doc) { return doc.at("code").get<std::string>() + "\n[DONE]"; };  // shots
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{test_program(doc)}; };
  t.until = {"[DONE]"};
  t.max_gen_toks = 256;
  t.executes_code = true;
  // utils.pass_at_1: code_eval with check_program = prediction + "\n" + reference.
  t.metrics = {pass_at_1_metric("pass_at_1", [](const std::string& prediction, const std::vector<std::string>& refs) {
    if (refs.size() != 1) fail("mbpp: expected one reference (the test program), got {} strings", refs.size());
    return prediction + "\n" + refs[0];
  })};
  return t;
}

}  // namespace

const TaskRegistration kMbppRegistration{2400, &mbpp_task};

}  // namespace gemma::evals::tasks
