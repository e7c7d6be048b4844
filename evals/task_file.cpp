#include "evals/task_file.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "common/edit_distance.h"
#include "common/error.h"
#include "common/files.h"
#include "common/jinja.h"
#include "common/utf8.h"
#include "evals/builtin_task_files.h"
#include "evals/perplexity.h"
#include "evals/registry_metric.h"
#include "evals/task_file_data.h"
#include "evals/task_registry.h"

namespace gemma::evals {
namespace fs = std::filesystem;
using Value = nlohmann::ordered_json;

namespace {

// ---------------------------------------------------------------- YAML

// A config key's value and the file it came from (includes merge keys from several files).
struct Entry {
  YAML::Node node;
  std::string file;
};
using Config = std::map<std::string, Entry>;

std::string where(const std::string& file, const YAML::Node& node) {
  return fmt::format("{}:{}", file, node.Mark().line + 1);
}
std::string where(const Entry& entry) { return where(entry.file, entry.node); }

[[noreturn]] void fail_at(const Entry& entry, const std::string& key, const std::string& problem) {
  fail("{}: {}: {}", where(entry), key, problem);
}

// PyYAML (yaml.full_load, which lm-eval uses) tags: a tag that names Python code or an object.
void refuse_custom_tags(const YAML::Node& node, const std::string& file, const std::string& key) {
  const std::string& tag = node.Tag();
  if (!tag.empty() && tag != "?" && tag != "!" && tag.rfind("tag:yaml.org,2002:", 0) != 0) {
    if (tag == "!function")
      fail(
          "{}: {}: `!function` runs Python code, which gemma-eval task files cannot do; preprocess the data into "
          "a JSONL file with the fields the templates need (dataset_path: json, dataset_kwargs.data_files) and "
          "write the logic as a Jinja template",
          where(file, node), key);
    fail("{}: {}: the YAML tag {} needs Python; write the value as plain YAML", where(file, node), key, tag);
  }
  if (node.IsSequence())
    for (const auto& item : node) refuse_custom_tags(item, file, key);
  if (node.IsMap())
    for (const auto& item : node) refuse_custom_tags(item.second, file, key + "." + item.first.Scalar());
}

bool all_of_chars(const std::string& s, size_t from, int (*pred)(int)) {
  if (from >= s.size()) return false;
  for (size_t i = from; i < s.size(); ++i)
    if (!pred(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

// A plain scalar typed as PyYAML's resolver types it (YAML 1.1): null, bool, int, float, else string.
Value plain_scalar(const std::string& s) {
  static const std::set<std::string> kNull = {"", "~", "null", "Null", "NULL"};
  static const std::set<std::string> kTrue = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const std::set<std::string> kFalse = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  if (kNull.count(s)) return nullptr;
  if (kTrue.count(s)) return true;
  if (kFalse.count(s)) return false;
  const size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (all_of_chars(s, sign, isdigit) && s.size() - sign < 19) return std::stoll(s);
  // [-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?  (PyYAML needs the dot)
  size_t i = sign;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && s[i] == '.' &&
      (i > sign || (i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))))) {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E') && i + 2 < s.size() && (s[i + 1] == '-' || s[i + 1] == '+') &&
        all_of_chars(s, i + 2, isdigit))
      i = s.size();
    if (i == s.size()) return std::strtod(s.c_str(), nullptr);
  }
  return s;
}

Value to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return node.Tag() == "?" ? plain_scalar(node.Scalar()) : Value(node.Scalar());
    case YAML::NodeType::Sequence: {
      Value list = Value::array();
      for (const auto& item : node) list.push_back(to_json(item));
      return list;
    }
    case YAML::NodeType::Map: {
      Value object = Value::object();
      for (const auto& item : node) object[item.first.Scalar()] = to_json(item.second);
      return object;
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------- files on disk and compiled in

bool is_builtin_path(const fs::path& path) {
  const std::string text = path.generic_string();
  return text.size() > kBuiltinTaskRoot.size() && text.compare(0, kBuiltinTaskRoot.size(), kBuiltinTaskRoot) == 0 &&
         text[kBuiltinTaskRoot.size()] == '/';
}

// A built-in task file's text (evals/builtin_task_files.h), or nullopt when there is no such file.
std::optional<std::string_view> builtin_text(const fs::path& path) {
  if (!is_builtin_path(path)) return std::nullopt;
  const std::string relative = path.lexically_normal().generic_string().substr(kBuiltinTaskRoot.size() + 1);
  for (const BuiltinTaskFile& file : builtin_task_files())
    if (file.path == relative) return file.text;
  return std::nullopt;
}

bool task_file_exists(const fs::path& path) {
  return is_builtin_path(path) ? builtin_text(path).has_value() : fs::is_regular_file(path);
}

// The name an include cycle is detected by.
fs::path canonical_task_path(const fs::path& path) {
  return is_builtin_path(path) ? path.lexically_normal() : fs::weakly_canonical(path);
}

YAML::Node load_yaml(const fs::path& path) {
  if (!task_file_exists(path)) fail("{}: no such task file", path.string());
  // lm-eval reads task files as UTF-8 text (Python's yaml on a text-mode open), so other bytes are refused
  // there; yaml-cpp would pass them on into names and templates, where JSON output fails on them later.
  const auto builtin = builtin_text(path);
  const std::string text = builtin ? std::string(*builtin) : read_file(path);
  if (!is_valid_utf8(text)) {
    size_t line = 1, column = 1;
    for (size_t pos = 0; pos < text.size();) {
      const Utf8Char c = decode_utf8_at(text, pos);
      if (!c.valid || !is_valid_utf8(std::string_view(text).substr(pos, c.length))) break;
      if (c.code_point == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
      pos += c.length;
    }
    fail("{}:{}:{}: not UTF-8 text (a task file is read as UTF-8, as lm-eval reads it); save it as UTF-8",
         path.string(), line, column);
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail("{}:{}:{}: invalid YAML: {}", path.string(), e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  // Aliases of aliases (`b: [*a, *a, ...]`, `c: [*b, *b, ...]`: YAML's "billion laughs") make a small file a
  // tree of billions of values, which every walk over the config (and its conversion to JSON) would take
  // forever to visit. Counted here without recursion, aliases expanded; lm-eval's task files hold hundreds.
  constexpr size_t kMaxYamlValues = 100000;
  // Nesting is bounded too: the walks over the config recurse, one level per level of the file.
  constexpr size_t kMaxYamlDepth = 64;
  size_t values = 0;
  std::vector<std::pair<YAML::Node, size_t>> pending{{root, 1}};
  while (!pending.empty()) {
    const auto [node, depth] = pending.back();
    pending.pop_back();
    if (++values > kMaxYamlValues)
      fail("{}: more than {} YAML values once its aliases (*name) are expanded; a task file needs far fewer",
           path.string(), kMaxYamlValues);
    if (depth > kMaxYamlDepth)
      fail("{}:{}:{}: YAML nested deeper than {} levels; a task file needs far fewer", path.string(),
           node.Mark().line + 1, node.Mark().column + 1, kMaxYamlDepth);
    // yaml-cpp can read a file of valid UTF-8 into values that are not: a double-quoted "\xA0" escape becomes
    // the byte 0xA0 (PyYAML reads U+00A0), and a NUL byte in a key garbles it. Refused here, by its place.
    if (node.IsScalar() && !is_valid_utf8(node.Scalar()))
      fail(
          "{}:{}:{}: a key or value that is not UTF-8 text once read (a control byte, or a \\x escape above "
          "\\x7F); write it as plain UTF-8 text",
          path.string(), node.Mark().line + 1, node.Mark().column + 1);
    if (node.IsSequence()) {
      for (const auto& child : node) pending.emplace_back(child, depth + 1);
    } else if (node.IsMap()) {
      for (const auto& item : node) {
        pending.emplace_back(item.first, depth + 1);
        pending.emplace_back(item.second, depth + 1);
      }
    }
  }
  return root;
}

Config config_of_map(const YAML::Node& root, const std::string& file) {
  Config config;
  for (const auto& item : root) {
    const std::string key = item.first.Scalar();
    refuse_custom_tags(item.second, file, key);
    config[key] = {item.second, file};
  }
  return config;
}

// lm_eval/utils.py::load_yaml_config: `include` (a path or a list, relative to the including file)
// is loaded first, the last listed first so that earlier includes win over later ones, and the
// including file's own keys override everything included. Shallow: a key replaces a key whole.
Config resolve_includes(Config own, const fs::path& file, std::vector<fs::path>& stack, std::set<std::string>& files) {
  const auto it = own.find("include");
  if (it == own.end()) return own;
  const Entry include = it->second;
  own.erase(it);
  std::vector<YAML::Node> targets;
  if (include.node.IsScalar())
    targets.push_back(include.node);
  else if (include.node.IsSequence())
    for (const auto& item : include.node) targets.push_back(item);
  else
    fail_at(include, "include", "must be a file path or a list of them");
  std::reverse(targets.begin(), targets.end());
  Config merged;
  for (const YAML::Node& target : targets) {
    if (!target.IsScalar()) fail("{}: include: each entry must be a file path", where(include.file, target));
    fs::path path = target.Scalar();
    if (path.is_relative()) path = file.parent_path() / path;
    if (!task_file_exists(path))
      fail("{}: include: {} does not exist (include paths are relative to the including file's folder)",
           where(include.file, target), path.string());
    const fs::path canonical = canonical_task_path(path);
    if (std::find(stack.begin(), stack.end(), canonical) != stack.end()) {
      std::vector<std::string> chain;
      for (const fs::path& p : stack) chain.push_back(p.string());
      chain.push_back(canonical.string());
      fail("{}: include: {} is already being included (an include cycle: {})", where(include.file, target),
           path.string(), fmt::join(chain, " -> "));
    }
    const YAML::Node root = load_yaml(path);
    if (!root.IsMap()) fail("{}:1: an included task file must be a YAML mapping of config keys", path.string());
    files.insert(path.string());
    stack.push_back(canonical);
    Config included = resolve_includes(config_of_map(root, path.string()), path, stack, files);
    stack.pop_back();
    for (auto& [key, entry] : included) merged[key] = std::move(entry);
  }
  for (auto& [key, entry] : own) merged[key] = std::move(entry);
  return merged;
}

// ---------------------------------------------------------------- Python values

bool is_python_digit_string(const std::string& text) {  // str.isdigit() for the ASCII digits templates give
  return !text.empty() && text.size() < 19 && all_of_chars(text, 0, isdigit);
}

// ast.literal_eval of the Python literals templates render: str, int, float, True/False/None, list,
// tuple, dict. Throws gemma::Error with `what` on anything else.
class LiteralParser {
 public:
  LiteralParser(const std::string& text, std::string what) : text_(text), what_(std::move(what)) {}
  Value parse() {
    Value value = parse_value();
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the value");
    return value;
  }

 private:
  [[noreturn]] void error(const std::string& problem) const {
    fail("{}: {} at character {} of {}", what_, problem, pos_ + 1, Value(text_).dump());
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool take(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  Value parse_sequence(char close, bool object) {
    Value out = object ? Value::object() : Value::array();
    while (!take(close)) {
      Value item = parse_value();
      if (object) {
        if (!take(':')) error("expected ':' in a dict");
        out[item.is_string() ? item.get<std::string>() : item.dump()] = parse_value();
      } else {
        out.push_back(std::move(item));
      }
      if (take(close)) break;
      if (!take(',')) error("expected ',' or a closing bracket");
    }
    return out;
  }
  Value parse_string(char quote) {
    std::string out;
    ++pos_;
    while (true) {
      if (pos_ >= text_.size()) error("unterminated string");
      const char c = text_[pos_++];
      if (c == quote) return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) error("unterminated string");
      const char e = text_[pos_++];
      auto hex = [&](int digits) {
        if (pos_ + digits > text_.size()) error("truncated escape");
        const char32_t code = static_cast<char32_t>(std::stoul(text_.substr(pos_, digits), nullptr, 16));
        pos_ += digits;
        append_utf8(out, code);
      };
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '0':
          out += '\0';
          break;
        case 'x':
          hex(2);
          break;
        case 'u':
          hex(4);
          break;
        case 'U':
          hex(8);
          break;
        case '\\':
        case '\'':
        case '"':
          out += e;
          break;
        case '\n':
          break;
        default:
          out += '\\';
          out += e;
      }
    }
  }
  Value parse_value() {
    skip_space();
    if (pos_ >= text_.size()) error("expected a value");
    const char c = text_[pos_];
    if (c == '[') return ++pos_, parse_sequence(']', false);
    if (c == '(') return ++pos_, parse_sequence(')', false);
    if (c == '{') return ++pos_, parse_sequence('}', true);
    if (c == '\'' || c == '"') return parse_string(c);
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
                                   text_[pos_] == '-' || text_[pos_] == '+' || text_[pos_] == '_'))
      ++pos_;
    const std::string word = text_.substr(start, pos_ - start);
    if (word == "True") return true;
    if (word == "False") return false;
    if (word == "None") return nullptr;
    const Value number = plain_scalar(word);
    if (number.is_number()) return number;
    pos_ = start;
    error("not a Python literal");
  }
  const std::string& text_;
  std::string what_;
  size_t pos_ = 0;
};

std::string str_of(const Value& value) { return jinja::python_str(value); }

// ---------------------------------------------------------------- doc_to_* fields

// lm-eval's doc_to_text / doc_to_target / doc_to_choice value: an int, a list, a dict (doc_to_choice:
// its values), or a string that is a field name of the doc or else a Jinja template.
struct DocField {
  std::string key;
  std::string location;  // file:line
  Value literal;         // int / list / dict (null when a string)
  std::string text;
  std::shared_ptr<jinja::Template> templ;

  bool is_set() const { return !literal.is_null() || templ != nullptr; }
  std::string render(const Value& doc) const { return templ->render(doc); }
};

DocField doc_field(const Config& config, const std::string& key) {
  DocField field;
  field.key = key;
  const auto it = config.find(key);
  if (it == config.end()) return field;
  const Entry& entry = it->second;
  field.location = where(entry);
  const Value value = to_json(entry.node);
  if (value.is_string()) {
    field.text = value.get<std::string>();
    const int first_line = static_cast<int>(entry.node.Mark().line) + 1;
    field.templ = std::make_shared<jinja::Template>(jinja::Template::parse(field.text, entry.file, first_line));
  } else if (value.is_number_integer() || value.is_array() || (key == "doc_to_choice" && value.is_object())) {
    field.literal = value;
  } else if (!value.is_null()) {
    fail_at(entry, key, "must be a template, a field name of the docs, a list or an integer");
  }
  return field;
}

class TaskBuilder {
 public:
  TaskBuilder(Config config, std::string file) : config_(std::move(config)), file_(std::move(file)) {}
  TaskSpec build();

 private:
  const Entry* find(const std::string& key) const {
    const auto it = config_.find(key);
    return it == config_.end() ? nullptr : &it->second;
  }
  Value json(const std::string& key) const {
    const Entry* entry = find(key);
    return entry ? to_json(entry->node) : Value();
  }
  std::string string_key(const std::string& key, const std::string& fallback = "") const {
    const Entry* entry = find(key);
    if (!entry) return fallback;
    const Value value = to_json(entry->node);
    if (value.is_null()) return fallback;
    if (!value.is_string()) fail_at(*entry, key, "must be a string");
    return value.get<std::string>();
  }
  std::optional<std::string> optional_string(const std::string& key) const {
    if (!find(key) || json(key).is_null()) return std::nullopt;
    return string_key(key);
  }

  void check_keys() const;
  void read_data(TaskSpec& task);
  void read_fields(TaskSpec& task);
  void read_generation(TaskSpec& task);
  void read_filters(TaskSpec& task);
  void read_metrics(TaskSpec& task);

  Config config_;
  std::string file_;
  std::string name_;
};

const std::set<std::string> kTaskKeys = {"task",
                                         "task_alias",
                                         "tag",
                                         "group",
                                         "dataset_path",
                                         "dataset_name",
                                         "dataset_kwargs",
                                         "training_split",
                                         "validation_split",
                                         "test_split",
                                         "fewshot_split",
                                         "fewshot_config",
                                         "num_fewshot",
                                         "description",
                                         "target_delimiter",
                                         "fewshot_delimiter",
                                         "doc_to_text",
                                         "doc_to_target",
                                         "doc_to_choice",
                                         "output_type",
                                         "generation_kwargs",
                                         "filter_list",
                                         "metric_list",
                                         "metadata",
                                         "repeats",
                                         "should_decontaminate",
                                         "doc_to_decontamination_query",
                                         "gemma_eval"};
// Keys lm-eval has whose values are Python code or that this loader cannot honour.
const std::map<std::string, std::string> kRefusedKeys = {
    {"process_docs", "it runs Python; preprocess the data into the JSONL the templates read instead"},
    {"process_results", "it runs Python; use metric_list with registry metrics instead"},
    {"custom_dataset", "it runs Python; export the data to JSONL or CSV (dataset_path: json|csv) instead"},
    {"use_prompt", "promptsource prompts are not supported; write doc_to_text / doc_to_target templates instead"},
    {"gen_prefix", "an assistant-turn prefix is not supported by gemma-eval task files; remove it"},
    {"doc_to_image", "multimodal task files are not supported; use a built-in vision task"},
    {"doc_to_audio", "audio task files are not supported"},
    {"unsafe_code", "tasks that run model-written code are built in (humaneval, mbpp), not task files"},
    {"class", "it names a Python class; write the task as configuration"},
};

void TaskBuilder::check_keys() const {
  for (const auto& [key, entry] : config_) {
    if (const auto refused = kRefusedKeys.find(key); refused != kRefusedKeys.end())
      fail_at(entry, key, "not supported: " + refused->second);
    if (kTaskKeys.count(key)) continue;
    std::string closest;
    size_t best = 3;  // suggest only a near miss
    for (const std::string& known : kTaskKeys)
      if (const size_t distance = edit_distance(key, known); distance < best) best = distance, closest = known;
    fail_at(entry, key,
            "unknown key (lm-eval 0.4 task configs have no such key); " +
                (closest.empty()
                     ? fmt::format("check the spelling or remove it (known keys: {})", fmt::join(kTaskKeys, ", "))
                     : fmt::format("did you mean {}?", closest)));
  }
}

std::vector<fs::path> file_list(const Entry& entry, const YAML::Node& node, const fs::path& base) {
  std::vector<fs::path> paths;
  auto add = [&](const YAML::Node& item) {
    if (!item.IsScalar()) fail("{}: dataset_kwargs.data_files: each file must be a path", where(entry.file, item));
    // gemma-eval's `{data_dir}/` prefix stays as written: DataSource resolves it against --data-dir.
    const std::string& text = item.Scalar();
    fs::path path = text;
    if (text.rfind(DataSource::kDataDirPrefix, 0) == 0)
      paths.push_back(path);
    else
      paths.push_back(path.is_relative() ? base / path : path);
  };
  if (node.IsSequence())
    for (const auto& item : node) add(item);
  else
    add(node);
  return paths;
}

// HF datasets' csv builder options (CsvConfig, passed on to pandas.read_csv) that a headerless or
// oddly typed CSV file needs.
void read_csv_option(const Entry& kwargs, const YAML::Node& key_node, const YAML::Node& node,
                     DataSource::CsvOptions& csv) {
  const std::string key = key_node.Scalar();
  const std::string at = where(kwargs.file, key_node);
  const Value value = to_json(node);
  if (key == "column_names") {
    if (!value.is_array() || value.empty()) fail("{}: dataset_kwargs.column_names: must be a list of names", at);
    for (const Value& name : value) {
      if (!name.is_string()) fail("{}: dataset_kwargs.column_names: each name must be a string", at);
      csv.column_names.push_back(name.get<std::string>());
    }
  } else if (key == "features") {
    if (!value.is_object()) fail("{}: dataset_kwargs.features: must map column names to string, int64 or float64", at);
    for (const auto& [column, type] : value.items()) {
      if (type != "string" && type != "int64" && type != "float64")
        fail("{}: dataset_kwargs.features.{}: {} is not a type here (string, int64 or float64)", at, column,
             type.dump());
      csv.features[column] = type.get<std::string>();
    }
  } else {
    if (!value.is_boolean()) fail("{}: dataset_kwargs.{}: must be true or false", at, key);
    (key == "na_filter" ? csv.na_filter : csv.keep_default_na) = value.get<bool>();
  }
}

// gemma-eval's extensions (task_file_data.h DataSource::label_files, doc_fields): what lm-eval would do in
// a Python process_docs, for data whose layout is not the Hub dataset's.
void read_extensions(const Entry& entry, DataSource& source, const Value& task_config) {
  if (!entry.node.IsMap()) fail_at(entry, "gemma_eval", "must be a mapping (doc_fields, label_files)");
  const fs::path base = fs::path(entry.file).parent_path();
  for (const auto& item : entry.node) {
    const std::string key = item.first.Scalar();
    if (key == "label_files") {
      if (!item.second.IsMap())
        fail("{}: gemma_eval.label_files: must map split names to label files", where(entry.file, item.first));
      for (const auto& split : item.second)
        source.label_files[split.first.Scalar()] = file_list(entry, split.second, base);
    } else if (key == "doc_fields") {
      if (!item.second.IsMap())
        fail("{}: gemma_eval.doc_fields: must map field names to templates", where(entry.file, item.first));
      for (const auto& field : item.second) {
        if (!field.second.IsScalar())
          fail("{}: gemma_eval.doc_fields.{}: must be a template (\"{{{{ expression }}}}\" keeps the value's type)",
               where(entry.file, field.second), field.first.Scalar());
        source.doc_fields.emplace_back(
            field.first.Scalar(),
            std::make_shared<const jinja::Template>(jinja::Template::parse(
                field.second.Scalar(), entry.file, static_cast<int>(field.second.Mark().line) + 1)));
      }
    } else {
      fail("{}: gemma_eval.{}: unknown (gemma_eval has doc_fields and label_files)", where(entry.file, item.first),
           key);
    }
  }
  source.task_config = task_config;
}

void TaskBuilder::read_data(TaskSpec& task) {
  auto source = std::make_shared<DataSource>();
  source->task = name_;
  source->task_file = file_;
  source->dataset_path = string_key("dataset_path");
  source->dataset_name = string_key("dataset_name");
  if (source->dataset_path.empty())
    fail(
        "{}: task {} has no dataset_path (a Hub id such as allenai/ai2_arc, or json / csv with "
        "dataset_kwargs.data_files)",
        file_, name_);
  if (const Entry* kwargs = find("dataset_kwargs")) {
    if (!kwargs->node.IsMap()) fail_at(*kwargs, "dataset_kwargs", "must be a mapping");
    const fs::path base = fs::path(kwargs->file).parent_path();
    for (const auto& item : kwargs->node) {
      const std::string key = item.first.Scalar();
      if (key == "trust_remote_code") continue;  // a Hub download option; no code runs here
      if (key == "column_names" || key == "na_filter" || key == "keep_default_na" || key == "features") {
        read_csv_option(*kwargs, item.first, item.second, source->csv);
        if (source->dataset_path != "csv")
          fail("{}: dataset_kwargs.{} is an option of dataset_path: csv (it is {})", where(kwargs->file, item.first),
               key, source->dataset_path);
        continue;
      }
      if (key != "data_files")
        fail(
            "{}: dataset_kwargs.{}: not supported (data_files, and for csv column_names, na_filter, keep_default_na, "
            "features)",
            where(kwargs->file, item.first), key);
      if (!source->is_local())
        fail("{}: dataset_kwargs.data_files needs dataset_path: json or csv (it is {})",
             where(kwargs->file, item.first), source->dataset_path);
      // datasets.load_dataset: a path or a list of paths is the "train" split; a mapping names splits.
      if (item.second.IsMap())
        for (const auto& split : item.second)
          source->data_files[split.first.Scalar()] = file_list(*kwargs, split.second, base);
      else
        source->data_files["train"] = file_list(*kwargs, item.second, base);
    }
  }
  if (source->is_local() && source->data_files.empty())
    fail("{}: task {}: dataset_path {} needs dataset_kwargs.data_files (paths relative to the task file)", file_, name_,
         source->dataset_path);
  if (const Entry* extensions = find("gemma_eval")) read_extensions(*extensions, *source, task.source_config);

  const std::optional<std::string> test_split = optional_string("test_split");
  const std::optional<std::string> validation_split = optional_string("validation_split");
  const std::optional<std::string> training_split = optional_string("training_split");
  const std::optional<std::string> fewshot_split = optional_string("fewshot_split");
  // lm-eval evaluates the test split when there is one, else the validation split.
  const std::optional<std::string> eval_split = test_split ? test_split : validation_split;
  if (!eval_split) fail("{}: task {} needs test_split or validation_split (the split to evaluate)", file_, name_);

  // fewshot_config: sampler and literal samples.
  std::optional<Value> samples;
  if (const Entry* fewshot = find("fewshot_config")) {
    if (!fewshot->node.IsMap()) fail_at(*fewshot, "fewshot_config", "must be a mapping");
    for (const auto& item : fewshot->node) {
      const std::string key = item.first.Scalar();
      const Value value = to_json(item.second);
      if (key == "sampler") {
        if (value == "first_n")
          task.sampler = ShotSampler::FirstN;
        else if (value == "default")
          task.sampler = ShotSampler::Random;
        else
          fail("{}: fewshot_config.sampler: {} is not a sampler here (first_n or default)",
               where(fewshot->file, item.second), value.dump());
      } else if (key == "samples") {
        if (!value.is_array() || value.empty())
          fail("{}: fewshot_config.samples: must be a non-empty list of docs (a Python function cannot run here)",
               where(fewshot->file, item.second));
        for (const Value& doc : value)
          if (!doc.is_object())
            fail("{}: fewshot_config.samples: each sample must be a mapping (a doc)",
                 where(fewshot->file, item.second));
        samples = value;
      } else {
        fail("{}: fewshot_config.{}: not supported (sampler and samples are)", where(fewshot->file, item.first), key);
      }
    }
  }
  // ConfigurableTask.fewshot_docs: fewshot_split, else the literal samples, else (Task.fewshot_docs) the
  // training split, the validation split, the test split.
  std::optional<std::string> shot_split =
      fewshot_split ? fewshot_split : (samples ? std::nullopt : (training_split ? training_split : validation_split));
  if (!fewshot_split && !samples && !shot_split) shot_split = test_split;
  // samplers.py: n+1 are drawn and the eval doc dropped when fewshot_split == test_split (both unset
  // included).
  task.sampler_gets_eval_doc = fewshot_split == test_split;

  const std::string split = *eval_split;
  task.load_eval = [source, split](const fs::path& data_dir) { return source->load(split, data_dir); };
  if (samples) {
    task.load_fewshot = [docs = *samples](const fs::path&) {
      DocSplit out;
      out.name = "fewshot_config.samples";
      for (const Value& doc : docs) out.docs.push_back(doc);
      return out;
    };
  } else if (shot_split) {
    const std::string shots = *shot_split;
    task.load_fewshot = [source, shots](const fs::path& data_dir) { return source->load(shots, data_dir); };
  }
  const std::optional<std::string> checked_shot_split = samples ? std::nullopt : shot_split;
  task.check_data = [source, split, checked_shot_split](const fs::path& data_dir, int shots) {
    source->resolve(split, data_dir);
    if (shots > 0 && checked_shot_split) source->resolve(*checked_shot_split, data_dir);
  };
}

// The choices of a doc as strings (lm-eval formats each into the continuation with an f-string).
std::vector<std::string> choices_of(const Value& value, const DocField& field, const std::string& task) {
  if (!value.is_array())
    fail("task {}: doc_to_choice ({}) gave {}, not a list of choices", task, field.location, value.dump());
  std::vector<std::string> out;
  for (const Value& item : value) out.push_back(item.is_string() ? item.get<std::string>() : str_of(item));
  return out;
}

void TaskBuilder::read_fields(TaskSpec& task) {
  const DocField text = doc_field(config_, "doc_to_text");
  const DocField target = doc_field(config_, "doc_to_target");
  const DocField choice = doc_field(config_, "doc_to_choice");
  if (!text.is_set()) fail("{}: task {} has no doc_to_text", file_, name_);
  if (!target.is_set()) fail("{}: task {} has no doc_to_target", file_, name_);
  if (!text.literal.is_null()) fail("{}: doc_to_text: must be a template or a field name", text.location);
  const bool has_choice = choice.is_set();
  if (task.output_type == OutputType::MultipleChoice && !has_choice)
    fail("{}: task {}: output_type multiple_choice needs doc_to_choice", file_, name_);
  const std::string name = name_;

  // ConfigurableTask.doc_to_text: a field's value, else the rendered template (a digit string with
  // doc_to_choice set becomes an int: WinoGrande-style multiple inputs, not supported here).
  task.doc_to_text = [text, has_choice, name](const Doc& doc) -> std::string {
    Value value;
    if (doc.is_object() && doc.contains(text.text)) {
      value = doc.at(text.text);
    } else {
      const std::string rendered = text.render(doc);
      if (!(has_choice && is_python_digit_string(rendered))) return rendered;
      value = std::stoll(rendered);
    }
    if (value.is_string()) return value.get<std::string>();
    if (has_choice && value.is_number_integer())
      fail(
          "task {}: doc_to_text ({}) gave a choice index: multiple-input tasks (one context per choice, as "
          "WinoGrande) are not supported in task files",
          name, text.location);
    return str_of(value);
  };

  // ConfigurableTask.doc_to_target.
  auto target_value = [target, has_choice](const Doc& doc) -> Value {
    if (!target.literal.is_null()) return target.literal;
    if (doc.is_object() && doc.contains(target.text)) return doc.at(target.text);
    const std::string rendered = target.render(doc);
    if (has_choice && is_python_digit_string(rendered)) return std::stoll(rendered);
    if (rendered.size() >= 2 && rendered.front() == '[' && rendered.back() == ']') {
      try {
        return LiteralParser(rendered, "doc_to_target").parse();
      } catch (const Error&) {  // ast.literal_eval's SyntaxError / ValueError: the string itself
        return rendered;
      }
    }
    return rendered;
  };
  // ConfigurableTask.doc_to_choice: a field's value, else ast.literal_eval of the rendered template; a
  // literal list as it is; a mapping's values.
  auto choice_list = [choice, name](const Doc& doc) -> std::vector<std::string> {
    Value value;
    if (choice.literal.is_array())
      value = choice.literal;
    else if (choice.literal.is_object())
      for (const auto& item : choice.literal.items()) value.push_back(item.value());
    else if (doc.is_object() && doc.contains(choice.text))
      value = doc.at(choice.text);
    else
      value =
          LiteralParser(choice.render(doc), fmt::format("task {}: doc_to_choice ({})", name, choice.location)).parse();
    return choices_of(value, choice, name);
  };
  if (has_choice) task.doc_to_choice = choice_list;

  // The few-shot answer (samplers.py get_answer): a list's first element, a choice index's choice text,
  // else the target itself.
  task.doc_to_target = [target_value, choice_list, has_choice, name, target](const Doc& doc) -> std::string {
    const Value value = target_value(doc);
    if (value.is_array()) {
      if (value.empty()) fail("task {}: doc_to_target ({}) gave an empty list", name, target.location);
      return str_of(value.front());
    }
    if (value.is_string()) return value.get<std::string>();
    if (has_choice) {
      const std::vector<std::string> choices = choice_list(doc);
      if (!(value.is_number_integer() || value.is_boolean()) || value.get<long long>() < 0 ||
          static_cast<size_t>(value.get<long long>()) >= choices.size())
        fail("task {}: doc_to_target ({}) gave {}, not an index into the {} choices", name, target.location,
             value.dump(), choices.size());
      return choices[static_cast<size_t>(value.get<long long>())];
    }
    return str_of(value);
  };

  if (task.output_type == OutputType::MultipleChoice) {
    // process_results: a list of indices (several right answers), an index, or a choice's text.
    auto golds = [target_value, choice_list, name, target](const Doc& doc) -> std::vector<int> {
      const Value value = target_value(doc);
      const std::vector<std::string> choices = choice_list(doc);
      auto index = [&](const Value& gold) -> int {
        if (gold.is_string()) {
          const auto it = std::find(choices.begin(), choices.end(), gold.get<std::string>());
          if (it != choices.end()) return static_cast<int>(it - choices.begin());
        } else if ((gold.is_number_integer() || gold.is_boolean()) && gold.get<long long>() >= 0 &&
                   static_cast<size_t>(gold.get<long long>()) < choices.size()) {
          return static_cast<int>(gold.get<long long>());
        }
        fail("task {}: doc_to_target ({}) gave {}, which is neither an index into nor one of the choices {}", name,
             target.location, gold.dump(), Value(choices).dump());
      };
      std::vector<int> out;
      if (value.is_array())
        for (const Value& gold : value) out.push_back(index(gold));
      else
        out.push_back(index(value));
      if (out.empty()) fail("task {}: doc_to_target ({}) gave an empty list", name, target.location);
      return out;
    };
    task.doc_to_golds = golds;
    task.doc_to_gold = [golds](const Doc& doc) { return golds(doc).front(); };
  } else {
    // process_results for generate_until: with doc_to_choice the target indexes the choices; a list is
    // several references; anything else is compared as str().
    task.doc_to_references = [target_value, choice_list, has_choice, name,
                              target](const Doc& doc) -> std::vector<std::string> {
      const Value value = target_value(doc);
      if (has_choice) {
        const std::vector<std::string> choices = choice_list(doc);
        if (!value.is_number_integer() || value.get<long long>() < 0 ||
            static_cast<size_t>(value.get<long long>()) >= choices.size())
          fail("task {}: doc_to_target ({}) gave {}, not an index into the {} choices", name, target.location,
               value.dump(), choices.size());
        return {choices[static_cast<size_t>(value.get<long long>())]};
      }
      if (value.is_array()) {
        std::vector<std::string> out;
        for (const Value& item : value) out.push_back(item.is_string() ? item.get<std::string>() : str_of(item));
        return out;
      }
      return {value.is_string() ? value.get<std::string>() : str_of(value)};
    };
  }
}

void TaskBuilder::read_generation(TaskSpec& task) {
  const Entry* entry = find("generation_kwargs");
  if (!entry) {  // ConfigurableTask.__init__: until the few-shot delimiter
    task.until = {task.fewshot_delimiter};
    return;
  }
  if (!entry->node.IsMap()) fail_at(*entry, "generation_kwargs", "must be a mapping");
  task.until.clear();
  for (const auto& item : entry->node) {
    const std::string key = item.first.Scalar();
    const Value value = to_json(item.second);
    const std::string at = where(entry->file, item.second);
    if (key == "until") {
      if (value.is_string())
        task.until = {value.get<std::string>()};
      else if (value.is_array())
        for (const Value& stop : value) {
          if (!stop.is_string()) fail("{}: generation_kwargs.until: each stop sequence must be a string", at);
          task.until.push_back(stop.get<std::string>());
        }
      else
        fail("{}: generation_kwargs.until: must be a string or a list of strings", at);
    } else if (key == "max_gen_toks" || key == "max_new_tokens") {
      if (!value.is_number_integer() || value.get<long long>() <= 0)
        fail("{}: generation_kwargs.{}: must be a positive integer", at, key);
      task.max_gen_toks = value.get<int>();
    } else if (key == "do_sample") {
      if (value != false) fail("{}: generation_kwargs.do_sample: only greedy decoding (false) is supported", at);
    } else if (key == "temperature") {
      if (!value.is_number() || value.get<double>() != 0.0)
        fail("{}: generation_kwargs.temperature: only 0 (greedy decoding) is supported", at);
    } else if (key == "top_p" || key == "top_k" || key == "num_beams") {
      fail("{}: generation_kwargs.{}: sampling and beam search are not supported (decoding is greedy); remove it", at,
           key);
    } else {
      fail("{}: generation_kwargs.{}: unknown (until, max_gen_toks, do_sample: false and temperature: 0 are supported)",
           at, key);
    }
  }
}

void TaskBuilder::read_filters(TaskSpec& task) {
  const Entry* entry = find("filter_list");
  if (!entry) {
    FilterStep take_first;
    take_first.kind = FilterStep::Kind::TakeFirst;
    task.filters = {{"none", {take_first}}};
    return;
  }
  if (!entry->node.IsSequence()) fail_at(*entry, "filter_list", "must be a list of {name, filter} entries");
  for (const auto& pipeline_node : entry->node) {
    const std::string at = where(entry->file, pipeline_node);
    if (!pipeline_node.IsMap() || !pipeline_node["name"] || !pipeline_node["filter"] ||
        !pipeline_node["filter"].IsSequence())
      fail("{}: filter_list: each entry needs a name and a filter list", at);
    FilterPipeline pipeline;
    pipeline.name = pipeline_node["name"].Scalar();
    for (const auto& step_node : pipeline_node["filter"]) {
      const std::string step_at = where(entry->file, step_node);
      if (!step_node.IsMap() || !step_node["function"])
        fail("{}: filter_list {}: each filter step needs a `function`", step_at, pipeline.name);
      const std::string function = step_node["function"].Scalar();
      FilterStep step;
      std::set<std::string> allowed = {"function"};
      if (function == "regex" || function == "multi_choice_regex") {
        // multi_choice_regex, lm-eval's MultipleChoiceRegexFilter, is a RegexFilter that falls back to finding
        // the doc's choices in the response.
        step.kind = function == "regex" ? FilterStep::Kind::Regex : FilterStep::Kind::MultiChoiceRegex;
        step.pattern = R"(#### (\-?[0-9\.\,]+))";  // lm-eval RegexFilter's default
        allowed.insert({"regex_pattern", "group_select", "fallback"});
        if (step_node["regex_pattern"]) step.pattern = step_node["regex_pattern"].Scalar();
        if (step_node["group_select"]) {
          const Value group = to_json(step_node["group_select"]);
          if (!group.is_number_integer())
            fail("{}: filter_list {}: group_select must be an integer", step_at, pipeline.name);
          step.group_select = group.get<int>();
        }
        if (step_node["fallback"]) step.fallback = step_node["fallback"].Scalar();
        if (function == "multi_choice_regex") {
          allowed.insert({"ignore_case", "ignore_punctuation", "regexes_to_ignore"});
          for (const char* flag : {"ignore_case", "ignore_punctuation"})
            if (step_node[flag]) {
              const Value value = to_json(step_node[flag]);
              if (!value.is_boolean())
                fail("{}: filter_list {}: {} must be true or false", step_at, pipeline.name, flag);
              (std::string(flag) == "ignore_case" ? step.ignore_case : step.ignore_punctuation) = value.get<bool>();
            }
          if (step_node["regexes_to_ignore"]) {
            const Value list = to_json(step_node["regexes_to_ignore"]);
            if (!list.is_array()) fail("{}: filter_list {}: regexes_to_ignore must be a list", step_at, pipeline.name);
            for (const Value& regex : list) {
              if (!regex.is_string())
                fail("{}: filter_list {}: regexes_to_ignore: each entry must be a regex", step_at, pipeline.name);
              step.regexes_to_ignore.push_back(regex.get<std::string>());
            }
          }
        }
      } else if (function == "take_first") {
        step.kind = FilterStep::Kind::TakeFirst;
      } else if (function == "remove_whitespace") {
        step.kind = FilterStep::Kind::RemoveWhitespace;
      } else if (function == "lowercase") {
        step.kind = FilterStep::Kind::Lowercase;
      } else if (function == "uppercase") {
        step.kind = FilterStep::Kind::Uppercase;
      } else {
        fail(
            "{}: filter_list {}: filter function \"{}\" is not supported (regex, multi_choice_regex, take_first, "
            "remove_whitespace, lowercase, uppercase are)",
            step_at, pipeline.name, function);
      }
      for (const auto& item : step_node)
        if (!allowed.count(item.first.Scalar()))
          fail("{}: filter_list {}: the {} filter has no argument \"{}\"", where(entry->file, item.first),
               pipeline.name, function, item.first.Scalar());
      pipeline.steps.push_back(std::move(step));
    }
    task.filters.push_back(std::move(pipeline));
  }
}

void TaskBuilder::read_metrics(TaskSpec& task) {
  const Entry* entry = find("metric_list");
  if (!entry) {  // lm-eval's DEFAULT_METRIC_REGISTRY
    if (task.output_type == OutputType::MultipleChoice)
      task.metrics = {registry_metric("acc"), registry_metric("acc_norm")};
    else if (task.output_type == OutputType::Loglikelihood)
      task.metrics = {loglikelihood_metric("perplexity"), loglikelihood_metric("acc")};
    else if (task.output_type == OutputType::LoglikelihoodRolling)
      task.metrics = {loglikelihood_metric("word_perplexity"), loglikelihood_metric("byte_perplexity"),
                      loglikelihood_metric("bits_per_byte")};
    else
      task.metrics = {registry_metric("exact_match")};
    return;
  }
  if (!entry->node.IsSequence()) fail_at(*entry, "metric_list", "must be a list of {metric: NAME, ...} entries");
  for (const auto& metric_node : entry->node) {
    const std::string at = where(entry->file, metric_node);
    if (!metric_node.IsMap() || !metric_node["metric"] || !metric_node["metric"].IsScalar())
      fail("{}: metric_list: each entry needs `metric: NAME`", at);
    const std::string name = metric_node["metric"].Scalar();
    Value options = Value::object();
    std::optional<bool> higher_is_better;
    std::string aggregation;
    for (const auto& item : metric_node) {
      const std::string key = item.first.Scalar();
      const Value value = to_json(item.second);
      if (key == "metric") continue;
      if (key == "aggregation") {
        if (!value.is_string()) fail("{}: metric_list {}: aggregation must be a name", at, name);
        aggregation = value.get<std::string>();
      } else if (key == "higher_is_better") {
        if (!value.is_boolean()) fail("{}: metric_list {}: higher_is_better must be true or false", at, name);
        higher_is_better = value.get<bool>();
      } else {
        options[key] = value;  // the metric's own arguments (ignore_case, regexes_to_ignore, ...)
      }
    }
    const bool loglikelihood_kind =
        task.output_type == OutputType::Loglikelihood || task.output_type == OutputType::LoglikelihoodRolling;
    MetricSpec metric;
    try {
      // The log-likelihood kinds' metrics aggregate log-likelihoods (lm-eval api/task.py
      // process_results), so they are not registry entries that score a text.
      metric = loglikelihood_kind ? loglikelihood_metric(name) : registry_metric(name, name, options);
    } catch (const Error& e) {
      fail("{}: metric_list {}: {}", at, name, e.what());
    }
    if (loglikelihood_kind) {
      if (!options.empty()) fail("{}: metric_list {}: takes no options (got {})", at, name, options.dump());
      // lm-eval's aggregation of each (api/task.py ConfigurableTask.aggregation, api/metrics.py).
      const std::string expected = name == "acc"               ? "mean"
                                   : name == "word_perplexity" ? "weighted_perplexity"
                                   : name == "byte_perplexity" ? "weighted_perplexity"
                                                               : name;
      if (!aggregation.empty() && aggregation != expected)
        fail("{}: metric_list {}: aggregation {} is not this metric's ({})", at, name, aggregation, expected);
      if (higher_is_better) metric.higher_is_better = *higher_is_better;
      task.metrics.push_back(std::move(metric));
      continue;
    }
    const bool corpus = static_cast<bool>(metric.corpus_score) || static_cast<bool>(metric.prepare_corpus);
    if (!aggregation.empty() && aggregation != (corpus ? name : "mean"))
      fail("{}: metric_list {}: aggregation {} is not this metric's ({})", at, name, aggregation,
           corpus ? name : "mean");
    if (higher_is_better) metric.higher_is_better = *higher_is_better;
    task.metrics.push_back(std::move(metric));
  }
}

TaskSpec TaskBuilder::build() {
  check_keys();
  name_ = string_key("task");
  if (name_.empty()) fail("{}: a task config needs `task: NAME`", file_);
  TaskSpec task;
  task.name = name_;
  task.source_file = file_;
  task.source_config = Value::object();
  for (const auto& [key, entry] : config_) task.source_config[key] = to_json(entry.node);

  const std::string output_type = string_key("output_type", "generate_until");
  if (output_type == "multiple_choice")
    task.output_type = OutputType::MultipleChoice;
  else if (output_type == "generate_until")
    task.output_type = OutputType::GenerateUntil;
  else if (output_type == "loglikelihood")
    task.output_type = OutputType::Loglikelihood;
  else if (output_type == "loglikelihood_rolling")
    task.output_type = OutputType::LoglikelihoodRolling;
  else
    fail(
        "{}: output_type: unknown \"{}\" (lm-eval's are multiple_choice, generate_until, loglikelihood, "
        "loglikelihood_rolling)",
        where(*find("output_type")), output_type);

  if (const Entry* shots = find("num_fewshot")) {
    const Value value = to_json(shots->node);
    if (!value.is_null()) {
      if (!value.is_number_integer() || value.get<long long>() < 0)
        fail_at(*shots, "num_fewshot", "must be a non-negative integer");
      task.default_shots = value.get<int>();
    }
  }
  if (const Entry* repeats = find("repeats"))
    if (to_json(repeats->node) != 1)
      fail_at(*repeats, "repeats", "only 1 is supported (one greedy response per request)");
  // should_decontaminate / doc_to_decontamination_query only matter to lm-eval's decontamination run
  // (--decontamination_ngrams_path); an ordinary evaluation, here and there, does not read them.
  if (const Entry* metadata = find("metadata")) {
    if (!metadata->node.IsMap()) fail_at(*metadata, "metadata", "must be a mapping");
    const Value version = to_json(metadata->node)["version"];
    if (version.is_number() && std::floor(version.get<double>()) == version.get<double>())
      task.version = static_cast<int>(version.get<double>());
    else if (!version.is_null())
      fail_at(*metadata, "metadata.version", "must be a whole number (results record the version as an integer)");
  }
  task.target_delimiter = string_key("target_delimiter", " ");
  task.fewshot_delimiter = string_key("fewshot_delimiter", "\n\n");
  if (const Entry* description = find("description")) {
    // lm-eval renders the description as a template of the eval doc (api/task.py fewshot_context). One that
    // renders without a doc is rendered once; one that uses the doc's fields is rendered per doc.
    const std::string source = string_key("description");
    auto templ = std::make_shared<jinja::Template>(
        jinja::Template::parse(source, description->file, static_cast<int>(description->node.Mark().line) + 1));
    try {
      task.description = templ->render(Value::object());
    } catch (const jinja::TemplateError&) {
      task.description = source;
      const std::string name = name_;
      task.doc_to_description = [templ, name](const Doc& doc) {
        try {
          return templ->render(doc);
        } catch (const jinja::TemplateError& e) {
          fail("task {}: description: {}", name, e.what());
        }
      };
    }
  }
  for (const char* key : {"tag", "group"}) {
    const Value tags = json(key);
    if (!tags.is_null() && !tags.is_string() && !tags.is_array()) fail_at(*find(key), key, "must be a name or a list");
  }
  read_data(task);
  read_fields(task);
  if (task.output_type == OutputType::GenerateUntil) {
    read_generation(task);
    read_filters(task);
  } else {
    for (const char* key : {"generation_kwargs", "filter_list"})
      if (const Entry* entry = find(key)) fail_at(*entry, key, "only applies to output_type generate_until");
  }
  read_metrics(task);
  return task;
}

// ---------------------------------------------------------------- files

class Loader {
 public:
  TaskFileSet set;

  // A task config or a group config from a file's root mapping (or a group's inline entry).
  // Returns the names it defines (a task's name or a group's name).
  std::string load_config(Config own, const fs::path& file) {
    std::vector<fs::path> stack = {canonical_task_path(file)};
    std::set<std::string> files;
    Config config = resolve_includes(std::move(own), file, stack, files);
    for (const std::string& f : files) note_file(f);
    if (config.count("group") && config.count("task") && config.at("task").node.IsSequence())
      return load_group(config, file.string());
    if (!config.count("task")) {
      const std::string at = config.empty() ? file.string() + ":1" : where(config.begin()->second);
      fail("{}: neither a task config (`task: NAME`) nor a group config (`group: NAME` with a `task:` list)", at);
    }
    TaskSpec task = TaskBuilder(config, file.string()).build();
    // `group:` in a task config is lm-eval <= 0.4.2's spelling of `tag:` (0.4.3 on reads it as a tag).
    for (const char* key : {"tag", "group"}) {
      const Value tags = task.source_config.value(key, Value());
      for (const Value& tag : tags.is_array() ? tags : Value::array({tags}))
        if (tag.is_string()) add_to_collection(tag.get<std::string>(), false, task.name, file.string());
    }
    const std::string name = task.name;
    set.tasks.push_back(std::move(task));
    return name;
  }

  void load_file(const fs::path& file) {
    note_file(file.string());
    const YAML::Node root = load_yaml(file);
    if (!root.IsMap()) fail("{}:1: a task file must be a YAML mapping of config keys", file.string());
    set.roots.push_back(load_config(config_of_map(root, file.string()), file));
  }

 private:
  void note_file(const std::string& file) {
    if (std::find(set.files.begin(), set.files.end(), file) == set.files.end()) set.files.push_back(file);
  }

  void add_to_collection(const std::string& name, bool aggregated, const std::string& member, const std::string& file) {
    for (TaskCollection& collection : set.collections)
      if (collection.name == name) {
        collection.members.push_back(member);
        collection.aggregated = collection.aggregated || aggregated;
        return;
      }
    set.collections.push_back({name, aggregated, {member}, file, ""});
  }

  std::string load_group(const Config& config, const std::string& file) {
    static const std::set<std::string> kGroupKeys = {"group", "group_alias", "task", "aggregate_metric_list",
                                                     "metadata"};
    for (const auto& [key, entry] : config)
      if (!kGroupKeys.count(key))
        fail_at(entry, key,
                "unknown key in a group config (group, group_alias, task, aggregate_metric_list, metadata)");
    const Entry& group_entry = config.at("group");
    const std::string group = group_entry.node.Scalar();
    bool aggregated = false;
    if (const auto it = config.find("aggregate_metric_list"); it != config.end()) {
      const Entry& list = it->second;
      if (!list.node.IsSequence()) fail_at(list, "aggregate_metric_list", "must be a list");
      for (const auto& item : list.node) {
        const Value metric = to_json(item);
        const std::string at = where(list.file, item);
        if (!metric.is_object() || !metric.contains("metric"))
          fail("{}: aggregate_metric_list: each entry needs `metric: NAME`", at);
        for (const auto& [key, value] : metric.items()) {
          if (key == "metric" || key == "filter_list") continue;
          if (key == "aggregation" && value == "mean") continue;
          if (key == "weight_by_size" && value == true) continue;
          if (key == "weight_by_size")
            fail("{}: aggregate_metric_list: group scores here are means weighted by size; set weight_by_size: true",
                 at);
          fail("{}: aggregate_metric_list: {}: {} is not supported (aggregation: mean, weight_by_size: true)", at, key,
               value.dump());
        }
        if (!metric.contains("weight_by_size"))
          fail(
              "{}: aggregate_metric_list: lm-eval's default is an unweighted mean, which is not computed here; set "
              "weight_by_size: true",
              at);
      }
      aggregated = true;
    }
    const Entry& tasks = config.at("task");
    std::vector<std::string> members;
    for (const auto& item : tasks.node) {
      if (item.IsScalar()) {
        members.push_back(item.Scalar());
      } else if (item.IsMap()) {
        members.push_back(load_config(config_of_map(item, tasks.file), tasks.file));
      } else {
        fail("{}: task: each entry must be a task name or a task config", where(tasks.file, item));
      }
    }
    for (const std::string& member : members) add_to_collection(group, aggregated, member, file);
    if (members.empty()) fail_at(tasks, "task", "a group needs at least one task");
    if (const auto it = config.find("group_alias"); it != config.end()) {
      if (!it->second.node.IsScalar()) fail_at(it->second, "group_alias", "must be a string");
      for (TaskCollection& collection : set.collections)
        if (collection.name == group) collection.alias = it->second.node.Scalar();
    }
    return group;
  }
};

std::vector<fs::path> yaml_files_under(const fs::path& dir) {
  if (!fs::is_directory(dir)) fail("--include-path {}: no such folder", dir.string());
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

bool is_task_or_group(const fs::path& file) {
  const YAML::Node root = load_yaml(file);
  return root.IsMap() && (root["task"] || root["group"]);
}

// Aggregated groups nest (mmlu holds mmlu_stem, which holds the tag mmlu_stem_tasks): a task's
// TaskSpec::groups lists them innermost first, so they are taken in order of depth, whatever the order
// their files were read in (lm-eval's _mmlu.yaml sorts before _mmlu_stem.yaml).
std::vector<const TaskCollection*> innermost_first(const std::vector<TaskCollection>& collections) {
  std::map<std::string, const TaskCollection*> by_name;
  for (const TaskCollection& collection : collections) by_name[collection.name] = &collection;
  std::map<std::string, int> depth_of;
  std::function<int(const TaskCollection&, int)> depth = [&](const TaskCollection& collection, int guard) {
    if (guard > static_cast<int>(collections.size()))
      fail("{}: group {} contains itself", collection.file, collection.name);
    int deepest = 0;
    for (const std::string& member : collection.members)
      if (const auto it = by_name.find(member); it != by_name.end())
        deepest = std::max(deepest, depth(*it->second, guard + 1));
    return deepest + 1;
  };
  std::vector<const TaskCollection*> ordered;
  for (const TaskCollection& collection : collections) {
    depth_of[collection.name] = depth(collection, 0);
    ordered.push_back(&collection);
  }
  std::stable_sort(ordered.begin(), ordered.end(), [&](const TaskCollection* a, const TaskCollection* b) {
    return depth_of[a->name] < depth_of[b->name];
  });
  return ordered;
}

// The built-in task files, loaded once: their tasks with TaskSpec::groups set, and each group's and
// tag's tasks.
struct BuiltinTaskFileSet {
  std::vector<TaskSpec> tasks;  // in file order
  std::map<std::string, std::vector<std::string>> members;
  std::map<std::string, std::string> group_aliases;
};

BuiltinTaskFileSet load_builtin_task_files() {
  Loader loader;
  for (const BuiltinTaskFile& file : builtin_task_files()) {
    const fs::path path = fs::path(std::string(kBuiltinTaskRoot)) / std::string(file.path);
    if (is_task_or_group(path)) loader.load_file(path);
  }
  BuiltinTaskFileSet out;
  out.tasks = std::move(loader.set.tasks);
  std::function<void(const std::string&, std::vector<std::string>&)> expand = [&](const std::string& name,
                                                                                  std::vector<std::string>& tasks) {
    if (const auto it = out.members.find(name); it != out.members.end()) {
      tasks.insert(tasks.end(), it->second.begin(), it->second.end());
      return;
    }
    for (const TaskSpec& task : out.tasks)
      if (task.name == name) return tasks.push_back(name);
    fail("{}/: a group or tag names {}, which no built-in task file defines", kBuiltinTaskRoot, name);
  };
  for (const TaskCollection* collection : innermost_first(loader.set.collections)) {
    std::vector<std::string>& tasks = out.members[collection->name];
    for (const std::string& member : collection->members) expand(member, tasks);
    if (collection->aggregated)
      for (TaskSpec& task : out.tasks)
        if (std::find(tasks.begin(), tasks.end(), task.name) != tasks.end()) task.groups.push_back(collection->name);
    if (!collection->alias.empty()) out.group_aliases[collection->name] = collection->alias;
  }
  return out;
}

const BuiltinTaskFileSet& builtin_task_file_set() {
  static const BuiltinTaskFileSet set = load_builtin_task_files();
  return set;
}

}  // namespace

std::vector<TaskSpec> builtin_task_file_family(const std::string& root) {
  const BuiltinTaskFileSet& set = builtin_task_file_set();
  std::vector<TaskSpec> family;
  const auto group = set.members.find(root);
  for (const TaskSpec& task : set.tasks)
    if (task.name == root || (group != set.members.end() &&
                              std::find(group->second.begin(), group->second.end(), task.name) != group->second.end()))
      family.push_back(task);
  if (family.empty()) fail("no built-in task file defines a task or group {} (tasks/)", root);
  return family;
}

const std::map<std::string, std::string>& builtin_group_aliases() { return builtin_task_file_set().group_aliases; }

const std::map<std::string, std::vector<std::string>>& builtin_task_file_collections() {
  return builtin_task_file_set().members;
}

TaskFileSet load_task_file(const fs::path& path) {
  Loader loader;
  loader.load_file(path);
  return std::move(loader.set);
}

TaskFileSet load_task_dir(const fs::path& dir) {
  Loader loader;
  for (const fs::path& file : yaml_files_under(dir))
    if (is_task_or_group(file)) loader.load_file(file);
  return std::move(loader.set);
}

// ---------------------------------------------------------------- registry

namespace {

const TaskSpec* builtin_named(const std::string& name) {  // the precedence notice
  for (const TaskSpec& task : builtin_tasks())
    if (task.name == name) return &task;
  return nullptr;
}

}  // namespace

void register_task_files(TaskFileSet set) {
  LoadedTasks& loaded = loaded_tasks();
  std::map<std::string, const TaskSpec*> added;
  std::set<std::string> already_loaded;  // the same file reached twice (--include-path and --task)
  for (TaskSpec& task : set.tasks) {
    bool seen = false;
    for (const TaskSpec& existing : loaded.tasks) {
      if (existing.name != task.name) continue;
      if (existing.source_file != task.source_file)
        fail("task {} is defined twice: in {} and in {}", task.name, existing.source_file, task.source_file);
      seen = true;
    }
    if (seen) {
      already_loaded.insert(task.name);
      continue;
    }
    if (builtin_named(task.name))
      std::cerr << fmt::format("notice: task {} from {} takes precedence over the built-in task of that name\n",
                               task.name, task.source_file);
    loaded.tasks.push_back(std::move(task));
    added[loaded.tasks.back().name] = &loaded.tasks.back();
  }
  // Groups, innermost first: a member that is itself a group contributes its members, each of which
  // then names the outer group too.
  std::map<std::string, const TaskCollection*> by_name;
  for (const TaskCollection& collection : set.collections) by_name[collection.name] = &collection;
  std::function<std::vector<std::string>(const TaskCollection&, std::vector<std::string>&)> expand;
  expand = [&](const TaskCollection& collection, std::vector<std::string>& seen) {
    if (std::find(seen.begin(), seen.end(), collection.name) != seen.end())
      fail("{}: group {} contains itself", collection.file, collection.name);
    seen.push_back(collection.name);
    std::vector<std::string> tasks;
    for (const std::string& member : collection.members) {
      if (const auto it = by_name.find(member); it != by_name.end()) {
        for (const std::string& name : expand(*it->second, seen)) tasks.push_back(name);
      } else {
        tasks.push_back(member);
      }
    }
    seen.pop_back();
    return tasks;
  };
  for (const TaskCollection* inner : innermost_first(set.collections)) {
    const TaskCollection& collection = *inner;
    const bool exists = loaded.collections.count(collection.name) > 0;
    if (exists && collection.aggregated)
      fail("{}: group {} is already defined by another task file", collection.file, collection.name);
    std::vector<std::string> seen;
    std::vector<const TaskSpec*> members =
        exists ? loaded.collections[collection.name] : std::vector<const TaskSpec*>{};
    for (const std::string& name : expand(collection, seen)) {
      if (already_loaded.count(name)) continue;
      std::vector<TaskSpec*> tasks;
      for (TaskSpec& candidate : loaded.tasks)
        if (candidate.name == name) tasks.push_back(&candidate);
      if (tasks.empty()) {
        // A built-in task, group or tag, or one an earlier task file defined: each of its tasks joins.
        std::vector<const TaskSpec*> resolved;
        try {
          resolved = resolve_tasks(name);
        } catch (const Error&) {
          fail("{}: group or tag {} names {}, which neither the task files nor the built-in tasks define",
               collection.file, collection.name, name);
        }
        for (const TaskSpec* task : resolved) {
          TaskSpec* own = nullptr;
          for (TaskSpec& candidate : loaded.tasks)
            if (&candidate == task) own = &candidate;
          for (TaskSpec& candidate : loaded.group_copies)
            if (&candidate == task) own = &candidate;
          if (!own) {  // a built-in task: the copy carries this group, the built-in stays as it is
            loaded.group_copies.push_back(*task);
            own = &loaded.group_copies.back();
          }
          tasks.push_back(own);
        }
      }
      for (TaskSpec* task : tasks) {
        if (collection.aggregated) task->groups.push_back(collection.name);
        members.push_back(task);
      }
    }
    loaded.collections[collection.name] = members;
    if (!collection.alias.empty()) loaded.group_aliases[collection.name] = collection.alias;
  }
}

void clear_registered_task_files() {
  LoadedTasks& loaded = loaded_tasks();
  loaded.tasks.clear();
  loaded.group_copies.clear();
  loaded.collections.clear();
  loaded.group_aliases.clear();
}

}  // namespace gemma::evals
