// gemma-eval merge SHARD_DIR... --output DIR: recombine the outputs of `run --shard K/N` into the
// results.json (metrics, stderr, groups, provenance) one unsharded run writes. Torch-free: metrics and
// prompt fingerprints are recomputed from the shards' samples with the evaluator's own code.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "evals/aggregation.h"
#include "evals/task_registry.h"
#include "reports/markdown.h"
#include "reports/results_json.h"
#include "reports/run_record.h"

namespace gemma::cli {
namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;
namespace {

struct Shard {
  fs::path dir;
  ordered_json results;
  int index = -1, count = -1;
};

const ordered_json& member(const Shard& shard, const ordered_json& object, const std::string& key,
                           const std::string& what) {
  if (!object.is_object() || !object.contains(key))
    fail("{}: results.json has no {} (not a gemma-eval --shard run?)", shard.dir.string(), what);
  return object[key];
}

Shard read_shard(const fs::path& dir) {
  Shard shard;
  shard.dir = dir;
  shard.results = reports::read_results_json(dir);
  const ordered_json& config = member(shard, shard.results, "config", "\"config\"");
  const ordered_json& spec = member(shard, config, "shard", "config.shard");
  if (!spec.is_object() || !spec.contains("index") || !spec.contains("count"))
    fail("{}: not a shard run (results.json config.shard is not set; run with --shard K/N)", dir.string());
  shard.index = spec["index"].get<int>();
  shard.count = spec["count"].get<int>();
  return shard;
}

// The run configuration that must agree between shards: everything but what differs per process.
ordered_json comparable_config(ordered_json config) {
  config = reports::with_lm_eval_model_type(std::move(config));  // shards written before and after the change
  // use_cache: lm-eval's key for the result cache's path, which each shard's output folder sets.
  for (const char* key : {"shard", "command", "date", "engine", "cache", "use_cache", "run_id"}) config.erase(key);
  return config;
}

void require_same(const Shard& first, const Shard& other, const ordered_json& a, const ordered_json& b,
                  const std::string& what) {
  if (a != b)
    fail("shards {} and {} do not belong to one run: {} differs ({} has {}, {} has {})", first.dir.string(),
         other.dir.string(), what, first.dir.string(), a.dump(), other.dir.string(), b.dump());
}

std::vector<std::string> task_names(const Shard& shard) {
  std::vector<std::string> names;
  for (const auto& [name, entry] : member(shard, shard.results, "provenance", "\"provenance\"").items())
    names.push_back(name);
  return names;
}

evals::TaskResult merge_task(const std::string& name, const std::vector<Shard>& shards) {
  const evals::TaskSpec& spec = recorded_task(name, "merge");
  const Shard& first = shards.front();
  const ordered_json& first_provenance = first.results["provenance"][name];

  evals::TaskResult task;
  task.task = name;
  task.groups = spec.groups;
  std::map<std::string, size_t> invalid;
  std::set<int64_t> seen;
  for (const Shard& shard : shards) {
    require_same(first, shard, member(first, first.results["configs"], name, "configs." + name),
                 member(shard, shard.results["configs"], name, "configs." + name), "configs." + name);
    const ordered_json& provenance = shard.results["provenance"][name];
    require_same(first, shard, member(first, first_provenance, "data_files", "provenance data_files"),
                 member(shard, provenance, "data_files", "provenance data_files"), name + " data files");
    require_same(first, shard, member(first, first.results, "n-samples", "n-samples")[name]["original"],
                 member(shard, shard.results, "n-samples", "n-samples")[name]["original"], name + " eval split size");
    task.truncated_requests += provenance.value("truncated_requests", size_t{0});
    task.max_token_hits += provenance.value("max_token_hits", size_t{0});
    task.seconds += provenance.value("seconds", 0.0);
    if (provenance.contains("invalid"))
      for (const auto& [filter, count] : provenance["invalid"].items()) invalid[filter] += count.get<size_t>();
    if (provenance.contains("skipped_docs"))
      for (const auto& skipped : provenance["skipped_docs"])
        task.skipped_docs.emplace_back(skipped.at("doc_id").get<int64_t>(), skipped.at("reason").get<std::string>());
    const auto expected = member(shard, provenance, "doc_ids", "provenance doc_ids").get<std::vector<int64_t>>();
    const fs::path samples = reports::samples_path(shard.dir, name);
    std::vector<evals::DocRecord> docs =
        reports::read_samples_jsonl(samples, reports::RunIdentity::of_results(shard.results));
    std::vector<int64_t> ids;
    for (const auto& doc : docs) ids.push_back(doc.doc_id);
    if (ids != expected) fail("{}: its docs do not match results.json's provenance doc_ids", samples.string());
    evals::TaskResult shard_prompts;
    shard_prompts.task = name;
    evals::fingerprint_records(docs, shard_prompts);
    if (provenance.contains("all_prompts_sha256") &&
        provenance["all_prompts_sha256"] != shard_prompts.all_prompts_sha256)
      fail("{}: its prompts do not hash to results.json's all_prompts_sha256 for {} (samples of another run?)",
           samples.string(), name);
    for (auto& doc : docs) {
      if (!seen.insert(doc.doc_id).second)
        fail("task {}: doc {} appears in more than one shard (is a shard given twice?)", name, doc.doc_id);
      task.docs.push_back(std::move(doc));
    }
  }
  std::sort(task.docs.begin(), task.docs.end(),
            [](const evals::DocRecord& a, const evals::DocRecord& b) { return a.doc_id < b.doc_id; });
  const ordered_json& config = first.results["configs"][name];
  task.version = config.value("version", spec.version);
  task.shots = config.value("num_fewshot", 0);
  task.config = config;
  task.docs_total = first.results["n-samples"][name]["original"].get<size_t>();
  for (const auto& doc : task.docs) task.doc_ids.push_back(doc.doc_id);
  for (const auto& file : first_provenance["data_files"])
    task.data_files.push_back(
        {file.at("path").get<std::string>(), file.at("sha256").get<std::string>(), file.at("rows").get<size_t>()});
  std::sort(task.skipped_docs.begin(), task.skipped_docs.end());
  task.metric_variants = evals::metric_variants(spec);
  task.metrics = evals::aggregate_task_metrics(spec, task.docs, invalid);
  evals::fingerprint_records(task.docs, task);
  return task;
}

}  // namespace

int run_merge(const MergeArgs& args, const std::string& command_line) {
  register_task_file_paths(args.include_paths);
  std::vector<Shard> shards;
  for (const auto& dir : args.shard_dirs) shards.push_back(read_shard(dir));
  const int count = shards.front().count;
  std::map<int, const Shard*> by_index;
  for (const Shard& shard : shards) {
    if (shard.count != count)
      fail("{} is shard {}/{} but {} is shard {}/{}: the shard count differs", shard.dir.string(), shard.index,
           shard.count, shards.front().dir.string(), shards.front().index, count);
    auto [slot, inserted] = by_index.emplace(shard.index, &shard);
    if (!inserted)
      fail("{} and {} are both shard {}/{}", slot->second->dir.string(), shard.dir.string(), shard.index, count);
  }
  std::vector<std::string> missing;
  for (int k = 0; k < count; ++k)
    if (!by_index.count(k)) missing.push_back(std::to_string(k) + "/" + std::to_string(count));
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    fail("merge needs all {} shards: missing {}", count, list);
  }
  std::vector<Shard> ordered;  // by shard index
  for (const auto& [index, shard] : by_index) ordered.push_back(*shard);
  const Shard& first = ordered.front();
  const std::vector<std::string> tasks = task_names(first);
  for (const Shard& shard : ordered) {
    if (reports::RunIdentity::of_results(shard.results).run_id.empty())
      std::fprintf(stderr,
                   "gemma-eval: warning: %s has no run id (written before gemma-eval recorded one): nothing "
                   "but the doc ids and prompt hashes shows that the samples beside it are its own\n",
                   reports::results_json_path(shard.dir).c_str());
    require_same(first, shard, reports::RunIdentity::of_results(first.results).weights_fingerprint,
                 reports::RunIdentity::of_results(shard.results).weights_fingerprint, "the weights fingerprint");
    require_same(first, shard, comparable_config(first.results["config"]), comparable_config(shard.results["config"]),
                 "the run configuration (model, profile, data, shots, limit, seed, version)");
    std::vector<std::string> names = task_names(shard), a = tasks;
    std::sort(names.begin(), names.end());
    std::sort(a.begin(), a.end());
    require_same(first, shard, ordered_json(a), ordered_json(names), "the task list");
  }

