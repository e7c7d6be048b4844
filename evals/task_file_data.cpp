#include "evals/task_file_data.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "datasets/csv.h"
#include "datasets/jsonl.h"

namespace gemma::evals {
namespace fs = std::filesystem;
namespace {

constexpr const char* kHubExtensions[] = {".jsonl", ".json", ".csv"};

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A CSV cell as pandas' read_csv (which HF datasets' csv builder uses) types a column: integers when
// every non-empty cell of the column is one, else floats when every one parses as a float, else
// strings; an empty cell is NaN (null here).
enum class ColumnType { Integer, Float, String };

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

std::vector<Doc> read_csv_docs(const fs::path& path) {
  const std::vector<datasets::CsvRecord> records = datasets::read_csv(path);
  if (records.empty()) fail("{}: empty CSV file (a header row naming the columns is needed)", path.string());
  const std::vector<std::string>& header = records.front().fields;
  std::vector<ColumnType> types(header.size(), ColumnType::Integer);
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& fields = records[r].fields;
    if (fields.size() != header.size())
      fail("{}:{}: {} fields, but the header names {} columns", path.string(), records[r].line, fields.size(),
           header.size());
    for (size_t c = 0; c < fields.size(); ++c) {
      if (fields[c].empty()) continue;
      if (types[c] == ColumnType::Integer && !is_integer_cell(fields[c])) types[c] = ColumnType::Float;
      if (types[c] == ColumnType::Float && !is_float_cell(fields[c])) types[c] = ColumnType::String;
    }
  }
  std::vector<Doc> docs;
  for (size_t r = 1; r < records.size(); ++r) {
    Doc doc = Doc::object();
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string& cell = records[r].fields[c];
      if (cell.empty() && types[c] != ColumnType::String)
        doc[header[c]] = nullptr;
      else if (types[c] == ColumnType::Integer)
        doc[header[c]] = std::stoll(cell);
      else if (types[c] == ColumnType::Float)
        doc[header[c]] = std::strtod(cell.c_str(), nullptr);
      else
        doc[header[c]] = cell;
    }
    docs.push_back(std::move(doc));
  }
  return docs;
}

// HF datasets' json builder reads JSON Lines, or a file holding one JSON array of rows.
std::vector<Doc> read_json_docs(const fs::path& path) {
  const std::string bytes = read_file(path);
  const size_t first = bytes.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  std::vector<Doc> docs;
  if (first != std::string::npos && bytes[first] == '[') {
    Doc array;
    try {
      array = Doc::parse(bytes.begin() + static_cast<std::ptrdiff_t>(first), bytes.end());
    } catch (const nlohmann::json::exception& e) {
      fail("{}: invalid JSON: {}", path.string(), e.what());
    }
    for (size_t i = 0; i < array.size(); ++i) {
      if (!array[i].is_object()) fail("{}: row {} is not a JSON object", path.string(), i);
      docs.push_back(std::move(array[i]));
    }
    return docs;
  }
  for (datasets::JsonlRecord& record : datasets::parse_jsonl(bytes, path.string())) {
    if (!record.value.is_object()) fail("{}:{}: the row is not a JSON object", path.string(), record.line);
    docs.push_back(std::move(record.value));
  }
  return docs;
}

}  // namespace

std::vector<fs::path> DataSource::candidates(const std::string& split, const fs::path& data_dir) const {
  if (is_local()) {
    const auto it = data_files.find(split);
    if (it == data_files.end()) return {};
    std::vector<fs::path> paths;
    const std::string prefix = kDataDirPrefix;
    for (const fs::path& path : it->second) {
      const std::string text = path.string();
      paths.push_back(text.rfind(prefix, 0) == 0 ? data_dir / text.substr(prefix.size()) : path);
    }
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
  for (const fs::path& path : resolve(split, data_dir)) {
    const std::string name = path.string();
    std::vector<Doc> docs;
    if (ends_with(name, ".csv"))
      docs = read_csv_docs(path);
    else if (ends_with(name, ".json") || ends_with(name, ".jsonl"))
      docs = read_json_docs(path);
    else
      fail("task {} ({}): {}: data files must be .jsonl, .json or .csv", task, task_file, name);
    out.files.push_back({name, sha256_hex(read_file(path)), docs.size()});
    for (Doc& doc : docs) out.docs.push_back(std::move(doc));
  }
  return out;
}

}  // namespace gemma::evals
