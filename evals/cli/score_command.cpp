// gemma-eval score: offline scoring of predictions JSONL against references JSONL.
//
// --metric NAME[:VARIANT]. exact_match / em / acc are evals/offline_scoring's. The vision metrics
// are scored here with the scorers/ code:
//   anls      DocVQA / InfoVQA ANLS, variants lmms (default) | official          (scorers/anls.h)
//   vqa       VQA accuracy, variants lmms_vqav2 (default) | lmms_textvqa | lmms_okvqa | official
//                                                                                 (scorers/vqa_accuracy.h)
//   relaxed   ChartQA relaxed accuracy, variant lmms                             (scorers/relaxed_accuracy.h)
//   cider     COCO CIDEr-D, corpus-level, variants ptb (default: pycocoevalcap's PTB tokenisation
//             first) | tokenized (inputs already tokenised, split on whitespace)  (scorers/cider.h)
//   bleu      COCO BLEU-4 (pycocoevalcap's Bleu), corpus-level, variants ptb | tokenized
//                                                                                 (scorers/bleu.h)
// The output is one JSON line {"metric", "variant", "score", "n"} (bleu adds its components), so
// results can record which variant produced a number.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "datasets/jsonl.h"
#include "evals/cli/commands.h"
#include "evals/offline_scoring.h"
#include "scorers/anls.h"
#include "scorers/bleu.h"
#include "scorers/cider.h"
#include "scorers/ptb_tokenizer.h"
#include "scorers/relaxed_accuracy.h"
#include "scorers/vqa_accuracy.h"

