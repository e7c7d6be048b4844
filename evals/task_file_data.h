#pragma once
// Where a task file's documents come from (evals/task_file.h): lm-eval's `dataset_path: json|csv` with
// dataset_kwargs.data_files, or a Hugging Face Hub id exported under --data-dir as
// <data-dir>/<org>/<name>/[<dataset_name>/]<split>.{jsonl,json,csv}. Rows in file order (doc_id = row
// index); JSON rows keep their nested values. Torch-free.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/jinja.h"
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

  // dataset_kwargs that HF datasets' csv builder passes to pandas.read_csv, for CSV files.
  struct CsvOptions {
    std::vector<std::string> column_names;  // set: the file has no header row; these name its columns
    bool na_filter = true;                  // cells that read as missing become None
    bool keep_default_na = true;            // pandas' own list of missing-value spellings ("", "NA", "None", ...)
    // dataset_kwargs.features: column -> "string", "int64" or "float64" (HF Value dtypes), read as that type
    // instead of pandas' inference (which turns a column of "1.50" into the float 1.5).
    std::map<std::string, std::string> features;
  };
  CsvOptions csv;

  // gemma-eval's extensions, under the task file's `gemma_eval:` key (docs/task_files.md), for data whose
  // layout differs from the Hub dataset's (lm-eval would reshape it in a Python process_docs):
  // label_files: split -> one text file per data file, line i the `label` field of row i (PIQA's .lst files).
  std::map<std::string, std::vector<std::filesystem::path>> label_files;
  // doc_fields: each document is made of these fields, in this order, each a template over the data row
  // (jinja::Template::evaluate: "{{ expr }}" keeps the value's type). The row's fields are its variables,
  // and `task_config` the task's config (where a row has no field of that name).
  std::vector<std::pair<std::string, std::shared_ptr<const jinja::Template>>> doc_fields;
  Doc task_config;

  bool is_local() const { return dataset_path == "json" || dataset_path == "csv"; }

  // The paths a split may be read from: the data_files of the split, or the Hub id's candidates.
  std::vector<std::filesystem::path> candidates(const std::string& split, const std::filesystem::path& data_dir) const;
  // The files that hold the split; a gemma::Error naming the task, the paths tried and how to provide
  // the data when there are none.
  std::vector<std::filesystem::path> resolve(const std::string& split, const std::filesystem::path& data_dir) const;
  DocSplit load(const std::string& split, const std::filesystem::path& data_dir) const;
};

}  // namespace gemma::evals
