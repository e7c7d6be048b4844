#pragma once
// Shared loader plumbing for the vision task adapters (evals/tasks/vision_*.cpp): the published
// releases of these datasets are whole JSON files (a "data" / "questions" / "annotations" array, or a
// bare array), not JSONL, so a bad row is named by its array position ("<file>: data[12]
// (questionId 49153): field "question": missing") instead of a line. Header-only; add functions,
// do not change existing ones (several adapters share it).
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "evals/task.h"
#include "evals/tasks/rows.h"

namespace gemma::evals::tasks::vision {

// A JSON data file read whole, parsed, with the provenance record its split reports.
struct JsonFile {
  Doc root;
  DataFile info;  // rows: set by the caller
};

inline JsonFile read_json_file(const std::filesystem::path& path) {
  SourceFile source = read_source(path);
  JsonFile file;
  file.info = std::move(source.info);
  try {
    file.root = Doc::parse(source.bytes);
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: not valid JSON: {}", file.info.path, e.what());
  }
  return file;
}

// The first of `names` that exists under `dir` (a release renamed a file between versions, e.g.
// DocVQA's val_v1.0.json / val_v1.0_withQT.json); none: an error listing what was looked for.
inline std::filesystem::path first_existing(const std::filesystem::path& dir,
                                            std::initializer_list<const char*> names) {
  std::string tried;
  for (const char* name : names) {
    const std::filesystem::path candidate = dir / name;
    if (std::filesystem::is_regular_file(candidate)) return candidate;
    tried += (tried.empty() ? "" : ", ") + candidate.string();
  }
  fail("no data file found; looked for {}", tried);
}

// Where a row is: file, array position, and (once known) its id, for error messages.
struct JsonRowAt {
  JsonRowAt(std::string file_, std::string array_) : file(std::move(file_)), array(std::move(array_)) {}
  std::string file;
  std::string array;  // "data", "questions", "annotations", "images", or "" for a top-level array
  size_t index = 0;
  std::string id;  // e.g. "questionId 49153"; empty until read
};

// A row position for error messages, placed at `index` (and `id`, once read).
inline JsonRowAt row_at(const std::string& file, std::string array, size_t index, std::string id = "") {
  JsonRowAt at{file, std::move(array)};
  at.index = index;
  at.id = std::move(id);
  return at;
}

inline std::string describe(const JsonRowAt& at) {
  std::string where = fmt::format("{}: {}[{}]", at.file, at.array, at.index);
  if (!at.id.empty()) where += " (" + at.id + ")";
  return where;
}

[[noreturn]] inline void fail_row(const JsonRowAt& at, std::string_view field, std::string_view problem) {
  fail("{}: field \"{}\": {}", describe(at), field, problem);
}

// The array `key` of the file's top-level object (`key` empty: the top level must be the array).
inline const Doc& json_array(const JsonFile& file, const char* key) {
  const Doc* value = &file.root;
  if (*key != '\0') {
    if (!file.root.is_object())
      fail("{}: expected a JSON object with \"{}\", got {}", file.info.path, key, file.root.type_name());
    const auto it = file.root.find(key);
    if (it == file.root.end()) fail("{}: no \"{}\" array at the top level", file.info.path, key);
    value = &*it;
  }
  if (!value->is_array())
    fail("{}: \"{}\" must be a JSON array, got {}", file.info.path, *key ? key : "the top level", value->type_name());
  return *value;
}

inline const Doc& row_value(const Doc& row, const char* field, const JsonRowAt& at) {
  if (!row.is_object()) fail("{}: expected a JSON object, got {}", describe(at), row.type_name());
  const auto it = row.find(field);
  if (it == row.end()) fail_row(at, field, "missing");
  return *it;
}

inline const std::string& row_string(const Doc& row, const char* field, const JsonRowAt& at) {
  const Doc& value = row_value(row, field, at);
  if (!value.is_string()) fail_row(at, field, fmt::format("expected a string, got {}", value.type_name()));
  return value.get_ref<const std::string&>();
}

// An id stored as a JSON integer (or a digit string); returned as its decimal text.
inline std::string row_id(const Doc& row, const char* field, const JsonRowAt& at) {
  const Doc& value = row_value(row, field, at);
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return text;
  }
  fail_row(at, field, fmt::format("expected an integer id, got {}", value.dump()));
}

// A non-empty array of strings.
inline std::vector<std::string> row_strings(const Doc& row, const char* field, const JsonRowAt& at) {
  const Doc& value = row_value(row, field, at);
  if (!value.is_array()) fail_row(at, field, fmt::format("expected an array of strings, got {}", value.type_name()));
  if (value.empty()) fail_row(at, field, "empty (at least one answer is needed)");
  std::vector<std::string> out;
  for (const Doc& item : value) {
    if (!item.is_string())
      fail_row(at, field, fmt::format("item {}: expected a string, got {}", out.size(), item.type_name()));
    out.push_back(item.get<std::string>());
  }
  return out;
}

