#pragma once
// Shared loader plumbing for task adapters: read a data file with its provenance (path, sha256,
// rows), walk JSONL rows, and pull typed fields out of a row so that a missing or ill-typed field
// fails as "<file>:<line>: field "<name>": <problem>" instead of a JSON library exception.
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "evals/task.h"

namespace gemma::evals::tasks {

// Where a row came from, for error messages.
struct RowSource {
  std::string file;
  size_t line = 0;
};

[[noreturn]] void fail_field(const RowSource& at, std::string_view field, std::string_view problem);

// Typed access to a JSON row's field; throws via fail_field when it is missing or ill-typed.
const std::string& string_field(const Doc& row, const char* field, const RowSource& at);
const Doc& object_field(const Doc& row, const char* field, const RowSource& at);
std::vector<std::string> string_list_field(const Doc& row, const char* field, const RowSource& at);

// A row label that may be stored as a JSON integer or as a digit string ("2"); returns the integer.
long long integer_like_field(const Doc& row, const char* field, const RowSource& at);

// Index of `value` in `options`, or fail_field naming `field` and listing the options.
size_t index_of(const std::vector<std::string>& options, const std::string& value, const char* field,
                const RowSource& at);

// A data file read whole plus the provenance record its split reports (rows filled by the caller).
struct SourceFile {
  std::string bytes;
  DataFile info;
};
SourceFile read_source(const std::filesystem::path& path);

// Every JSONL row of `path`, in file order, through `convert` (which validates and reshapes it).
using RowConverter = std::function<Doc(const Doc& row, const RowSource& at)>;
DocSplit jsonl_split(const std::string& split_name, const std::filesystem::path& path, const RowConverter& convert);

// A JSONL file plus its parallel ".lst" label file (PIQA, SocialIQA): label line i belongs to row i.
// The counts must match; `convert` gets the row, its label text (whitespace-trimmed) and both
// locations.
using LabeledRowConverter =
    std::function<Doc(const Doc& row, const std::string& label, const RowSource& row_at, const RowSource& label_at)>;
DocSplit labeled_jsonl_split(const std::string& split_name, const std::filesystem::path& rows_path,
                             const std::filesystem::path& labels_path, const LabeledRowConverter& convert);

// For multiple-choice tasks whose shot answer is the gold choice's text (lm-eval: an integer
// doc_to_target indexes doc_to_choice): sets doc_to_target from doc_to_choice and doc_to_gold.
void target_is_gold_choice(TaskSpec& task);

}  // namespace gemma::evals::tasks
