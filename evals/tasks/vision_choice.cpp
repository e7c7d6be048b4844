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
#include <array>
#include <cctype>
#include <memory>
#include <tuple>

#include "common/python_text.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/vision_rows.h"
#include "scorers/exact_match.h"

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

// A metric computed by the adapter's own extraction + comparison (`score`), with the reference
// implementation it follows recorded as the variant.
MetricSpec scored(std::string name, std::string variant,
                  std::function<double(const std::string&, const std::vector<std::string>&)> score) {
  MetricSpec metric;
  metric.name = std::move(name);
  metric.score = std::move(score);
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

// lmms-eval's AI2D filter (lmms_eval/tasks/ai2d/utils.py@75571cfe): a response starting "<spaces><capital letter>."
// gives that letter, any other response is kept whole; then exact_match ignoring case and punctuation.
std::string ai2d_extract(const std::string& response) {
  size_t i = 0;
  while (i < response.size() && (response[i] == ' ' || (response[i] >= '\t' && response[i] <= '\r'))) ++i;
  if (i + 1 < response.size() && response[i] >= 'A' && response[i] <= 'Z' && response[i + 1] == '.')
    return response.substr(i, 1);
  return response;
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
  ExactMatchOptions options;
  options.ignore_case = true;
  options.ignore_punctuation = true;
  t.metrics = {scored("exact_match", "lmms-eval ai2d: ^\\s*([A-Z])\\. else the raw response; exact_match icase/ipunct",
                      [em = std::make_shared<scorers::ExactMatch>(options)](const std::string& prediction,
                                                                            const std::vector<std::string>& refs) {
                        return em->score(ai2d_extract(prediction), refs);
                      })};
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

// Python's str.strip(c) for one character: every leading and trailing c removed.
std::string strip_char(std::string text, char c) {
  const size_t begin = text.find_first_not_of(c);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(c) - begin + 1);
}

bool is_alpha_byte(char c) {  // str.isalpha() for one code point; non-ASCII counted as a letter
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

// lmms-eval's extract_mcq_answer (mcq_extract.py @c228e273) with the default choices A-H: every
// letter found in some format is a candidate; the highest-priority format wins (start 10, end 9,
// answer phrase 7, "(A)" 6, "A." 5, "A:" 4, "A)" 3, "A " 2, any occurrence 0 only when nothing else
// matched), then the later position. "" when no letter occurs.
std::string extract_mcq_answer(const std::string& response) {
  std::string text = python_strip(response);
  if (text.empty()) return "";
  for (char c : {',', '.', '!', '?', ';', ':', '\'', '"'}) text = strip_char(text, c);
  text = " " + text + " ";
  const std::string lower = python_lower(text);  // ASCII positions line up with `text`
  struct Candidate {
    char letter;
    size_t position;
    int priority;
  };
  std::vector<Candidate> candidates;
  const std::string letters = "ABCDEFGH";
  const std::array<std::pair<std::string, int>, 5> formats = {{{"(X)", 6}, {"X.", 5}, {"X:", 4}, {"X)", 3}, {"X ", 2}}};
  for (const auto& [format, priority] : formats)
    for (char letter : letters) {
      std::string needle = format;
      needle[needle.find('X')] = letter;
      const size_t at = text.rfind(needle);
      if (at != std::string::npos) candidates.push_back({letter, at, priority});
    }
  static const char* const kPhrases[] = {"the answer is",
                                         "answer is",
                                         "the correct answer is",
                                         "correct answer is",
                                         "the best answer is",
                                         "best answer is",
                                         "the correct option is",
                                         "correct option is",
                                         "the best option is",
                                         "best option is",
                                         "the choice is",
                                         "choice is",
                                         "the correct choice is",
                                         "correct choice is",
                                         "i choose",
                                         "i select",
                                         "i pick",
                                         "my answer is",
                                         "my choice is",
                                         "옵션",
                                         "정답은",
                                         "답은",
                                         "답:",
                                         "答案是",
                                         "答案为",
                                         "选",
                                         "答えは"};
  for (const char* phrase : kPhrases) {
    const size_t at = lower.find(phrase);
    if (at == std::string::npos) continue;
    for (char letter : letters) {
      const size_t found = text.find(letter, at + std::string_view(phrase).size());
      if (found != std::string::npos) candidates.push_back({letter, found, 7});
    }
  }
  const std::string stripped = python_strip(text);
  for (char letter : letters) {
    if (!stripped.empty() && stripped.front() == letter && (stripped.size() == 1 || !is_alpha_byte(stripped[1])))
      candidates.push_back({letter, 0, 10});
    if (!stripped.empty() && stripped.back() == letter &&
        (stripped.size() == 1 || !is_alpha_byte(stripped[stripped.size() - 2])))
      candidates.push_back({letter, text.size() - 1, 9});
  }
  if (candidates.empty())
    for (char letter : letters) {
      const size_t at = text.rfind(letter);
      if (at != std::string::npos) candidates.push_back({letter, at, 0});
    }
  if (candidates.empty()) return "";
  // sorted(key=(priority, position), reverse=True)[0]: the first of the maximal keys.
  const Candidate* best = &candidates.front();
  for (const Candidate& c : candidates)
    if (std::tie(c.priority, c.position) > std::tie(best->priority, best->position)) best = &c;
  return std::string(1, best->letter);
}

double realworldqa_score(const std::string& prediction, const std::vector<std::string>& refs) {
  const std::string& gold = refs.at(0);
  if (gold == "A" || gold == "B" || gold == "C" || gold == "D")
    return extract_mcq_answer(prediction) == gold ? 1.0 : 0.0;
  std::string pred = python_strip(python_lower(prediction));
  while (!pred.empty() && pred.back() == '.') pred.pop_back();
  return pred == python_strip(python_lower(gold)) ? 1.0 : 0.0;
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
  t.metrics = {scored("exact_match",
                      "lmms-eval realworldqa: letter GT -> extract_mcq_answer (mcq_extract.py @c228e273) == GT; "
                      "else pred.lower().strip().rstrip('.') == GT.lower()",
                      realworldqa_score)};
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
  t.metrics = {scored("blink_acc", "lmms-eval blink: leading letter (case-insensitive) == answer.strip('()')",
                      [](const std::string& prediction, const std::vector<std::string>& refs) {
                        return prediction.size() == 1 &&
                                       std::toupper(static_cast<unsigned char>(prediction[0])) == refs.at(0)[0]
                                   ? 1.0
                                   : 0.0;
                      })};
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
