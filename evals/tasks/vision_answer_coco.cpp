// COCO Captions as lmms-eval's coco2017_cap_val runs it (lmms-eval
// lmms_eval/tasks/coco_cap/{coco2017_cap_val.yaml,utils.py}@75571cfe; pycocoevalcap cider/cider_scorer.py (HEAD)):
// zero-shot, the image before "Provide a one-sentence caption for the provided image.", 64 new tokens; corpus CIDEr-D
// and BLEU-4 after pycocoevalcap's PTB tokenisation of all references (one stream) and all candidates (another). Data:
// the published annotations, data_dir/coco/annotations/captions_val2017.json ({"images": [{"id", "file_name"}],
// "annotations": [{"image_id", "caption"}]}), images in val2017/; one doc per image, in the order of "images",
// references in annotation order.
#include <map>

#include "evals/registry_metric.h"
#include "evals/task_registry.h"
#include "evals/tasks/task_helpers.h"
#include "evals/tasks/vision_rows.h"

namespace gemma::evals::tasks {
namespace {

using namespace vision;
namespace fs = std::filesystem;

DocSplit load_coco_captions(const fs::path& dir) {
  JsonFile file = read_json_file(dir / "coco" / "annotations" / "captions_val2017.json");
  std::map<std::string, std::vector<std::string>> captions_of;
  JsonRowAt at{file.info.path, "annotations"};
  for (const Doc& row : json_array(file, "annotations")) {
    at.id.clear();
    const std::string image_id = row_id(row, "image_id", at);
    at.id = "image_id " + image_id;
    captions_of[image_id].push_back(row_string(row, "caption", at));
    ++at.index;
  }
  std::vector<Doc> docs;
  at = JsonRowAt{file.info.path, "images"};
  for (const Doc& row : json_array(file, "images")) {
    at.id.clear();
    const std::string image_id = row_id(row, "id", at);
    at.id = "id " + image_id;
    const auto captions = captions_of.find(image_id);
    if (captions == captions_of.end()) fail_row(at, "id", "no caption in \"annotations\" names this image");
    Doc doc;
    doc["image_id"] = image_id;
    doc["answers"] = captions->second;
    doc["image"] = relative_image("val2017/" + row_string(row, "file_name", at), "file_name", at);
    docs.push_back(std::move(doc));
    ++at.index;
  }
  file.info.rows = docs.size();
  return make_split("val", std::move(docs), {std::move(file.info)});
}

TaskSpec coco2017_cap_val_task() {
  TaskSpec t = single_image_task("coco2017_cap_val", 0, "coco");
  t.load_eval = load_coco_captions;
  t.doc_to_text = [](const Doc&) { return image_first("Provide a one-sentence caption for the provided image."); };
  t.until = {};
  t.max_gen_toks = 64;
  // lmms-eval's coco_CIDEr and coco_Bleu_4 (pycocoevalcap values, not x100).
  // The registry's cider:ptb and bleu:ptb (PTB-tokenised as pycocoevalcap does), as `score --metric`.
  t.metrics = {registry_metric("cider:ptb"), registry_metric("bleu:ptb")};
  return t;
}

}  // namespace

const TaskRegistration kCoco2017CapValRegistration{2800, &coco2017_cap_val_task};

}  // namespace gemma::evals::tasks
