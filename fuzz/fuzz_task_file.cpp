// libFuzzer target: the lm-eval task-file loader (evals/task_file.h). The input is written as task.yaml
// into a scratch folder that also holds the include targets of tests/data/task_files/mine (so `include:`
// chains resolve), and loaded with load_task_file; each task it defines then renders its prompt parts
// (doc_to_text, doc_to_target, doc_to_choice, the description) for a fixed row. gemma::Error is the
// expected outcome for bad input (it names file, line and key); any other exception, crash, sanitizer
// report or hang is a finding. No data file is read: splits load only when a task runs.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "evals/task_file.h"

namespace fs = std::filesystem;

namespace {

// The include targets of the seed corpus: tests/data/task_files/mine/_colors_base_yaml and
// _colors_template_yaml as they are, written once.
const char* const kColorsBase = R"(dataset_path: json
dataset_kwargs:
  data_files:
    test: ../data/colors_test.jsonl
test_split: test
doc_to_text: "overridden by the including file"
metadata:
  version: 2
)";
const char* const kColorsTemplate =
    R"(# Shared by several task files (lm-eval's _default_template_yaml pattern); itself includes the base.
include: _colors_base_yaml
output_type: multiple_choice
doc_to_text: "Q: {{question}}\nA:"
doc_to_target: "{{answer}}"
doc_to_choice: "{{options}}"
target_delimiter: " "
fewshot_delimiter: "\n\n"
)";

const fs::path& scratch() {
  static const fs::path dir = [] {
    char pattern[] = "/tmp/gemma-fuzz-task-file.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) std::abort();
    const fs::path made(pattern);
    std::ofstream(made / "_colors_base_yaml") << kColorsBase;
    std::ofstream(made / "_colors_template_yaml") << kColorsTemplate;
    return made;
  }();
  return dir;
}

const gemma::evals::Doc& row() {
  static const gemma::evals::Doc doc = gemma::evals::Doc::parse(R"json({
    "question": "What color is the sky?", "options": ["blue", "green"], "answer": 0, "label": 1,
    "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "A", "meta": {"tags": ["x", "y"]},
    "text": "Natalia sold 48 clips. #### 72", "n": null, "f": 2.5
  })json");
  return doc;
}

template <typename Call>
void quietly(const Call& call) {
  try {
    call();
  } catch (const gemma::Error&) {
  }
}

}  // namespace

// CLN (the number library under GiNaC, which the metric registry's math scorer links) keeps one small
// allocation from its static initialisers for the life of the process; LeakSanitizer reports it at exit.
// It is not this code's, and nothing a task file does changes it.
extern "C" const char* __lsan_default_suppressions() { return "leak:libcln.so\n"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path file = scratch() / "task.yaml";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) std::abort();
  }
  try {
    const gemma::evals::TaskFileSet set = gemma::evals::load_task_file(file);
    for (const gemma::evals::TaskSpec& task : set.tasks) {
      if (task.doc_to_text) quietly([&] { (void)task.doc_to_text(row()); });
      if (task.doc_to_target) quietly([&] { (void)task.doc_to_target(row()); });
      if (task.doc_to_choice) quietly([&] { (void)task.doc_to_choice(row()); });
      if (task.doc_to_description) quietly([&] { (void)task.doc_to_description(row()); });
    }
  } catch (const gemma::Error&) {
  }
  return 0;
}
