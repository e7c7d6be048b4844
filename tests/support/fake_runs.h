#pragma once
// Hand-built runs for the compare and history tests: a results.json shaped like the one
// reports/results_json.cpp writes (results, groups, group_subtasks, versions, n-shot,
// higher_is_better, n-samples, config, provenance) with the per-doc values of its samples, so each
// test states only what it changes.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/run_record.h"

namespace gemma::test {

struct FakeTask {
  std::string name = "arc_easy";
  std::string metric = "acc";
  std::string filter = "none";
  std::vector<double> values;  // per doc, doc ids 0..n-1; the task's value is their mean
  int version = 1;
  int shots = 0;
  bool higher_is_better = true;
  std::string prompts = "prompts-v1";  // stands in for the rendered prompts (their hashes)
  std::string data_sha = "data-sha-1";
  std::string data_file = "/data/arc/ARC-Easy-Test.jsonl";
};

struct FakeGroup {
  std::string name = "mmlu";
  std::vector<std::string> members;
  double value = 0.0;
  double stderr_value = 0.0;
};

struct FakeRun {
  std::vector<FakeTask> tasks;
  std::vector<FakeGroup> groups;
  std::string tokenizer_sha = "tok-sha-1";
  std::string profile = "pt";
  std::string model = "/models/gemma-3-1b-pt";
  std::string date = "2026-01-02T03:04:05Z";
  std::string git_hash = "abc123";
  bool with_samples = true;
};

inline double fake_mean(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// lm-eval's mean stderr: sample stddev (n-1) / sqrt(n).
inline double fake_stderr(const std::vector<double>& values) {
  const double mu = fake_mean(values);
  double squares = 0.0;
  for (double v : values) squares += (v - mu) * (v - mu);
  return std::sqrt(squares / static_cast<double>(values.size() - 1)) / std::sqrt(static_cast<double>(values.size()));
}

inline nlohmann::ordered_json fake_results_json(const FakeRun& run) {
  using nlohmann::ordered_json;
  ordered_json results = ordered_json::object(), groups = ordered_json::object(), subtasks = ordered_json::object();
  ordered_json versions = ordered_json::object(), shots = ordered_json::object(), better = ordered_json::object();
  ordered_json n_samples = ordered_json::object(), provenance = ordered_json::object();
  for (const auto& group : run.groups) {
    ordered_json entry = {
        {"alias", group.name}, {"acc," + std::string("none"), group.value}, {"acc_stderr,none", group.stderr_value}};
    results[group.name] = entry;
    groups[group.name] = entry;
    subtasks[group.name] = group.members;
    better[group.name] = {{"acc", true}};
  }
  for (const auto& task : run.tasks) {
    const std::string key = task.metric + "," + task.filter;
    if (!results.contains(task.name)) results[task.name] = {{"alias", task.name}};
    results[task.name][key] = fake_mean(task.values);
    results[task.name][task.metric + "_stderr," + task.filter] = fake_stderr(task.values);
    subtasks[task.name] = ordered_json::array();
    versions[task.name] = task.version;
    shots[task.name] = task.shots;
    better[task.name][task.metric] = task.higher_is_better;
    n_samples[task.name] = {{"original", task.values.size()}, {"effective", task.values.size()}};
    std::vector<int64_t> ids;
    for (size_t i = 0; i < task.values.size(); ++i) ids.push_back(static_cast<int64_t>(i));
    provenance[task.name] = {{"first_prompt_sha256", "first-" + task.prompts},
                             {"all_prompts_sha256", "all-" + task.prompts},
                             {"data_files", {{{"path", task.data_file}, {"sha256", task.data_sha}, {"rows", 30}}}},
                             {"doc_ids", ids}};
  }
  return {{"results", results},
          {"groups", groups},
          {"group_subtasks", subtasks},
          {"versions", versions},
          {"n-shot", shots},
          {"higher_is_better", better},
          {"n-samples", n_samples},
          {"config",
           {{"model",
             {{"model", run.model},
              {"dtype", "float32"},
              {"device", "cpu"},
              {"tokenizer", {{"sha256", run.tokenizer_sha}}},
              {"weights_fingerprint", "5c98893241c1eed139ca"}}},
            {"profile", run.profile},
            {"date", run.date},
            {"git_hash", run.git_hash}}},
          {"git_hash", run.git_hash},
          {"date", run.date},
          {"provenance", provenance}};
}

inline reports::RunRecord fake_record(const FakeRun& run, const std::string& path = "/runs/x/results.json") {
  reports::RunRecord record;
  record.results_path = path;
  record.results = fake_results_json(run);
  if (run.with_samples)
    for (const auto& task : run.tasks) {
      auto& samples = record.samples[task.name];
      for (size_t i = 0; i < task.values.size(); ++i)
        samples.metrics[task.metric + "," + task.filter][static_cast<int64_t>(i)] = task.values[i];
    }
  return record;
}

// `n` docs, the first `ones` of them 1.0 and the rest 0.0.
inline std::vector<double> binary_values(size_t n, size_t ones) {
  std::vector<double> values(n, 0.0);
  for (size_t i = 0; i < ones && i < n; ++i) values[i] = 1.0;
  return values;
}

}  // namespace gemma::test
