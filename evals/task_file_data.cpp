#include "evals/task_file_data.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "datasets/csv.h"
#include "datasets/jsonl.h"
#include "datasets/label_file.h"

namespace gemma::evals {
namespace fs = std::filesystem;
namespace {

constexpr const char* kHubExtensions[] = {".jsonl", ".json", ".csv"};

// A data row and the line it starts on (0 for a row of a JSON array file).
struct Row {
  Doc doc;
  size_t line = 0;
};

std::string row_location(const fs::path& path, const Row& row, size_t index) {
  return row.line > 0 ? fmt::format("{}:{}", path.string(), row.line) : fmt::format("{}: row {}", path.string(), index);
}

// A `{data_dir}/` path (DataSource::kDataDirPrefix) under --data-dir; any other as it is.
fs::path under_data_dir(const fs::path& path, const fs::path& data_dir) {
  const std::string text = path.string();
  const std::string prefix = DataSource::kDataDirPrefix;
  return text.rfind(prefix, 0) == 0 ? data_dir / text.substr(prefix.size()) : path;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A CSV cell as pandas' read_csv (which HF datasets' csv builder uses) types a column: integers when
// every non-missing cell of the column is one (floats when a cell is missing: pandas has no missing
// integer), else booleans when every one is a spelling of True or False, else floats when every one
// parses as a float, else strings; a missing cell is NaN (null here).
enum class ColumnType { Integer, Bool, Float, String };

bool is_integer_cell(const std::string& cell) {
  size_t i = (cell[0] == '-' || cell[0] == '+') ? 1 : 0;
  if (i == cell.size()) return false;
  for (; i < cell.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(cell[i]))) return false;
  return cell.size() < 19;
}

bool is_float_cell(const std::string& cell) {
  char* end = nullptr;
  std::strtod(cell.c_str(), &end);
  return end == cell.c_str() + cell.size() && !std::isspace(static_cast<unsigned char>(cell[0]));
}

// pandas' _libs/parsers.pyx _true_values / _false_values.
std::optional<bool> bool_cell(const std::string& cell) {
  if (cell == "True" || cell == "TRUE" || cell == "true") return true;
  if (cell == "False" || cell == "FALSE" || cell == "false") return false;
  return std::nullopt;
}

// pandas.read_csv's missing values (pandas/_libs/parsers.pyx STR_NA_VALUES, pandas 2).
bool is_missing(const std::string& cell, const DataSource::CsvOptions& options) {
  static const std::set<std::string> kDefaultMissing = {
      "",     "#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
      "<NA>", "N/A",  "NA",       "NULL", "NaN",     "None",     "n/a",  "nan",  "null"};
  return options.na_filter && options.keep_default_na && kDefaultMissing.count(cell) > 0;
}

ColumnType declared_type(const std::string& feature) {
  if (feature == "string") return ColumnType::String;
  if (feature == "int64") return ColumnType::Integer;
  return ColumnType::Float;  // "float64"; read_data accepts nothing else
}

std::vector<Row> read_csv_rows(const fs::path& path, const DataSource::CsvOptions& options) {
  const std::vector<datasets::CsvRecord> records = datasets::read_csv(path);
  const bool has_header = options.column_names.empty();
  if (records.empty() && has_header)
    fail("{}: empty CSV file (a header row naming the columns is needed)", path.string());
  const std::vector<std::string> header = has_header ? records.front().fields : options.column_names;
  const size_t first_row = has_header ? 1 : 0;
  std::vector<ColumnType> types(header.size(), ColumnType::Integer);
  std::vector<bool> has_missing(header.size(), false);
  for (size_t r = first_row; r < records.size(); ++r) {
    const auto& fields = records[r].fields;
    if (fields.size() != header.size())
      fail("{}:{}: {} fields, but {} {} columns", path.string(), records[r].line, fields.size(),
           has_header ? "the header names" : "dataset_kwargs.column_names names", header.size());
    for (size_t c = 0; c < fields.size(); ++c) {
      if (is_missing(fields[c], options)) {
        has_missing[c] = true;
        continue;
      }
      if (types[c] == ColumnType::Integer && !is_integer_cell(fields[c])) types[c] = ColumnType::Bool;
      if (types[c] == ColumnType::Bool && !bool_cell(fields[c])) types[c] = ColumnType::Float;
      if (types[c] == ColumnType::Float && !is_float_cell(fields[c])) types[c] = ColumnType::String;
    }
  }
  for (size_t c = 0; c < header.size(); ++c) {
    if (types[c] == ColumnType::Integer && has_missing[c] && first_row < records.size()) types[c] = ColumnType::Float;
    if (const auto it = options.features.find(header[c]); it != options.features.end())
      types[c] = declared_type(it->second);
  }
  std::vector<Row> rows;
  for (size_t r = first_row; r < records.size(); ++r) {
    Doc doc = Doc::object();
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string& cell = records[r].fields[c];
      if (is_missing(cell, options)) {
        doc[header[c]] = nullptr;
      } else if (types[c] == ColumnType::Integer) {
        if (!is_integer_cell(cell))
          fail("{}:{}: column {}: \"{}\" is not an integer (dataset_kwargs.features says int64)", path.string(),
               records[r].line, header[c], cell);
        doc[header[c]] = std::stoll(cell);
      } else if (types[c] == ColumnType::Bool) {
        doc[header[c]] = *bool_cell(cell);
      } else if (types[c] == ColumnType::Float) {
        if (!is_float_cell(cell))
          fail("{}:{}: column {}: \"{}\" is not a number (dataset_kwargs.features says float64)", path.string(),
               records[r].line, header[c], cell);
        doc[header[c]] = std::strtod(cell.c_str(), nullptr);
      } else {
        doc[header[c]] = cell;
      }
    }
    rows.push_back({std::move(doc), records[r].line});
  }
  return rows;
}