namespace gemma::cli {
namespace {

namespace fs = std::filesystem;

struct VisionMetric {
  std::string name;                   // canonical
  std::vector<std::string> aliases;
  std::vector<std::string> variants;  // the first is the default
  bool corpus = false;
};

const std::vector<VisionMetric>& vision_metrics() {
  static const std::vector<VisionMetric> table = {
      {"anls", {}, {"lmms", "official"}, false},
      {"vqa", {"vqa_accuracy"}, {"lmms_vqav2", "lmms_textvqa", "lmms_okvqa", "official"}, false},
      {"relaxed", {"relaxed_accuracy"}, {scorers::kRelaxedAccuracyVariant}, false},
      {"cider", {"cider_d"}, {"ptb", "tokenized"}, true},
      {"bleu", {"bleu_4"}, {"ptb", "tokenized"}, true},
  };
  return table;
}

std::string known_metrics() {
  std::string known;
  for (const auto& name : evals::offline_metric_names()) known += (known.empty() ? "" : ", ") + name;
  for (const auto& metric : vision_metrics()) {
    known += ", " + metric.name + "[:" + metric.variants.front();
    for (size_t i = 1; i < metric.variants.size(); ++i) known += "|" + metric.variants[i];
    known += "]";
  }
  return known;
}

const VisionMetric* find_vision_metric(const std::string& name) {
  for (const auto& metric : vision_metrics()) {
    if (metric.name == name) return &metric;
    for (const auto& alias : metric.aliases)
      if (alias == name) return &metric;
  }
  return nullptr;
}

std::string id_of(const datasets::JsonlRecord& record, const fs::path& file) {
  const auto& v = record.value;
  if (!v.is_object() || !v.contains("id")) fail("{}:{}: missing field \"id\"", file.string(), record.line);
  const auto& id = v["id"];
  if (id.is_string()) return id.get<std::string>();
  if (id.is_number_integer()) return std::to_string(id.get<long long>());
  fail("{}:{}: field \"id\" must be a string or an integer", file.string(), record.line);
}

struct Item {
  std::string id;
  size_t line = 0;  // in the predictions file
  std::string prediction;
  std::vector<std::string> references;
};

// Pairs the two files by id, in the order of the predictions file. Every error names the file and
// line: bad JSON, a missing or ill-typed field, an empty reference list, a duplicate id, an id on
// one side only.
std::vector<Item> read_items(const fs::path& predictions, const fs::path& references) {
  std::map<std::string, std::pair<std::vector<std::string>, size_t>> refs;
  for (const auto& record : datasets::read_jsonl(references)) {
    std::string id = id_of(record, references);
    const auto& value = record.value;
    if (!value.contains("references") || !value["references"].is_array() || value["references"].empty())
      fail("{}:{}: id \"{}\": field \"references\" must be a non-empty array of strings", references.string(),
           record.line, id);
    std::vector<std::string> texts;
    for (const auto& r : value["references"]) {
      if (!r.is_string())
        fail("{}:{}: id \"{}\": every reference must be a string (found {})", references.string(), record.line, id,
             r.type_name());
      texts.push_back(r.get<std::string>());
    }
    if (!refs.emplace(id, std::make_pair(std::move(texts), record.line)).second)
      fail("{}:{}: duplicate id \"{}\"", references.string(), record.line, id);
  }

  std::vector<Item> items;
  std::map<std::string, size_t> seen;
  for (const auto& record : datasets::read_jsonl(predictions)) {
    std::string id = id_of(record, predictions);
    if (!seen.emplace(id, record.line).second)
      fail("{}:{}: duplicate id \"{}\"", predictions.string(), record.line, id);
    const auto& value = record.value;
    if (!value.contains("prediction")) fail("{}:{}: id \"{}\": missing field \"prediction\"", predictions.string(), record.line, id);
    if (!value["prediction"].is_string())
      fail("{}:{}: id \"{}\": field \"prediction\" must be a string (found {})", predictions.string(), record.line, id,
           value["prediction"].type_name());
    auto ref = refs.find(id);
    if (ref == refs.end())
      fail("{}:{}: id \"{}\" has no line in {}", predictions.string(), record.line, id, references.string());
    items.push_back({id, record.line, value["prediction"].get<std::string>(), ref->second.first});
  }
  for (const auto& [id, entry] : refs)
    if (!seen.count(id))
      fail("{}:{}: id \"{}\" has no prediction in {}", references.string(), entry.second, id, predictions.string());
  if (items.empty()) fail("{}: no predictions", predictions.string());
  return items;
}

// Scores one item, turning a scorer's error into one that names the item.
template <typename F>
double score_item(const Item& item, const fs::path& predictions, F&& scorer) {
  try {
    return scorer(item);
  } catch (const Error& e) {
    fail("{}:{}: id \"{}\": {}", predictions.string(), item.line, item.id, e.what());
  }
}

nlohmann::ordered_json score_vision(const VisionMetric& metric, const std::string& variant, const fs::path& predictions,
                                    const fs::path& references) {
  const std::vector<Item> items = read_items(predictions, references);
  nlohmann::ordered_json out = {{"metric", metric.name}, {"variant", variant}};
  double total = 0.0;
  if (metric.name == "anls") {
    const auto v = *scorers::parse_anls_variant(variant);
    for (const Item& item : items)
      total += score_item(item, predictions, [&](const Item& i) { return scorers::anls(i.prediction, i.references, v); });
  } else if (metric.name == "vqa") {
    const auto v = *scorers::parse_vqa_variant(variant);
    for (const Item& item : items)
      total += score_item(item, predictions, [&](const Item& i) { return scorers::vqa_accuracy(i.prediction, i.references, v); });
  } else if (metric.name == "relaxed") {
    for (const Item& item : items)
      total += score_item(item, predictions, [&](const Item& i) { return scorers::relaxed_accuracy(i.prediction, i.references); });
  }
  if (!metric.corpus) {
    out["score"] = total / static_cast<double>(items.size());
    out["n"] = items.size();
    return out;
  }

  // Corpus metrics: pycocoevalcap tokenises all references (one stream) and all candidates (another).
  std::vector<std::string> hypotheses;
  std::vector<std::vector<std::string>> refs;
  for (const Item& item : items) {
    hypotheses.push_back(item.prediction);
    refs.push_back(item.references);
  }
  if (variant == "ptb") {
    hypotheses = scorers::ptb_tokenize_captions(hypotheses);
    std::vector<std::string> flat;
    for (const auto& r : refs) flat.insert(flat.end(), r.begin(), r.end());
    const std::vector<std::string> tokenized = scorers::ptb_tokenize_captions(flat);
    size_t k = 0;
    for (auto& r : refs)
      for (auto& caption : r) caption = tokenized[k++];
  }
  if (metric.name == "cider") {
    out["score"] = scorers::cider_d(hypotheses, refs).score;
    out["n"] = items.size();
  } else {
    const scorers::CocoBleuResult bleu = scorers::coco_bleu(hypotheses, refs);
    out["score"] = bleu.bleu[3];
    out["n"] = items.size();
    out["components"] = {{"Bleu_1", bleu.bleu[0]}, {"Bleu_2", bleu.bleu[1]}, {"Bleu_3", bleu.bleu[2]},
                         {"Bleu_4", bleu.bleu[3]}, {"testlen", bleu.testlen}, {"reflen", bleu.reflen},
                         {"ref_length_rule", scorers::bleu_ref_length_name(scorers::BleuRefLength::kClosest)}};
  }
  return out;
}

}  // namespace

int run_score(const ScoreArgs& args) {
  const size_t colon = args.metric.find(':');
  const std::string name = args.metric.substr(0, colon);
  const VisionMetric* metric = find_vision_metric(name);
  if (metric == nullptr) {
    const auto names = evals::offline_metric_names();
    if (colon != std::string::npos || std::find(names.begin(), names.end(), name) == names.end())
      fail("--metric {}: unknown metric (known: {})", args.metric, known_metrics());
    auto result = evals::score_files(args.metric, args.predictions, args.references);
    nlohmann::ordered_json out = {{"metric", result.metric}, {"score", result.score}, {"n", result.n}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::string variant = metric->variants.front();
  if (colon != std::string::npos) {
    variant = args.metric.substr(colon + 1);
    if (std::find(metric->variants.begin(), metric->variants.end(), variant) == metric->variants.end()) {
      std::string known;
      for (const auto& v : metric->variants) known += (known.empty() ? "" : ", ") + v;
      fail("--metric {}: unknown variant \"{}\" of {} (known: {})", args.metric, variant, metric->name, known);
    }
  }
  if (variant == "lmms_okvqa") variant = "lmms_textvqa";  // the same code in lmms-eval
  const auto out = score_vision(*metric, variant, args.predictions, args.references);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace gemma::cli