  evals::RunResult run;
  for (const auto& name : tasks) run.tasks.push_back(merge_task(name, ordered));
  run.groups = complete_groups(evals::aggregate_groups(run.tasks));
  run.config = reports::with_lm_eval_model_type(first.results["config"]);
  run.lm_eval = reports::lm_eval_run_fields(first.results);
  run.config["shard"] = nullptr;
  run.config["command"] = command_line;
  run.config["run_id"] = reports::new_run_id();
  ordered_json merged_from = ordered_json::array(), merged_run_ids = ordered_json::array();
  for (const Shard& shard : ordered) {
    merged_from.push_back(fs::absolute(shard.dir).string());
    merged_run_ids.push_back(reports::RunIdentity::of_results(shard.results).run_id);
    run.seconds += reports::evaluation_seconds(shard.results);
    if (&shard == &ordered.front() || !shard.results["config"].contains("engine")) continue;
    for (auto& [key, value] : run.config["engine"].items())
      if (value.is_number_unsigned() && shard.results["config"]["engine"].contains(key))
        value = value.get<uint64_t>() + shard.results["config"]["engine"][key].get<uint64_t>();
  }
  run.config["merged_from"] = merged_from;
  run.config["merged_run_ids"] = merged_run_ids;

  reports::write_run_outputs(run, args.output, args.log_samples);
  std::printf("%s\n", reports::results_table(run).c_str());
  std::fprintf(stderr, "gemma-eval: merged %d shards of %zu task(s); wrote %s/results.json\n", count, run.tasks.size(),
               args.output.c_str());
  return 0;
}

}  // namespace gemma::cli