// HF datasets' json builder reads JSON Lines, or a file holding one JSON array of rows.
std::vector<Row> read_json_rows(const fs::path& path) {
  const std::string bytes = read_file(path);
  const size_t first = bytes.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  std::vector<Row> docs;
  if (first != std::string::npos && bytes[first] == '[') {
    Doc array;
    try {
      array = Doc::parse(bytes.begin() + static_cast<std::ptrdiff_t>(first), bytes.end());
    } catch (const nlohmann::json::exception& e) {
      fail("{}: invalid JSON: {}", path.string(), e.what());
    }
    for (size_t i = 0; i < array.size(); ++i) {
      if (!array[i].is_object()) fail("{}: row {} is not a JSON object", path.string(), i);
      docs.push_back({std::move(array[i]), 0});
    }
    return docs;
  }
  for (datasets::JsonlRecord& record : datasets::parse_jsonl(bytes, path.string())) {
    if (!record.value.is_object()) fail("{}:{}: the row is not a JSON object", path.string(), record.line);
    docs.push_back({std::move(record.value), record.line});
  }
  return docs;
}

}  // namespace

std::vector<fs::path> DataSource::candidates(const std::string& split, const fs::path& data_dir) const {
  if (is_local()) {
    const auto it = data_files.find(split);
    if (it == data_files.end()) return {};
    std::vector<fs::path> paths;
    for (const fs::path& path : it->second) paths.push_back(under_data_dir(path, data_dir));
    return paths;
  }
  fs::path folder = data_dir / dataset_path;
  if (!dataset_name.empty()) folder /= dataset_name;
  std::vector<fs::path> paths;
  for (const char* extension : kHubExtensions) paths.push_back(folder / (split + extension));
  return paths;
}

