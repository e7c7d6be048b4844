// Counting benchmarks: TallyQA (big_vision's PaliGemma transfer, configs/proj/paligemma/transfers/tallyqa.py, HEAD)
// and CountBenchQA (lmms-eval `countbenchqa`, lmms_eval/tasks/countbenchqa/@75571cfe, and big_vision's protocol as
// `countbenchqa_bv`).
//
// Data, in the published layouts:
//   tallyqa/test.json        the TallyQA release's test file: a JSON array of {image (path under
//                            tallyqa/, e.g. "VG_100K_2/1.jpg"), answer (int), question, question_id,
//                            issimple, ...}; the images under tallyqa/ as the release's paths name them.
//   countbenchqa/CountBench.json + countbenchqa/countbench_paired_questions.json  (CountBench's
//                            540 {image_url, text, number} and big_vision's paired questions, joined
//                            row by row as big_vision's builder does). CountBench publishes only image
//                            URLs: the downloaded images go in countbenchqa/images/<row>.jpg (row =
//                            0-based position; .jpeg/.png/.webp also found). About 10% of the URLs are
//                            dead (big_vision keeps 491 of 540): --skip-bad-samples leaves those out.
#include <map>

#include "common/python_text.h"
#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/rows.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/vision_rows.h"

namespace gemma::evals::tasks {

namespace {

using vision::JsonRowAt;

using vision::row_at;

// The registry entry `key` (scorers/count_answer.h), with the protocol it follows recorded as the variant.
MetricSpec acc_metric(const std::string& key, std::string variant) {
  MetricSpec metric = registry_metric(key);
  metric.variant = std::move(variant);
  return metric;
}

// ---- TallyQA ----

DocSplit load_tallyqa(const std::filesystem::path& dir, bool simple) {
  vision::JsonFile file = vision::read_json_file(dir / "tallyqa" / "test.json");
  const Doc& rows = vision::json_array(file, "");
  std::vector<Doc> docs;
  for (size_t i = 0; i < rows.size(); ++i) {
    JsonRowAt at = row_at(file.info.path, "", i);
    const Doc& row = rows[i];
    at.id = "question_id " + vision::row_id(row, "question_id", at);
    const Doc& issimple = vision::row_value(row, "issimple", at);
    if (!issimple.is_boolean())
      vision::fail_row(at, "issimple", fmt::format("expected true or false, got {}", issimple.dump()));
    if (issimple.get<bool>() != simple) continue;
    const Doc& answer = vision::row_value(row, "answer", at);
    if (!answer.is_number_integer() || answer.get<long long>() < 0)
      vision::fail_row(at, "answer", fmt::format("expected a count (integer >= 0), got {}", answer.dump()));
    Doc doc;
    doc["question_id"] = vision::row_id(row, "question_id", at);
    doc["question"] = vision::row_string(row, "question", at);
    doc["answer"] = std::to_string(answer.get<long long>());
    doc["issimple"] = simple;
    doc["images"] = {vision::relative_image(vision::row_string(row, "image", at), "image", at)};
    docs.push_back(std::move(doc));
  }
  file.info.rows = rows.size();
  return vision::make_split("test", std::move(docs), {file.info});
}

TaskSpec tallyqa_task(bool simple) {
  TaskSpec t = new_task(simple ? "tallyqa_simple" : "tallyqa_complex", 0, OutputType::GenerateUntil, 0);
  t.groups = {"tallyqa"};  // document-weighted mean over both = big_vision's overall acc
  t.load_eval = [simple](const std::filesystem::path& dir) { return load_tallyqa(dir, simple); };
  t.doc_to_images = [](const Doc& doc, const std::filesystem::path& data_dir) {
    return vision::images_under(doc, data_dir / "tallyqa");
  };
  t.doc_to_text = [](const Doc& doc) {
    return vision::image_markers(1) + "answer en " + doc.at("question").get<std::string>();
  };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("answer").get<std::string>()}; };
  t.until = {};
  t.max_gen_toks = 32;
  t.metrics = {acc_metric("acc:big_vision_tallyqa",
                          "big_vision tallyqa: number_word_to_numeral(pred) == number_word_to_numeral(gt), no strip")};
  return t;
}

// ---- CountBenchQA ----

