#pragma once
// Where a task file's documents come from (evals/task_file.h): lm-eval's `dataset_path: json|csv` with
// dataset_kwargs.data_files, or a Hugging Face Hub id exported under --data-dir as
// <data-dir>/<org>/<name>/[<dataset_name>/]<split>.{jsonl,json,csv}. Rows in file order (doc_id = row
// index); JSON rows keep their nested values. Torch-free.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "evals/task.h"

namespace gemma::evals {

struct DataSource {
  std::string task;       // for messages
  std::string task_file;  // for messages
  std::string dataset_path;
  std::string dataset_name;
  // dataset_path json / csv: split -> files, already made absolute against the task file's folder, except
  // those that start with kDataDirPrefix (kept as written, resolved against --data-dir when read).
  std::map<std::string, std::vector<std::filesystem::path>> data_files;

  // gemma-eval's extension to data_files: "{data_dir}/arc/ARC-Easy-Test.jsonl" is a file under --data-dir,
  // so a task file can read a dataset in its original layout there. lm-eval (datasets.load_dataset) takes
  // the braces literally and fails with file-not-found rather than reading something else.
  static constexpr const char* kDataDirPrefix = "{data_dir}/";

  bool is_local() const { return dataset_path == "json" || dataset_path == "csv"; }

  // The paths a split may be read from: the data_files of the split, or the Hub id's candidates.
  std::vector<std::filesystem::path> candidates(const std::string& split, const std::filesystem::path& data_dir) const;
  // The files that hold the split; a gemma::Error naming the task, the paths tried and how to provide
  // the data when there are none.
  std::vector<std::filesystem::path> resolve(const std::string& split, const std::filesystem::path& data_dir) const;
  DocSplit load(const std::string& split, const std::filesystem::path& data_dir) const;
};

}  // namespace gemma::evals