std::vector<fs::path> DataSource::resolve(const std::string& split, const fs::path& data_dir) const {
  const std::vector<fs::path> tried = candidates(split, data_dir);
  if (is_local()) {
    if (tried.empty()) {
      std::vector<std::string> splits;
      for (const auto& [name, files] : data_files) splits.push_back(name);
      fail("task {} ({}): dataset_kwargs.data_files has no \"{}\" split (it has: {}); add `{}: FILE` under data_files",
           task, task_file, split, fmt::join(splits, ", "), split);
    }
    const auto& written = data_files.at(split);
    for (size_t i = 0; i < tried.size(); ++i)
      if (!fs::is_regular_file(tried[i])) {
        if (written[i].string().rfind(kDataDirPrefix, 0) == 0)
          fail(
              "task {} ({}): the {} split's data file {} (written {}) does not exist; pass --data-dir with the folder "
              "that holds {}",
              task, task_file, split, tried[i].string(), written[i].string(),
              written[i].string().substr(std::string(kDataDirPrefix).size()));
        fail(
            "task {} ({}): the {} split's data file {} does not exist (dataset_kwargs.data_files paths are relative to "
            "the task file that names them)",
            task, task_file, split, tried[i].string());
      }
    if (const auto labels = label_files.find(split); labels != label_files.end())
      for (const fs::path& written : labels->second)
        if (const fs::path path = under_data_dir(written, data_dir); !fs::is_regular_file(path))
          fail("task {} ({}): the {} split's label file {} (gemma_eval.label_files) does not exist{}", task, task_file,
               split, path.string(),
               path == written ? ""
                               : "; pass --data-dir with the folder that holds " +
                                     written.string().substr(std::string(kDataDirPrefix).size()));
    return tried;
  }
  for (const fs::path& path : tried)
    if (fs::is_regular_file(path)) return {path};
  std::vector<std::string> names;
  for (const fs::path& path : tried) names.push_back(path.string());
  const std::string config = dataset_name.empty() ? "" : fmt::format(", '{}'", dataset_name);
  fail(
      "task {} ({}): no data for dataset {}{} split \"{}\"; tried {}. Export it, e.g. python3 -c \"import os, "
      "datasets; os.makedirs('{}', exist_ok=True); datasets.load_dataset('{}'{}, split='{}').to_json('{}')\" "
      "(to_json does not create the folder), or pass --data-dir with the folder that holds {}/{}",
      task, task_file, dataset_path, dataset_name.empty() ? "" : " (" + dataset_name + ")", split,
      fmt::join(names, ", "), tried.front().parent_path().string(), dataset_path, config, split, tried.front().string(),
      dataset_path, dataset_name.empty() ? split + ".jsonl" : dataset_name + "/" + split + ".jsonl");
}

DocSplit DataSource::load(const std::string& split, const fs::path& data_dir) const {
  DocSplit out;
  out.name = split;
  const std::vector<fs::path> paths = resolve(split, data_dir);
  const auto labels = label_files.find(split);
  if (!label_files.empty() && (labels == label_files.end() || labels->second.size() != paths.size()))
    fail("task {} ({}): gemma_eval.label_files needs one label file for each of the {} split's {} data file(s)", task,
         task_file, split, paths.size());
  for (size_t f = 0; f < paths.size(); ++f) {
    const fs::path& path = paths[f];
    const std::string name = path.string();
    std::vector<Row> rows;
    if (ends_with(name, ".csv"))
      rows = read_csv_rows(path, csv);
    else if (ends_with(name, ".json") || ends_with(name, ".jsonl"))
      rows = read_json_rows(path);
    else
      fail("task {} ({}): {}: data files must be .jsonl, .json or .csv", task, task_file, name);
    out.files.push_back({name, sha256_hex(read_file(path)), rows.size()});
    if (labels != label_files.end()) {
      const fs::path label_path = under_data_dir(labels->second[f], data_dir);
      if (!fs::is_regular_file(label_path))
        fail("task {} ({}): the {} split's label file {} does not exist", task, task_file, split, label_path.string());
      const std::vector<datasets::LabelLine> label_lines =
          datasets::parse_label_lines(read_file(label_path), label_path.string());
      if (label_lines.size() != rows.size())
        fail("task {} ({}): {} has {} labels but {} has {} rows (gemma_eval.label_files: line i is row i's label)",
             task, task_file, label_path.string(), label_lines.size(), name, rows.size());
      for (size_t i = 0; i < rows.size(); ++i) rows[i].doc["label"] = label_lines[i].label;
      out.files.push_back({label_path.string(), sha256_hex(read_file(label_path)), rows.size()});
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      if (doc_fields.empty()) {
        out.docs.push_back(std::move(rows[i].doc));
        continue;
      }
      Doc context = rows[i].doc;
      if (!context.contains("task_config")) context["task_config"] = task_config;
      Doc doc = Doc::object();
      for (const auto& [field, templ] : doc_fields) {
        try {
          doc[field] = templ->evaluate(context);
        } catch (const Error& e) {
          fail("{}: task {}: gemma_eval.doc_fields.{}: {}", row_location(path, rows[i], i), task, field, e.what());
        }
      }
      out.docs.push_back(std::move(doc));
    }
  }
  return out;
}

}  // namespace gemma::evals
