// MMMU validation (lmms-eval lmms_eval/tasks/_task_utils/mmmu_mcq_utils.py@75571cfe; lmms-eval tasks/mmmu/utils.py, the
// official MMMU eval_utils): task `mmmu_val`, 900 questions, multiple-choice or open, up to 7 images each.
//
// Data: MMMU is published on the HF hub as parquet only (MMMU/MMMU, lmms-lab/MMMU), which this build
// cannot read. It is read from a JSONL export, data_dir/mmmu/validation.jsonl, one row per question
// with the HF columns {id, question, options, answer, question_type, image_1..image_7}: `options`
// as in the release (the string repr of a Python list, or a JSON array), each image column the
// image's file name relative to data_dir/mmmu (null where the question has no such image).
//
// Scoring (scorers/mmmu.h) needs the options, so for multiple-choice docs doc_to_references gives
// {answer, option text A, option text B, ...}; open docs give {answer}.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include "common/python_text.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/vision_rows.h"
#include "scorers/mmmu.h"

namespace gemma::evals::tasks {
namespace {

constexpr const char* kMultipleChoicePrompt = "Answer with the option's letter from the given choices directly.";
constexpr const char* kOpenPrompt = "Answer the question using a single word or phrase.";

// ast.literal_eval of a list of string literals ("['a', \"b\"]"); nullopt for anything else.
std::optional<std::vector<std::string>> python_string_list(std::string_view text) {
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  std::vector<std::string> items;
  skip();
  if (i >= text.size() || text[i++] != '[') return std::nullopt;
  skip();
  if (i < text.size() && text[i] == ']') {
    ++i;
    skip();
    if (i != text.size()) return std::nullopt;
    return items;
  }
  while (true) {
    skip();
    if (i >= text.size() || (text[i] != '\'' && text[i] != '"')) return std::nullopt;
    const char quote = text[i++];
    std::string item;
    while (true) {
      if (i >= text.size() || text[i] == '\n') return std::nullopt;
      const char c = text[i++];
      if (c == quote) break;
      if (c != '\\') {
        item += c;
        continue;
      }
      if (i >= text.size()) return std::nullopt;
      const char e = text[i++];
      switch (e) {
        case 'n':
          item += '\n';
          break;
        case 't':
          item += '\t';
          break;
        case 'r':
          item += '\r';
          break;
        case '\\':
        case '\'':
        case '"':
          item += e;
          break;
        case '\n':
          break;  // line continuation
        default:
          item += '\\';
          item += e;  // Python keeps unknown escapes as written
      }
    }
    items.push_back(std::move(item));
    skip();
    if (i < text.size() && text[i] == ',') {
      ++i;
      skip();
      if (i < text.size() && text[i] == ']') {
        ++i;
        break;
      }
      continue;
    }
    if (i < text.size() && text[i] == ']') {
      ++i;
      break;
    }
    return std::nullopt;
  }
  skip();
  if (i != text.size()) return std::nullopt;
  return items;
}

// construct_prompt: the question, then (multiple choice) the lettered options, then the instruction.
std::string mmmu_prompt_text(const Doc& doc) {
  const std::string& question = doc.at("question").get_ref<const std::string&>();
  if (doc.at("question_type") == "multiple-choice")
    return question + "\n" + vision::lettered_options(doc.at("options").get<std::vector<std::string>>()) + "\n\n" +
           kMultipleChoicePrompt;
  return question + "\n\n" + kOpenPrompt;
}

// mmmu_doc_to_visual: the "<image k>" tags of the prompt, unique, sorted as strings ("image_k").
std::vector<std::string> referenced_image_fields(const std::string& prompt) {
  std::set<std::string> fields;
  for (size_t at = prompt.find("<image "); at != std::string::npos; at = prompt.find("<image ", at + 1)) {
    size_t end = at + 7;
    while (end < prompt.size() && std::isdigit(static_cast<unsigned char>(prompt[end]))) ++end;
    if (end > at + 7 && end < prompt.size() && prompt[end] == '>')
      fields.insert("image_" + prompt.substr(at + 7, end - at - 7));
  }
  return {fields.begin(), fields.end()};
}

Doc mmmu_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["id"] = string_field(row, "id", at);
  doc["question"] = string_field(row, "question", at);
  const std::string& type = string_field(row, "question_type", at);
  if (type != "multiple-choice" && type != "open")
    fail_field(at, "question_type", fmt::format("\"{}\": expected \"multiple-choice\" or \"open\"", type));
  doc["question_type"] = type;
  doc["answer"] = string_field(row, "answer", at);
  std::vector<std::string> options;
  if (type == "multiple-choice") {
    const auto it = row.find("options");
    if (it == row.end()) fail_field(at, "options", "missing");
    if (it->is_array()) {
      options = string_list_field(row, "options", at);
    } else if (it->is_string()) {
      auto parsed = python_string_list(it->get<std::string>());
      if (!parsed) fail_field(at, "options", "not a Python list of strings");
      options = std::move(*parsed);
    } else {
      fail_field(at, "options", fmt::format("expected a string or an array, got {}", it->type_name()));
    }
    if (options.empty() || options.size() > 26) fail_field(at, "options", "expected 1 to 26 options");
  }
  doc["options"] = options;
  Doc images = Doc::array();
  for (const std::string& field : referenced_image_fields(mmmu_prompt_text(doc))) {
    if (!row.contains(field) || row.at(field).is_null())
      fail_field(at, field, "the question refers to this image but the row has none");
    images.push_back(vision::jsonl_image(row, field.c_str(), at));
  }
  doc["images"] = std::move(images);
  return doc;
}

TaskSpec mmmu_val_task() {
  TaskSpec t = new_task("mmmu_val", 0, OutputType::GenerateUntil, 0);
  t.load_eval = [](const std::filesystem::path& dir) {
    return jsonl_split("validation", dir / "mmmu" / "validation.jsonl", mmmu_doc);
  };
  t.doc_to_images = [](const Doc& doc, const std::filesystem::path& data_dir) {
    return vision::images_under(doc, data_dir / "mmmu");
  };
  // Not interleaved (lmms-eval's default): the "<image k>" tags stay in the text, the images go first.
  t.doc_to_text = [](const Doc& doc) { return vision::image_markers(doc.at("images").size()) + mmmu_prompt_text(doc); };
  t.doc_to_references = [](const Doc& doc) {
    std::vector<std::string> refs{doc.at("answer").get<std::string>()};
    if (doc.at("question_type") == "multiple-choice")
      for (const Doc& option : doc.at("options")) refs.push_back(option.get<std::string>());
    return refs;
  };
  t.until = {};
  t.max_gen_toks = 128;
  // The registry's mmmu. The references hold {answer} (open) or {answer, option A, option B, ...}
  // (multiple choice), so that `rescore` has the options without the dataset.
  MetricSpec acc = registry_metric("mmmu", "mmmu_acc");
  acc.variant =
      "lmms-eval mmmu (official MMMU parse_multi_choice_response / parse_open_response / eval_open); "
      "a multiple-choice response with no parsable letter counts as wrong (no random.choice)";
  t.metrics = {acc};
  return t;
}

}  // namespace

const TaskRegistration kMmmuValRegistration{3600, &mmmu_val_task};

}  // namespace gemma::evals::tasks
