#include "evals/offline_scoring.h"

#include <functional>
#include <map>

#include "common/error.h"
#include "datasets/jsonl.h"
#include "evals/python_text.h"
#include "scorers/exact_match.h"

namespace gemma::evals {
namespace {

using Metric = std::function<double(const std::string& prediction, const std::vector<std::string>& references)>;

// Per-item metrics averaged over the items. exact_match is lm-eval's with its defaults (no case,
// punctuation or regex normalisation, no trimming); acc compares whitespace-stripped labels, as a
// multiple-choice answer ("B", "2") is scored.
const std::map<std::string, Metric>& metrics() {
  static const std::map<std::string, Metric> table = {
      {"exact_match", [](const std::string& p, const std::vector<std::string>& refs) {
         return scorers::exact_match(p, refs, ExactMatchOptions{});
       }},
      {"acc", [](const std::string& p, const std::vector<std::string>& refs) {
         const std::string label = python_strip(p);
         for (const auto& r : refs)
           if (python_strip(r) == label) return 1.0;
         return 0.0;
       }},
  };
  return table;
}

std::string canonical_name(const std::string& name) { return name == "em" ? "exact_match" : name; }

std::string id_of(const datasets::JsonlRecord& record, const std::filesystem::path& file) {
  const auto& v = record.value;
  if (!v.is_object() || !v.contains("id")) fail("{}:{}: missing field \"id\"", file.string(), record.line);
  const auto& id = v["id"];
  if (id.is_string()) return id.get<std::string>();
  if (id.is_number_integer()) return std::to_string(id.get<long long>());
  fail("{}:{}: field \"id\" must be a string or an integer", file.string(), record.line);
}

std::string text_field(const nlohmann::ordered_json& value, const char* field, const std::filesystem::path& file,
                       size_t line) {
  if (!value.contains(field)) fail("{}:{}: missing field \"{}\"", file.string(), line, field);
  const auto& v = value[field];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  fail("{}:{}: field \"{}\" must be a string", file.string(), line, field);
}

}  // namespace

std::vector<std::string> offline_metric_names() {
  std::vector<std::string> names = {"em"};
  for (const auto& [name, metric] : metrics()) names.push_back(name);
  return names;
}

OfflineScore score_files(const std::string& metric_name, const std::filesystem::path& predictions,
                         const std::filesystem::path& references) {
  const std::string name = canonical_name(metric_name);
  auto metric = metrics().find(name);
  if (metric == metrics().end()) {
    std::string known;
    for (const auto& n : offline_metric_names()) known += (known.empty() ? "" : ", ") + n;
    fail("--metric {}: unknown metric (known: {})", metric_name, known);
  }

  std::map<std::string, std::pair<std::vector<std::string>, size_t>> refs;  // id -> references, line
  for (const auto& record : datasets::read_jsonl(references)) {
    std::string id = id_of(record, references);
    const auto& value = record.value;
    if (!value.contains("references") || !value["references"].is_array() || value["references"].empty())
      fail("{}:{}: field \"references\" must be a non-empty array", references.string(), record.line);
    std::vector<std::string> texts;
    for (const auto& r : value["references"]) {
      if (!r.is_string()) fail("{}:{}: every reference must be a string", references.string(), record.line);
      texts.push_back(r.get<std::string>());
    }
    if (!refs.emplace(id, std::make_pair(std::move(texts), record.line)).second)
      fail("{}:{}: duplicate id \"{}\"", references.string(), record.line, id);
  }

  OfflineScore result{name, 0.0, 0};
  std::map<std::string, size_t> seen;
  double total = 0.0;
  for (const auto& record : datasets::read_jsonl(predictions)) {
    std::string id = id_of(record, predictions);
    if (!seen.emplace(id, record.line).second)
      fail("{}:{}: duplicate id \"{}\"", predictions.string(), record.line, id);
    auto ref = refs.find(id);
    if (ref == refs.end())
      fail("{}:{}: id \"{}\" has no line in {}", predictions.string(), record.line, id, references.string());
    total += metric->second(text_field(record.value, "prediction", predictions, record.line), ref->second.first);
  }
  for (const auto& [id, entry] : refs)
    if (!seen.count(id))
      fail("{}:{}: id \"{}\" has no prediction in {}", references.string(), entry.second, id, predictions.string());
  result.n = seen.size();
  if (result.n == 0) fail("{}: no predictions", predictions.string());
  result.score = total / static_cast<double>(result.n);
  return result;
}

}  // namespace gemma::evals
