#include "evals/tasks/rows.h"

#include <fmt/ranges.h>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "datasets/jsonl.h"
#include "datasets/label_file.h"

namespace gemma::evals::tasks {

void fail_field(const RowSource& at, std::string_view field, std::string_view problem) {
  fail("{}:{}: field \"{}\": {}", at.file, at.line, field, problem);
}

namespace {

const Doc& need(const Doc& row, const char* field, const RowSource& at) {
  if (!row.is_object()) fail("{}:{}: expected a JSON object, got {}", at.file, at.line, row.type_name());
  const auto it = row.find(field);
  if (it == row.end()) fail_field(at, field, "missing");
  return *it;
}

}  // namespace

const std::string& string_field(const Doc& row, const char* field, const RowSource& at) {
  const Doc& value = need(row, field, at);
  if (!value.is_string()) fail_field(at, field, fmt::format("expected a string, got {}", value.type_name()));
  return value.get_ref<const std::string&>();
}

const Doc& object_field(const Doc& row, const char* field, const RowSource& at) {
  const Doc& value = need(row, field, at);
  if (!value.is_object()) fail_field(at, field, fmt::format("expected an object, got {}", value.type_name()));
  return value;
}

std::vector<std::string> string_list_field(const Doc& row, const char* field, const RowSource& at) {
  const Doc& value = need(row, field, at);
  if (!value.is_array()) fail_field(at, field, fmt::format("expected an array, got {}", value.type_name()));
  std::vector<std::string> out;
  for (const Doc& item : value) {
    if (!item.is_string())
      fail_field(at, field, fmt::format("item {}: expected a string, got {}", out.size(), item.type_name()));
    out.push_back(item.get<std::string>());
  }
  return out;
}

long long integer_like_field(const Doc& row, const char* field, const RowSource& at) {
  const Doc& value = need(row, field, at);
  if (value.is_number_integer()) return value.get<long long>();
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (!text.empty() && text.size() < 18 && text.find_first_not_of("0123456789") == std::string::npos)
      return std::stoll(text);
    fail_field(at, field, fmt::format("expected an integer, got \"{}\"", text));
  }
  fail_field(at, field, fmt::format("expected an integer, got {}", value.type_name()));
}

size_t index_of(const std::vector<std::string>& options, const std::string& value, const char* field,
                const RowSource& at) {
  for (size_t i = 0; i < options.size(); ++i)
    if (options[i] == value) return i;
  fail_field(at, field, fmt::format("\"{}\" is not one of [{}]", value, fmt::join(options, ", ")));
}

SourceFile read_source(const std::filesystem::path& path) {
  SourceFile file;
  file.bytes = read_file(path);
  file.info.path = path.string();
  file.info.sha256 = sha256_hex(file.bytes);
  return file;
}

DocSplit jsonl_split(const std::string& split_name, const std::filesystem::path& path, const RowConverter& convert) {
  SourceFile file = read_source(path);
  DocSplit split;
  split.name = split_name;
  for (const auto& record : datasets::parse_jsonl(file.bytes, file.info.path))
    split.docs.push_back(convert(record.value, RowSource{file.info.path, record.line}));
  file.info.rows = split.docs.size();
  split.files.push_back(std::move(file.info));
  return split;
}

DocSplit labeled_jsonl_split(const std::string& split_name, const std::filesystem::path& rows_path,
                             const std::filesystem::path& labels_path, const LabeledRowConverter& convert) {
  SourceFile rows_file = read_source(rows_path);
  SourceFile labels_file = read_source(labels_path);
  const auto records = datasets::parse_jsonl(rows_file.bytes, rows_file.info.path);
  const auto labels = datasets::parse_label_lines(labels_file.bytes, labels_file.info.path);
  if (records.size() != labels.size())
    fail("{} has {} labels but {} has {} rows; line i of the label file must label row i", labels_file.info.path,
         labels.size(), rows_file.info.path, records.size());

  DocSplit split;
  split.name = split_name;
  for (size_t i = 0; i < records.size(); ++i)
    split.docs.push_back(convert(records[i].value, labels[i].label, RowSource{rows_file.info.path, records[i].line},
                                 RowSource{labels_file.info.path, labels[i].line}));
  rows_file.info.rows = labels_file.info.rows = split.docs.size();
  split.files.push_back(std::move(rows_file.info));
  split.files.push_back(std::move(labels_file.info));
  return split;
}

void target_is_gold_choice(TaskSpec& task) {
  task.doc_to_target = [choices = task.doc_to_choice, gold = task.doc_to_gold](const Doc& doc) {
    return choices(doc).at(static_cast<size_t>(gold(doc)));
  };
}

}  // namespace gemma::evals::tasks