DocSplit load_countbench(const std::filesystem::path& dir) {
  vision::JsonFile bench = vision::read_json_file(dir / "countbenchqa" / "CountBench.json");
  vision::JsonFile questions = vision::read_json_file(dir / "countbenchqa" / "countbench_paired_questions.json");
  const Doc& rows = vision::json_array(bench, "");
  const Doc& question_rows = vision::json_array(questions, "");
  if (rows.size() != question_rows.size())
    fail("{} has {} rows but {} has {}; row i of one must pair with row i of the other", bench.info.path, rows.size(),
         questions.info.path, question_rows.size());
  std::vector<Doc> docs;
  for (size_t i = 0; i < rows.size(); ++i) {
    const JsonRowAt at = row_at(bench.info.path, "", i);
    const JsonRowAt question_at = row_at(questions.info.path, "", i);
    const Doc& number = vision::row_value(rows[i], "number", at);
    if (!number.is_number_integer() || number.get<long long>() < 0)
      vision::fail_row(at, "number", fmt::format("expected a count (integer >= 0), got {}", number.dump()));
    Doc doc;
    doc["row"] = i;
    doc["question"] = vision::row_string(question_rows[i], "question", question_at);
    doc["text"] = vision::row_string(rows[i], "text", at);
    doc["number"] = number.get<long long>();
    doc["image_url"] = vision::row_string(rows[i], "image_url", at);
    docs.push_back(std::move(doc));
  }
  bench.info.rows = questions.info.rows = rows.size();
  return vision::make_split("test", std::move(docs), {bench.info, questions.info});
}

// countbenchqa/images/<row>.<ext>: the first extension present, else the .jpg name (reported missing).
std::vector<std::string> countbench_image(const Doc& doc, const std::filesystem::path& data_dir) {
  const std::filesystem::path base = data_dir / "countbenchqa" / "images" / std::to_string(doc.at("row").get<size_t>());
  for (const char* ext : {".jpg", ".jpeg", ".png", ".webp"}) {
    std::filesystem::path candidate = base;
    candidate += ext;
    if (std::filesystem::is_regular_file(candidate)) return {candidate.string()};
  }
  std::filesystem::path missing = base;
  missing += ".jpg";
  return {missing.string()};
}

TaskSpec countbench_base(const char* name) {
  TaskSpec t = new_task(name, 0, OutputType::GenerateUntil, 0);
  t.load_eval = load_countbench;
  t.doc_to_images = countbench_image;
  t.doc_to_references = [](const Doc& doc) {
    return std::vector<std::string>{std::to_string(doc.at("number").get<long long>())};
  };
  t.until = {};
  t.max_gen_toks = 32;
  return t;
}

// lmms-eval countbenchqa: the LAION caption (which often states the count) is prepended when present.
TaskSpec countbenchqa_task() {
  TaskSpec t = countbench_base("countbenchqa");
  t.doc_to_text = [](const Doc& doc) {
    std::string question = doc.at("question").get<std::string>();
    const std::string& text = doc.at("text").get_ref<const std::string&>();
    if (!text.empty()) question = text + "\n\n" + question;
    return vision::image_markers(1) + question + "\nAnswer with a single number.";
  };
  t.metrics = {acc_metric("acc:lmms_countbenchqa", "lmms-eval countbenchqa: pred.strip() == str(number)")};
  return t;
}

// big_vision's protocol (big_vision datasets/countbenchqa, HEAD): no caption, PaliGemma prefix, number words.
TaskSpec countbenchqa_bv_task() {
  TaskSpec t = countbench_base("countbenchqa_bv");
  t.doc_to_text = [](const Doc& doc) {
    return vision::image_markers(1) + "answer en " + doc.at("question").get<std::string>();
  };
  t.metrics = {acc_metric(
      "acc:big_vision_countbenchqa",
      "big_vision countbenchqa (tallyqa evaluator) + strip: number_word_to_numeral(pred.strip()) == str(number)")};
  return t;
}

std::vector<TaskSpec> counting_tasks() {
  std::vector<TaskSpec> tasks;
  tasks.push_back(tallyqa_task(true));
  tasks.push_back(tallyqa_task(false));
  tasks.push_back(countbenchqa_task());
  tasks.push_back(countbenchqa_bv_task());
  return tasks;
}

}  // namespace

const TaskRegistration kCountingRegistration{3800, &counting_tasks};

}  // namespace gemma::evals::tasks
