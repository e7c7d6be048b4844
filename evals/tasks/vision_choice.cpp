// Choice-style vision benchmarks (the lmms-eval task configs lmms_eval/tasks/@75571cfe; the ReMI paper; big_vision
// configs/proj/paligemma/transfers/tallyqa.py (HEAD); the SpatialSense paper), lmms-eval's / big_vision's protocols:
// zero-shot generate_until, every image before the text (kImageMarker per image), an answer-extraction step, accuracy.
// This file: AI2D (lmms-eval lmms_eval/tasks/ai2d/{ai2d.yaml,utils.py}@75571cfe), RealWorldQA (lmms-eval
// lmms_eval/tasks/realworldqa/*@75571cfe), BLINK (lmms-eval lmms_eval/tasks/blink/*@75571cfe) and the list of all of
// them; MMMU is in vision_choice_mmmu.cpp, TallyQA / CountBenchQA in vision_choice_count.cpp, SpatialSense / ReMI in
// vision_choice_spatial.cpp.
//
// Data. AI2D, RealWorldQA and BLINK are published on the HF hub as parquet only (images embedded),
// which this build cannot read. Each is read from a JSONL export, one row per doc with the HF
// columns and each image column replaced by the image's file name relative to the task folder:
//   ai2d/test.jsonl          {"question", "options": [..], "answer": "1" (index), "image": "images/x.png"}
//   realworldqa/test.jsonl   {"question", "answer", "image"}
//   blink/<Config>/val.jsonl {"idx", "prompt", "choices": [..], "answer": "(A)", "sub_task",
//                             "image_1".."image_4": file name or null}
#include "common/python_text.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/vision_rows.h"

namespace gemma::evals::tasks {

namespace {

using vision::image_markers;
using vision::jsonl_image;

// Images of a doc: the "images" array of relative paths, under data_dir/<folder>.
auto images_in(std::string folder) {
  return [folder = std::move(folder)](const Doc& doc, const std::filesystem::path& data_dir) {
    return vision::images_under(doc, data_dir / folder);
  };
}

// The registry entry `key` (scorers/choice_answer.h), with the reference implementation it follows
// recorded as the variant.
MetricSpec scored(const std::string& key, std::string variant) {
  MetricSpec metric = registry_metric(key);
  metric.variant = std::move(variant);
  return metric;
}

// ---- AI2D (lmms-eval tasks/ai2d, prompt_format mcq) ----

Doc ai2d_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["question"] = string_field(row, "question", at);
  const std::vector<std::string> options = string_list_field(row, "options", at);
  if (options.empty() || options.size() > 26) fail_field(at, "options", "expected 1 to 26 options");
  doc["options"] = options;
  const long long answer = integer_like_field(row, "answer", at);
  if (answer < 0 || static_cast<size_t>(answer) >= options.size())
    fail_field(at, "answer", fmt::format("index {} but {} options", answer, options.size()));
  doc["answer"] = answer;
  doc["images"] = {jsonl_image(row, "image", at)};
  return doc;
}

TaskSpec ai2d_task() {
  TaskSpec t = new_task("ai2d", 0, OutputType::GenerateUntil, 0);
  t.load_eval = [](const std::filesystem::path& dir) {
    return jsonl_split("test", dir / "ai2d" / "test.jsonl", ai2d_doc);
  };
  t.doc_to_images = images_in("ai2d");
  t.doc_to_text = [](const Doc& doc) {
    return image_markers(1) + doc.at("question").get<std::string>() + "\n" +
           vision::lettered_options(doc.at("options").get<std::vector<std::string>>()) +
           "\nAnswer with the option's letter from the given choices directly.";
  };
  t.doc_to_references = [](const Doc& doc) {
    return std::vector<std::string>{vision::option_letter(doc.at("answer").get<size_t>())};
  };
  t.until = {};  // lmms-eval's default "\n\n" is dropped by its gemma3 model: EOS only
  t.max_gen_toks = 16;
  // lmms-eval ai2d's letter extraction, then exact_match ignoring case and punctuation (scorers/choice_answer.h).
  t.metrics = {scored("exact_match:lmms_ai2d",
                      "lmms-eval ai2d: ^\\s*([A-Z])\\. else the raw response; exact_match icase/ipunct")};
  return t;
}

// ---- RealWorldQA (lmms-eval tasks/realworldqa + _task_utils/mcq_extract.py) ----

Doc realworldqa_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["question"] = string_field(row, "question", at);
  doc["answer"] = string_field(row, "answer", at);
  doc["images"] = {jsonl_image(row, "image", at)};
  return doc;
}

TaskSpec realworldqa_task() {
  TaskSpec t = new_task("realworldqa", 0, OutputType::GenerateUntil, 0);
  t.load_eval = [](const std::filesystem::path& dir) {
    return jsonl_split("test", dir / "realworldqa" / "test.jsonl", realworldqa_doc);
  };
  t.doc_to_images = images_in("realworldqa");
  // The question already holds the options and the answer instruction; post_prompt is "".
  t.doc_to_text = [](const Doc& doc) { return image_markers(1) + python_strip(doc.at("question").get<std::string>()); };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("answer").get<std::string>()}; };
  t.until = {};
  t.max_gen_toks = 16;
  t.metrics = {scored("exact_match:lmms_realworldqa",
                      "lmms-eval realworldqa: letter GT -> extract_mcq_answer (mcq_extract.py @c228e273) == GT; "
                      "else pred.lower().strip().rstrip('.') == GT.lower()")};
  return t;
}

