#include "reports/run_record.h"

#include <set>

#include "common/error.h"
#include "common/files.h"
#include "datasets/jsonl.h"
#include "reports/results_json.h"

namespace gemma::reports {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

fs::path results_json_path(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return path / "results.json";
  return path;
}

ordered_json read_results_json(const fs::path& path) {
  const fs::path file = results_json_path(path);
  if (!fs::exists(file)) fail("{}: no such file (expected a run's results.json or its folder)", file.string());
  ordered_json results;
  try {
    results = ordered_json::parse(read_file(file));
  } catch (const ordered_json::parse_error& e) {
    fail("{}: not valid JSON: {}", file.string(), e.what());
  }
  if (!results.is_object() || !results.contains("results") || !results["results"].is_object())
    fail("{}: not a gemma-eval / lm-eval results.json (no \"results\" object)", file.string());
  return results;
}

TaskSamples read_task_samples(const fs::path& path, const RunIdentity& expected) {
  TaskSamples samples;
  samples.path = path;
  SamplesLineTracker lines;
  for (const auto& record : datasets::read_jsonl(path)) {
    const auto where = [&] { return path.string() + ":" + std::to_string(record.line); };
    const auto& line = record.value;
    if (!line.is_object() || !line.contains("doc_id") || !line["doc_id"].is_number_integer())
      fail("{}: no integer \"doc_id\"", where());
    check_samples_identity(line, expected, where());
    const auto doc = line["doc_id"].get<int64_t>();
    // A doc has a line per filter (lm-eval's layout); each of this harness's lines repeats all its scores.
    lines.first_line_of_doc(line, doc, where());
    // Per-doc scores by "metric,filter": "scores" since the lines carry lm-eval's keys (whose "metrics" is a
    // list of metric names); "metrics" in older files. A line lm-eval wrote has only its filter's values,
    // under the names "metrics" lists.
    const bool lm_eval_only = !line.contains("scores") && line.contains("metrics") && line["metrics"].is_array();
    if (lm_eval_only) {
      const std::string filter = line.contains("filter") && line["filter"].is_string()
                                     ? line["filter"].get<std::string>()
                                     : std::string("none");
      for (const auto& name : line["metrics"]) {
        if (!name.is_string()) fail("{}: \"metrics\" lists a name that is not a string", where());
        const auto value = line.find(name.get<std::string>());
        if (value == line.end() || !value->is_number()) continue;  // lm-eval's non-numeric per-doc values
        samples.metrics[name.get<std::string>() + "," + filter][doc] = value->get<double>();
      }
    } else if (const char* scores_key = line.contains("scores") ? "scores" : "metrics"; line.contains(scores_key)) {
      if (!line[scores_key].is_object()) fail("{}: \"{}\" is not an object", where(), scores_key);
      for (const auto& [key, value] : line[scores_key].items()) {
        if (!value.is_number()) fail("{}: metric {} is not a number", where(), key);
        samples.metrics[key][doc] = value.get<double>();
      }
    }
    if (line.contains("sufficient_stats")) {
      if (!line["sufficient_stats"].is_object()) fail("{}: \"sufficient_stats\" is not an object", where());
      for (const auto& [key, value] : line["sufficient_stats"].items()) {
        std::vector<double> stats;
        if (value.is_array())
          for (const auto& x : value) {
            if (!x.is_number()) break;
            stats.push_back(x.get<double>());
          }
        if (!value.is_array() || stats.size() != value.size())
          fail("{}: sufficient_stats {} is not an array of numbers", where(), key);
        samples.sufficient_stats[key][doc] = std::move(stats);
      }
    }
  }
  return samples;
}

RunRecord load_run(const fs::path& path) {
  RunRecord run;
  run.results_path = results_json_path(path);
  run.results = read_results_json(run.results_path);
  const fs::path dir = run.results_path.has_parent_path() ? run.results_path.parent_path() : fs::path(".");
  const RunIdentity identity = RunIdentity::of_results(run.results);
  for (const auto& [name, entry] : run.results["results"].items()) {
    if (is_group(run.results, name)) continue;
    const fs::path file = samples_path(dir, name);
    if (fs::exists(file)) run.samples.emplace(name, read_task_samples(file, identity));
  }
  return run;
}

bool is_group(const ordered_json& results, const std::string& name) {
  auto groups = results.find("groups");
  return groups != results.end() && groups->is_object() && groups->contains(name);
}

std::vector<std::string> leaf_tasks(const ordered_json& results, const std::string& name) {
  if (!is_group(results, name)) return {name};
  std::vector<std::string> leaves;
  std::set<std::string> visited{name};
  std::vector<std::string> pending{name};
  while (!pending.empty()) {  // iterative, and guarded against cycles in a hand-edited file
    std::string current = pending.back();
    pending.pop_back();
    const ordered_json* members = nullptr;
    if (auto subtasks = results.find("group_subtasks"); subtasks != results.end() && subtasks->contains(current))
      members = &(*subtasks)[current];
    if (!members || !members->is_array()) continue;
    for (const auto& member : *members) {
      if (!member.is_string()) continue;
      const auto member_name = member.get<std::string>();
      if (!visited.insert(member_name).second) continue;
      if (is_group(results, member_name))
        pending.push_back(member_name);
      else
        leaves.push_back(member_name);
    }
  }
  return leaves;
}

namespace {
std::string path_or_name_label(const ordered_json& results) {
  // lm-eval's model_name (a Hub id or the pretrained name as given) when the run recorded one.
  if (auto name = results.find("model_name");
      name != results.end() && name->is_string() && !name->get<std::string>().empty())
    return name->get<std::string>();
  const ordered_json model = model_details_of_results(results);
  if (!model.contains("model") || !model["model"].is_string()) return "unknown model";
  std::string path = model["model"].get<std::string>();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
}  // namespace

std::string model_label(const ordered_json& results) {
  std::string label = path_or_name_label(results);
  // --run-name: the user's label for the run, beside the model it evaluated.
  if (auto config = results.find("config"); config != results.end() && config->is_object())
    if (auto run_name = config->find("run_name"); run_name != config->end() && run_name->is_string())
      label += " [" + run_name->get<std::string>() + "]";
  return label;
}

namespace {

std::optional<double> number_or_none(const ordered_json& entry, const std::string& key) {
  auto found = entry.find(key);
  if (found == entry.end() || !found->is_number()) return std::nullopt;  // "N/A" or absent
  return found->get<double>();
}

bool higher_is_better_of(const ordered_json& results, const std::string& name, const std::string& metric) {
  auto table = results.find("higher_is_better");
  if (table == results.end() || !table->contains(name)) return true;
  const auto& flags = (*table)[name];
  auto flag = flags.find(metric);
  return flag == flags.end() || !flag->is_boolean() || flag->get<bool>();
}

std::optional<int> shots_of(const ordered_json& results, const std::string& name) {
  auto table = results.find("n-shot");
  if (table == results.end() || !table->contains(name) || !(*table)[name].is_number_integer()) return std::nullopt;
  return (*table)[name].get<int>();
}

}  // namespace

std::vector<MetricRow> metric_rows(const ordered_json& results) {
  std::vector<MetricRow> rows;
  for (const auto& [name, entry] : results.at("results").items()) {
    if (!entry.is_object()) continue;
    for (const auto& [key, value] : entry.items()) {
      const auto comma = key.find(',');
      if (comma == std::string::npos || !value.is_number()) continue;  // "alias", or not a value
      MetricRow row;
      row.name = name;
      row.is_group = is_group(results, name);
      row.metric = key.substr(0, comma);
      row.filter = key.substr(comma + 1);
      const std::string stderr_suffix = "_stderr";
      if (row.metric.size() > stderr_suffix.size() &&
          row.metric.compare(row.metric.size() - stderr_suffix.size(), stderr_suffix.size(), stderr_suffix) == 0)
        continue;
      row.value = value.get<double>();
      row.stderr_value = number_or_none(entry, row.metric + "_stderr," + row.filter);
      row.higher_is_better = higher_is_better_of(results, name, row.metric);
      row.shots = shots_of(results, name);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace gemma::reports
