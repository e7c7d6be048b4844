// gemma-eval rescore RUN_DIR [--output DIR]: recomputes every metric of a finished run from its
// samples_<task>.jsonl, without the model or the datasets: after a scorer or extraction fix, the same
// generations and loglikelihoods get the current code's numbers. Torch-free.
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "build_info.h"
#include "cli/commands.h"
#include "common/error.h"
#include "evals/aggregation.h"
#include "evals/task_file.h"
#include "evals/task_registry.h"
#include "reports/markdown.h"
#include "reports/results_json.h"
#include "reports/run_record.h"

namespace gemma::cli {
namespace fs = std::filesystem;
using nlohmann::ordered_json;
namespace {}  // namespace

void register_task_file_paths(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    if (fs::is_directory(path))
      evals::register_task_files(evals::load_task_dir(path));
    else if (fs::is_regular_file(path))
      evals::register_task_files(evals::load_task_file(path));
    else
      fail("--include-path {}: no such folder or task file", path);
  }
}

const evals::TaskSpec& recorded_task(const std::string& name, const std::string& command) {
  std::vector<const evals::TaskSpec*> specs;
  try {
    specs = evals::resolve_tasks(name);
  } catch (const Error&) {
  }
  if (specs.size() != 1 || specs.front()->name != name)
    fail("{}: {} is not a known task (a task from a task file: pass --include-path DIR or FILE.yaml as the run did)",
         command, name);
  return *specs.front();
}

namespace {

const ordered_json& task_provenance(const ordered_json& results, const std::string& name, const fs::path& dir) {
  if (!results.contains("provenance") || !results["provenance"].contains(name))
    fail("{}: results.json has no provenance for task {} (not a gemma-eval run?)", dir.string(), name);
  return results["provenance"][name];
}

evals::TaskResult rescore_task(const std::string& name, const ordered_json& results, const fs::path& dir,
                               const reports::RunIdentity& identity, bool allow_code_execution) {
  const evals::TaskSpec& spec = recorded_task(name, "rescore");
  evals::require_code_execution_allowed(spec, allow_code_execution);
  const ordered_json& provenance = task_provenance(results, name, dir);
  const fs::path samples = reports::samples_path(dir, name);
  if (!fs::exists(samples))
    fail("{}: missing; rescore needs the run's samples (run it with --log-samples)", samples.string());

  evals::TaskResult task;
  task.task = name;
  task.groups = spec.groups;
  task.docs = reports::read_samples_jsonl(samples, identity);
  for (const auto& doc : task.docs) task.doc_ids.push_back(doc.doc_id);
  if (provenance.contains("doc_ids") && provenance["doc_ids"].get<std::vector<int64_t>>() != task.doc_ids)
    fail("{}: its docs do not match results.json's provenance doc_ids", samples.string());
  const ordered_json& config = results.at("configs").at(name);
  task.version = config.value("version", spec.version);
  task.shots = config.value("num_fewshot", 0);
  task.config = config;
  task.docs_total = results.at("n-samples").at(name).at("original").get<size_t>();
  task.truncated_requests = provenance.value("truncated_requests", size_t{0});
  task.max_token_hits = provenance.value("max_token_hits", size_t{0});
  task.seconds = provenance.value("seconds", 0.0);
  for (const auto& file : provenance.value("data_files", ordered_json::array()))
    task.data_files.push_back(
        {file.at("path").get<std::string>(), file.at("sha256").get<std::string>(), file.at("rows").get<size_t>()});
  for (const auto& skipped : provenance.value("skipped_docs", ordered_json::array()))
    task.skipped_docs.emplace_back(skipped.at("doc_id").get<int64_t>(), skipped.at("reason").get<std::string>());
  if (provenance.contains("shard") && provenance["shard"].is_object())
    task.shard = {provenance["shard"].at("index").get<int>(), provenance["shard"].at("count").get<int>()};

  std::map<std::string, size_t> invalid;
  evals::rescore_records(spec, task.docs, invalid);
  task.metrics = evals::aggregate_task_metrics(spec, task.docs, invalid);
  task.metric_variants = evals::metric_variants(spec);
  evals::fingerprint_records(task.docs, task);
  // The prompts must be the run's own: a samples file of the same run id cannot differ here unless
  // edited, and a run without a run id has only this check.
  if (provenance.contains("all_prompts_sha256") && provenance["all_prompts_sha256"] != task.all_prompts_sha256)
    fail("{}: its prompts do not hash to results.json's all_prompts_sha256 for {} (samples of another run?)",
         samples.string(), name);
  return task;
}

// "task metric,filter: old -> new" for every value the rescoring changed (or added).
void print_changes(const ordered_json& before, const evals::RunResult& run) {
  size_t changed = 0;
  for (const auto& task : run.tasks) {
    for (const auto& value : task.metrics) {
      const std::string key = value.metric + "," + value.filter;
      const ordered_json* old = nullptr;
      if (before.contains("results") && before["results"].contains(task.task) &&
          before["results"][task.task].contains(key))
        old = &before["results"][task.task][key];
      if (old && old->is_number() && std::fabs(old->get<double>() - value.value) < 1e-12) continue;
      ++changed;
      std::fprintf(stderr, "gemma-eval: %s %s: %s -> %.6g\n", task.task.c_str(), key.c_str(),
                   old ? old->dump().c_str() : "(absent)", value.value);
    }
  }
  std::fprintf(stderr, "gemma-eval: %zu task metric(s) changed\n", changed);
}

}  // namespace

int run_rescore(const RescoreArgs& args, const std::string& command_line) {
  register_task_file_paths(args.include_paths);
  const fs::path dir = args.run_dir;
  const ordered_json before = reports::read_results_json(dir);
  if (!before.contains("provenance") || !before["provenance"].is_object())
    fail("{}: results.json has no provenance (rescore reads gemma-eval runs)", dir.string());

  const auto identity = reports::RunIdentity::of_results(before);
  if (identity.run_id.empty())
    std::fprintf(stderr,
                 "gemma-eval: warning: %s has no run id (written before gemma-eval recorded one): nothing "
                 "but the doc ids and prompt hashes shows that the samples beside it are its own\n",
                 reports::results_json_path(dir).c_str());
  evals::RunResult run;
  for (const auto& [name, entry] : before["provenance"].items())
    run.tasks.push_back(rescore_task(name, before, dir, identity, args.allow_code_execution));
  run.groups = complete_groups(evals::aggregate_groups(run.tasks));
  run.config = reports::with_lm_eval_model_type(before.value("config", ordered_json::object()));
  run.config["rescored"] = {{"command", command_line},
                            {"from", dir.string()},
                            {"from_run_id", identity.run_id},
                            {"gemma_eval_version", GEMMA_EVAL_VERSION},
                            {"git", GEMMA_EVAL_GIT_HASH}};
  run.config["run_id"] = reports::new_run_id();  // new files, so a new id: none can mix with the old ones
  run.seconds = reports::evaluation_seconds(before);
  run.lm_eval = reports::lm_eval_run_fields(before);

  const fs::path output = args.output.empty() ? dir : fs::path(args.output);
  reports::write_run_outputs(run, output, /*log_samples=*/true);
  print_changes(before, run);
  std::printf("%s\n", reports::results_table(run).c_str());
  std::fprintf(stderr, "gemma-eval: rescored %zu task(s) from their samples; wrote %s/results.json\n", run.tasks.size(),
               output.c_str());
  return 0;
}

}  // namespace gemma::cli