// ---- BLINK (lmms-eval tasks/blink, 14 subtasks, group blink) ----

struct BlinkConfig {
  const char* task;    // lmms-eval task name
  const char* config;  // HF config = folder under data_dir/blink
};
constexpr BlinkConfig kBlinkConfigs[] = {
    {"blink_art_style", "Art_Style"},
    {"blink_counting", "Counting"},
    {"blink_forensic_detection", "Forensic_Detection"},
    {"blink_functional_correspondence", "Functional_Correspondence"},
    {"blink_iq_test", "IQ_Test"},
    {"blink_jigsaw", "Jigsaw"},
    {"blink_multi_view_reasoning", "Multi-view_Reasoning"},
    {"blink_object_localization", "Object_Localization"},
    {"blink_relative_depth", "Relative_Depth"},
    {"blink_relative_reflectance", "Relative_Reflectance"},
    {"blink_semantic_correspondence", "Semantic_Correspondence"},
    {"blink_spatial_relation", "Spatial_Relation"},
    {"blink_visual_correspondence", "Visual_Correspondence"},
    {"blink_visual_similarity", "Visual_Similarity"},
};

Doc blink_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  const Doc& idx = row.contains("idx") ? row.at("idx") : Doc();
  if (!idx.is_string() && !idx.is_number_integer()) fail_field(at, "idx", "missing, or not a string or integer");
  doc["idx"] = idx;
  doc["prompt"] = string_field(row, "prompt", at);
  const std::vector<std::string> choices = string_list_field(row, "choices", at);
  if (choices.empty()) fail_field(at, "choices", "no choices");
  doc["choices"] = choices;
  const std::string& answer = string_field(row, "answer", at);
  if (answer.size() != 3 || answer[0] != '(' || answer[2] != ')' || answer[1] < 'A' ||
      static_cast<size_t>(answer[1] - 'A') >= choices.size())
    fail_field(at, "answer",
               fmt::format("\"{}\": expected \"(A)\" .. naming one of {} choices", answer, choices.size()));
  doc["answer"] = answer;
  if (row.contains("sub_task")) doc["sub_task"] = string_field(row, "sub_task", at);
  // image_1..image_4 in order, null/absent ones skipped (blink_doc_to_visual).
  Doc images = Doc::array();
  for (const char* field : {"image_1", "image_2", "image_3", "image_4"})
    if (row.contains(field) && !row.at(field).is_null()) images.push_back(jsonl_image(row, field, at));
  if (images.empty()) fail_field(at, "image_1", "the row names no image");
  doc["images"] = std::move(images);
  return doc;
}

TaskSpec blink_task(const BlinkConfig& config) {
  TaskSpec t = new_task(config.task, 0, OutputType::GenerateUntil, 0);
  t.groups = {"blink"};  // group blink: micro accuracy = document-weighted mean over subtasks
  const std::string folder = std::string("blink/") + config.config;
  t.load_eval = [folder](const std::filesystem::path& dir) {
    return jsonl_split("val", dir / folder / "val.jsonl", blink_doc);
  };
  t.doc_to_images = images_in(folder);
  t.doc_to_text = [](const Doc& doc) {
    static const char* const kLabels[] = {"A", "B", "C", "D", "E"};  // options_labels[:n]: at most 5
    std::string labels;
    for (size_t i = 0; i < std::min<size_t>(doc.at("choices").size(), 5); ++i)
      labels += (i ? ", " : "") + std::string(kLabels[i]);
    return image_markers(doc.at("images").size()) + "Note: You only need to respond with " + labels +
           " without providing any additional information.\n" + doc.at("prompt").get<std::string>();
  };
  t.doc_to_references = [](const Doc& doc) {
    return std::vector<std::string>{doc.at("answer").get<std::string>().substr(1, 1)};  // answer.strip("()")
  };
  t.until = {};
  t.max_gen_toks = 1024;
  // _extract_answer_letter: re.match(r"[\(\s]*([A-Z])[\)\.\s]*", text.strip(), re.I) -> upper, else "".
  using Kind = FilterStep::Kind;
  t.filters = {{"flexible-extract",
                {{Kind::Regex, R"((?i)^[\(\s]*([A-Z]))", 0, "[invalid]"}, {Kind::TakeFirst, "", 0, "[invalid]"}}}};
  t.metrics = {scored("blink_acc", "lmms-eval blink: leading letter (case-insensitive) == answer.strip('()')")};
  return t;
}

std::vector<TaskSpec> blink_tasks() {
  std::vector<TaskSpec> tasks;
  for (const BlinkConfig& config : kBlinkConfigs) tasks.push_back(blink_task(config));
  return tasks;
}

}  // namespace

const TaskRegistration kAi2dRegistration{3500, &ai2d_task};
const TaskRegistration kRealworldqaRegistration{3700, &realworldqa_task};
const TaskRegistration kBlinkRegistration{3900, &blink_tasks};

}  // namespace gemma::evals::tasks