// An image path as a dataset row names it, relative to the dataset folder: it must stay inside it
// (no absolute path, no ".." component), so a row cannot point the engine at arbitrary files.
inline std::string relative_image(std::string path, const char* field, const JsonRowAt& at) {
  const std::filesystem::path p(path);
  if (path.empty()) fail_row(at, field, "empty image file name");
  if (p.is_absolute()) fail_row(at, field, fmt::format("\"{}\": expected a path relative to the dataset folder", path));
  for (const auto& part : p)
    if (part == "..") fail_row(at, field, fmt::format("\"{}\": \"..\" leaves the dataset folder", path));
  return path;
}

// A split's docs and files as the evaluator wants them.
inline DocSplit make_split(std::string name, std::vector<Doc> docs, std::vector<DataFile> files) {
  DocSplit split;
  split.name = std::move(name);
  split.docs = std::move(docs);
  split.files = std::move(files);
  return split;
}

}  // namespace gemma::evals::tasks::vision

#include "evals/engine.h"
#include "evals/tasks/task_helpers.h"

namespace gemma::evals::tasks::vision {

// The skeleton of an lmms-eval image-question task (lmms-eval lmms_eval/models/simple/gemma3.py@75571cfe): zero-shot
// generation, one image before the text (Gemma 3 chat order), docs shaped {"question", "answers": [...], "image": path
// relative to data_dir/<folder>, ...}. The caller sets load_eval, doc_to_text, until, max_gen_toks
// and metrics.
inline TaskSpec single_image_task(std::string name, int version, std::string folder) {
  TaskSpec t = new_task(std::move(name), version, OutputType::GenerateUntil, 0);
  t.doc_to_images = [folder = std::move(folder)](const Doc& doc, const std::filesystem::path& data_dir) {
    return std::vector<std::string>{(data_dir / folder / doc.at("image").get<std::string>()).string()};
  };
  t.doc_to_references = [](const Doc& doc) { return doc.at("answers").get<std::vector<std::string>>(); };
  return t;
}

// The text lmms-eval's doc_to_text returns, with the image marker in front (Gemma 3 / lmms-eval's
// gemma3 model put every image before the text of the user turn).
inline std::string image_first(const std::string& text) { return std::string(kImageMarker) + text; }

}  // namespace gemma::evals::tasks::vision

// ---- Added for the choice-style adapters (evals/tasks/vision_choice*.cpp) ----

#include "evals/engine.h"

namespace gemma::evals::tasks::vision {

// One kImageMarker per image, all of them before the text: lmms-eval's Gemma 3 wrapper puts a doc's
// images first in the user turn, then its text (lmms-eval lmms_eval/models/simple/gemma3.py@75571cfe); the engine
// expands each marker.
inline std::string image_markers(size_t count) {
  std::string markers;
  for (size_t i = 0; i < count; ++i) markers += kImageMarker;
  return markers;
}

// The option letter of position i: "A", "B", ... (chr(ord("A") + i)).
inline std::string option_letter(size_t index) { return std::string(1, static_cast<char>('A' + index)); }

// "A. first\nB. second\n..." (lmms-eval's mcq option list: ai2d, mmmu's parse_options).
inline std::string lettered_options(const std::vector<std::string>& options) {
  std::string text;
  for (size_t i = 0; i < options.size(); ++i) text += (i ? "\n" : "") + option_letter(i) + ". " + options[i];
  return text;
}

// A JSONL row's image field: a file name relative to the dataset folder, with relative_image's
// rules (no absolute path, no ".."); errors as "<file>:<line>: field "<name>": ...".
inline std::string jsonl_image(const Doc& row, const char* field, const RowSource& at) {
  const std::string& path = string_field(row, field, at);
  const std::filesystem::path p(path);
  if (path.empty()) fail_field(at, field, "empty image file name");
  if (p.is_absolute())
    fail_field(at, field, fmt::format("\"{}\": expected a path relative to the dataset folder", path));
  for (const auto& part : p)
    if (part == "..") fail_field(at, field, fmt::format("\"{}\": \"..\" leaves the dataset folder", path));
  return path;
}

// A doc's "images" array (relative paths) resolved under data_dir/<folder>, in order.
inline std::vector<std::string> images_under(const Doc& doc, const std::filesystem::path& folder) {
  std::vector<std::string> paths;
  for (const Doc& image : doc.at("images")) paths.push_back((folder / image.get<std::string>()).string());
  return paths;
}

}  // namespace gemma::evals::tasks::vision
