// SpatialSense VQA (the SpatialSense paper) and ReMI (the ReMI paper). Neither has an lm-eval / lmms-eval / big_vision
// config: both follow a best-effort reading of their papers ([inferred]) and
// are not directly comparable with the Gemma 3 card (docs/deviations.md).
//
// Data:
//   spatialsense/annotations.json  the SpatialSense release: a JSON array of images {url, split,
//        annotations: [{_id, subject: {name}, predicate, object: {name}, label (bool)}]}; one doc per
//        relation of the "test" split; its image is spatialsense/images/<flickr|nyu>/<basename(url)>
//        (flickr when the URL is a Flickr one, else nyu, as the release's images/ folder is split).
//   remi/test.jsonl  ReMI is published on the HF hub as parquet only; read from a JSONL export, one
//        row per question {task, question, answer (string or number), images: [file names relative
//        to remi/]}.
#include <cmath>

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

// The registry entry `key` (scorers/spatial_answer.h), with the protocol it follows recorded as the variant.
MetricSpec acc_metric(const std::string& key, std::string variant) {
  MetricSpec metric = registry_metric(key);
  metric.variant = std::move(variant);
  return metric;
}

// ---- SpatialSense ----

const std::string& named_object(const Doc& relation, const char* field, const JsonRowAt& at) {
  const Doc& object = vision::row_value(relation, field, at);
  return vision::row_string(object, "name", row_at(at.file, at.array, at.index, at.id + " " + field));
}

DocSplit load_spatialsense(const std::filesystem::path& dir) {
  vision::JsonFile file = vision::read_json_file(dir / "spatialsense" / "annotations.json");
  const Doc& images = vision::json_array(file, "");
  std::vector<Doc> docs;
  for (size_t i = 0; i < images.size(); ++i) {
    const JsonRowAt at = row_at(file.info.path, "", i);
    if (vision::row_string(images[i], "split", at) != "test") continue;
    const std::string& url = vision::row_string(images[i], "url", at);
    const std::string name = std::filesystem::path(url).filename().string();
    if (name.empty() || name == "." || name == "..")
      vision::fail_row(at, "url", fmt::format("\"{}\" names no image file", url));
    const std::string image =
        std::string(url.find("flickr") != std::string::npos ? "images/flickr/" : "images/nyu/") + name;
    const Doc& relations = vision::row_value(images[i], "annotations", at);
    if (!relations.is_array()) vision::fail_row(at, "annotations", "expected an array");
    for (size_t r = 0; r < relations.size(); ++r) {
      const JsonRowAt rel_at = row_at(file.info.path, fmt::format("[{}].annotations", i), r);
      const Doc& relation = relations[r];
      const Doc& label = vision::row_value(relation, "label", rel_at);
      if (!label.is_boolean())
        vision::fail_row(rel_at, "label", fmt::format("expected true or false, got {}", label.dump()));
      Doc doc;
      doc["subject"] = named_object(relation, "subject", rel_at);
      doc["predicate"] = vision::row_string(relation, "predicate", rel_at);
      doc["object"] = named_object(relation, "object", rel_at);
      doc["label"] = label.get<bool>() ? "yes" : "no";
      doc["images"] = {image};
      docs.push_back(std::move(doc));
    }
  }
  file.info.rows = images.size();
  return vision::make_split("test", std::move(docs), {file.info});
}

TaskSpec spatialsense_task() {
  TaskSpec t = new_task("spatialsense", 0, OutputType::GenerateUntil, 0);
  t.load_eval = load_spatialsense;
  t.doc_to_images = [](const Doc& doc, const std::filesystem::path& data_dir) {
    return vision::images_under(doc, data_dir / "spatialsense");
  };
  t.doc_to_text = [](const Doc& doc) {
    return vision::image_markers(1) + "Is the " + doc.at("subject").get<std::string>() + " " +
           doc.at("predicate").get<std::string>() + " the " + doc.at("object").get<std::string>() +
           "? Answer yes or no.";
  };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("label").get<std::string>()}; };
  t.until = {};
  t.max_gen_toks = 16;
  t.metrics = {acc_metric("acc:spatialsense",
                          "[inferred, no reference]: first word of the EvalAI-normalised response == yes/no label")};
  return t;
}

// ---- ReMI ----

Doc remi_doc(const Doc& row, const RowSource& at) {
  Doc doc;
  doc["task"] = string_field(row, "task", at);
  doc["question"] = string_field(row, "question", at);
  const auto answer = row.find("answer");
  if (answer == row.end()) fail_field(at, "answer", "missing");
  if (answer->is_string())
    doc["answer"] = answer->get<std::string>();
  else if (answer->is_number())
    doc["answer"] = answer->dump();
  else
    fail_field(at, "answer", fmt::format("expected a string or a number, got {}", answer->type_name()));
  const auto images = row.find("images");
  if (images == row.end() || !images->is_array() || images->empty())
    fail_field(at, "images", "missing or not a non-empty array of file names");
  Doc paths = Doc::array();
  for (size_t i = 0; i < images->size(); ++i) {
    Doc one;
    one["image"] = (*images)[i];
    paths.push_back(vision::jsonl_image(one, "image", RowSource{at.file, at.line}));
  }
  doc["images"] = std::move(paths);
  return doc;
}

TaskSpec remi_task() {
  TaskSpec t = new_task("remi", 0, OutputType::GenerateUntil, 0);
  t.load_eval = [](const std::filesystem::path& dir) {
    return jsonl_split("test", dir / "remi" / "test.jsonl", remi_doc);
  };
  t.doc_to_images = [](const Doc& doc, const std::filesystem::path& data_dir) {
    return vision::images_under(doc, data_dir / "remi");
  };
  t.doc_to_text = [](const Doc& doc) {
    return vision::image_markers(doc.at("images").size()) + doc.at("question").get<std::string>();
  };
  t.doc_to_references = [](const Doc& doc) { return std::vector<std::string>{doc.at("answer").get<std::string>()}; };
  t.until = {};
  t.max_gen_toks = 128;
  t.metrics = {acc_metric(
      "acc:remi", "[inferred, no reference]: EvalAI-normalised exact match; numeric answers within 1% relative")};
  return t;
}

std::vector<TaskSpec> spatial_tasks() {
  std::vector<TaskSpec> tasks;
  tasks.push_back(spatialsense_task());
  tasks.push_back(remi_task());
  return tasks;
}

}  // namespace

const TaskRegistration kSpatialRegistration{4000, &spatial_tasks};

}  // namespace gemma::evals::tasks
