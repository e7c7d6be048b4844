#include "reports/results_json.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "reports/markdown.h"

namespace gemma::reports {

namespace {
nlohmann::json skipped_docs_json(const evals::TaskResult& task) {
  auto list = nlohmann::json::array();
  for (const auto& [doc_id, reason] : task.skipped_docs) list.push_back({{"doc_id", doc_id}, {"reason", reason}});
  return list;
}
}  // namespace
namespace fs = std::filesystem;
using evals::GroupResult;
using evals::MetricValue;
using evals::RunResult;
using evals::TaskResult;
using nlohmann::ordered_json;

namespace {

// Python's str() of a float as lm-eval's sanitize_list writes a response tuple's parts (repr: the
// shortest text that reads back as the same double).
std::string python_float_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

// Text from datasets and generations need not be valid UTF-8 (a generation can stop inside a multi-byte
// character); such bytes become U+FFFD instead of aborting the whole report.
std::string dump(const ordered_json& value, int indent) {
  return value.dump(indent, ' ', false, ordered_json::error_handler_t::replace);
}

// A task or group in lm-eval's printed order, with its depth in the group tree.
struct HierarchyEntry {
  std::string name;
  int depth = 0;
  bool is_group = false;
  std::string root;  // the top-level group (or task) it sits under
};

// The tasks and groups of a run arranged as lm-eval prints them (evaluator_utils.py::prepare_print_tasks):
// top-level names in the order the run first reached them, each group followed by its members sorted by
// name one level deeper. Membership comes from TaskResult::groups (innermost first, so a task's parent is
// its first group that ran, and each group's parent the next one), then from GroupResult::tasks for
// members no chain placed.
class ResultHierarchy {
 public:
  explicit ResultHierarchy(const RunResult& run) {
    for (const auto& group : run.groups) group_names_.insert(group.group);
    for (const auto& task : run.tasks) place_task_chain(task);
    for (const auto& group : run.groups)
      for (const auto& member : group.tasks) adopt_if_unplaced(member, group.group);
    for (const auto& group : run.groups) parent_.emplace(group.group, "");
    for (const auto& [name, parent] : parent_)
      if (!parent.empty()) children_[parent].insert(name);
    for (const auto& task : run.tasks) add_top_level(root_of(task.task));
    for (const auto& group : run.groups) add_top_level(root_of(group.group));
    for (const auto& top : top_level_) visit(top, 0, top);
  }

  const std::vector<HierarchyEntry>& print_order() const { return order_; }

  std::vector<std::string> members(const std::string& group) const {
    auto found = children_.find(group);
    if (found == children_.end()) return {};
    return {found->second.begin(), found->second.end()};
  }

  // The tasks (not groups) under `name`, or `name` itself when it is a task.
  std::vector<std::string> leaf_tasks(const std::string& name) const {
    if (!group_names_.count(name)) return {name};
    std::vector<std::string> leaves;
    for (const auto& member : members(name))
      for (auto& leaf : leaf_tasks(member)) leaves.push_back(std::move(leaf));
    return leaves;
  }

 private:
  void place_task_chain(const TaskResult& task) {
    std::vector<std::string> chain;  // groups that ran, innermost first
    for (const auto& group : task.groups)
      if (group_names_.count(group)) chain.push_back(group);
    link(task.task, chain.empty() ? "" : chain.front());
    for (size_t i = 0; i < chain.size(); ++i) link(chain[i], i + 1 < chain.size() ? chain[i + 1] : "");
  }

  // The first placement wins, except that a top-level placement gives way to a real parent.
  void link(const std::string& child, const std::string& parent) {
    if (child == parent || (!parent.empty() && is_ancestor(child, parent))) return;
    auto [slot, inserted] = parent_.emplace(child, parent);
    if (!inserted && slot->second.empty()) slot->second = parent;
  }

  void adopt_if_unplaced(const std::string& member, const std::string& group) {
    auto found = parent_.find(member);
    bool unplaced = found == parent_.end() ? group_names_.count(member) > 0 : found->second.empty();
    if (unplaced) link(member, group);
  }

  bool is_ancestor(const std::string& candidate, std::string name) const {
    for (size_t steps = 0; steps <= parent_.size(); ++steps) {
      auto found = parent_.find(name);
      if (found == parent_.end() || found->second.empty()) return false;
      if (found->second == candidate) return true;
      name = found->second;
    }
    return true;  // a cycle: treat as related so no link closes it
  }

  std::string root_of(std::string name) const {
    for (size_t steps = 0; steps <= parent_.size(); ++steps) {
      auto found = parent_.find(name);
      if (found == parent_.end() || found->second.empty()) break;
      name = found->second;
    }
    return name;
  }

  void add_top_level(const std::string& name) {
    if (seen_top_.insert(name).second) top_level_.push_back(name);
  }

  void visit(const std::string& name, int depth, const std::string& root) {
    order_.push_back({name, depth, group_names_.count(name) > 0, root});
    for (const auto& member : members(name)) visit(member, depth + 1, root);
  }

  std::set<std::string> group_names_;
  std::map<std::string, std::string> parent_;              // "" = top level
  std::map<std::string, std::set<std::string>> children_;  // sorted, as lm-eval's _sort_task_dict
  std::vector<std::string> top_level_;
  std::set<std::string> seen_top_;
  std::vector<HierarchyEntry> order_;
};

// lm-eval's alias: members indented " " * depth + "- ", and (as lm-eval's MMLU aliases do) without their
// top-level group's prefix: mmlu_abstract_algebra under mmlu shows as " - abstract_algebra".
// A task file's task_alias or group_alias replaces the name (lm-eval's evaluator sets results[task]["alias"]
// from the config's task_alias, prepare_print_tasks takes a group's group_alias; both indented alike).
std::string alias_of(const HierarchyEntry& entry, const TaskResult* task, const GroupResult* group) {
  std::string shown = entry.name;
  bool aliased =
      task && task->config.is_object() && task->config.contains("task_alias") && task->config["task_alias"].is_string();
  if (aliased) shown = task->config["task_alias"].get<std::string>();
  if (group && !group->alias.empty()) {
    aliased = true;
    shown = group->alias;
  }
  if (entry.depth == 0) return shown;
  const std::string prefix = entry.root + "_";
  if (!aliased && shown.size() > prefix.size() && shown.compare(0, prefix.size(), prefix) == 0)
    shown.erase(0, prefix.size());
  return std::string(entry.depth, ' ') + "- " + shown;
}

ordered_json metric_entries(const std::string& alias, const std::vector<MetricValue>& metrics) {
  ordered_json entry = {{"alias", alias}};
  for (const auto& metric : metrics) {
    entry[metric.metric + "," + metric.filter] = metric.value;
    entry[metric.metric + "_stderr," + metric.filter] =
        metric.stderr_value ? ordered_json(*metric.stderr_value) : ordered_json("N/A");
  }
  return entry;
}

ordered_json higher_is_better_of(const std::vector<MetricValue>& metrics) {
  ordered_json flags = ordered_json::object();
  for (const auto& metric : metrics) flags[metric.metric] = metric.higher_is_better;
  return flags;
}

std::vector<std::string> filter_names(const TaskResult& task) {
  std::vector<std::string> names;
  for (const auto& metric : task.metrics)
    if (std::find(names.begin(), names.end(), metric.filter) == names.end()) names.push_back(metric.filter);
  return names;
}

// lm-eval's configs[task] is the task's whole TaskConfig (api/task.py TaskConfig.to_dict); the evaluator's
// TaskResult::config holds the keys that describe a built-in task (output_type, delimiters,
// generation_kwargs, ...). Our own keys (groups, version, filters) stay beside them.
ordered_json task_config(const TaskResult& task) {
  ordered_json metric_list = ordered_json::array();
  std::set<std::string> listed;
  for (const auto& metric : task.metrics)
    if (listed.insert(metric.metric).second)
      metric_list.push_back(
          {{"metric", metric.metric}, {"aggregation", "mean"}, {"higher_is_better", metric.higher_is_better}});
  ordered_json config = {{"task", task.task}};
  if (!task.groups.empty()) config["tag"] = task.groups;
  if (task.config.is_object())
    for (const auto& [key, value] : task.config.items()) config[key] = value;
  config["num_fewshot"] = task.shots;
  config["metric_list"] = metric_list;
  config["metadata"] = {{"version", task.version}};
  config["groups"] = task.groups;
  config["version"] = task.version;
  config["filters"] = filter_names(task);
  return config;
}

// Fallbacks to "[invalid]" per filter pipeline; every metric of a pipeline scores the same extractions,
// so the largest count is the pipeline's.
ordered_json invalid_counts(const TaskResult& task) {
  std::map<std::string, size_t> counts;
  for (const auto& metric : task.metrics) counts[metric.filter] = std::max(counts[metric.filter], metric.invalid);
  ordered_json out = ordered_json::object();
  for (const auto& [filter, count] : counts) out[filter] = count;
  return out;
}

ordered_json task_provenance(const TaskResult& task) {
  ordered_json files = ordered_json::array();
  for (const auto& file : task.data_files)
    files.push_back({{"path", file.path}, {"sha256", file.sha256}, {"rows", file.rows}});
  ordered_json provenance = {{"first_prompt_sha256", task.first_prompt_sha256},
                             {"all_prompts_sha256", task.all_prompts_sha256},
                             {"data_files", files},
                             {"doc_ids", task.doc_ids},
                             {"truncated_requests", task.truncated_requests},
                             {"max_token_hits", task.max_token_hits},
                             {"skipped_docs", skipped_docs_json(task)},
                             {"metric_variants", task.metric_variants},
                             {"invalid", invalid_counts(task)},
                             {"seconds", task.seconds}};
  if (task.shard) provenance["shard"] = {{"index", task.shard->first}, {"count", task.shard->second}};
  return provenance;
}

// The shots every task under a group used, when they agree (lm-eval shows a group's n-shot only then).
std::optional<int> common_shots(const std::vector<std::string>& leaves,
                                const std::map<std::string, const TaskResult*>& tasks) {
  std::optional<int> shots;
  for (const auto& leaf : leaves) {
    auto found = tasks.find(leaf);
    if (found == tasks.end()) continue;
    if (shots && *shots != found->second->shots) return std::nullopt;
    shots = found->second->shots;
  }
  return shots;
}

template <typename Map>
ordered_json sorted_object(const Map& values) {
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : values) out[key] = value;
  return out;
}

std::string results_markdown(const RunResult& run) {
  std::string text = results_table(run);
  auto size = run.config.find("model_size");
  if (size != run.config.end() && size->is_string()) {
    std::string card = model_card_table(run, size->get<std::string>());
    if (!card.empty()) text += "\n" + card;
  }
  return text;
}

// Task names are [a-z0-9_] in practice; anything else is replaced so a name can never leave the folder.
std::string file_safe(const std::string& name) {
  std::string safe = name;
  for (char& c : safe)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return safe;
}

}  // namespace

std::string lm_eval_doc_hash(const ordered_json& doc) { return sha256_hex(dump(doc, 2)); }

namespace {

// The filter keys of a task's samples, in lm-eval's order: its filter pipelines as its metrics name them
// ("strict-match" then "flexible-extract" for gsm8k), then pipelines only the records know (a --predict_only
// run scores nothing), else lm-eval's implicit "none" (multiple choice, perplexity).
std::vector<std::string> sample_filters(const TaskResult& task) {
  std::vector<std::string> names = filter_names(task);
  for (const auto& doc : task.docs)
    for (const auto& [filter, answer] : doc.extracted)
      if (std::find(names.begin(), names.end(), filter) == names.end()) names.push_back(filter);
  if (names.empty()) names.push_back("none");
  return names;
}

// lm-eval's task_hashes (evaluation_tracker.py): per task, the sha256 of every sample's
// doc_hash + prompt_hash + target_hash concatenated, in the samples' order (filter by filter).
ordered_json task_hashes(const RunResult& run) {
  ordered_json hashes = ordered_json::object();
  for (const auto& task : run.tasks) {
    if (task.docs.empty()) continue;
    std::string joined;
    const size_t filters = sample_filters(task).size();
    for (size_t f = 0; f < filters; ++f)
      for (const auto& doc : task.docs)
        joined += lm_eval_doc_hash(doc.doc) + sha256_hex(doc.prompt) + sha256_hex(doc.target_text);
    hashes[task.task] = sha256_hex(joined);
  }
  return hashes;
}

}  // namespace

double evaluation_seconds(const ordered_json& results) {
  const auto found = results.find("total_evaluation_time_seconds");
  if (found == results.end()) return 0.0;
  if (found->is_number()) return found->get<double>();
  if (found->is_string()) {
    try {
      return std::stod(found->get<std::string>());
    } catch (const std::exception&) {
    }
  }
  return 0.0;
}

ordered_json lm_eval_run_fields(const ordered_json& results) {
  ordered_json fields = ordered_json::object();
  if (!results.is_object()) return fields;
  for (const char* key : {"date",
                          "pretty_env_info",
                          "transformers_version",
                          "upper_git_hash",
                          "tokenizer_pad_token",
                          "tokenizer_eos_token",
                          "tokenizer_bos_token",
                          "eot_token_id",
                          "max_length",
                          "model_source",
                          "model_name",
                          "model_name_sanitized",
                          "system_instruction",
                          "system_instruction_sha",
                          "fewshot_as_multiturn",
                          "chat_template",
                          "chat_template_sha",
                          "start_time",
                          "end_time",
                          "total_evaluation_time_seconds"})
    if (results.contains(key)) fields[key] = results[key];
  return fields;
}

ordered_json results_json(const RunResult& run) {
  ResultHierarchy hierarchy(run);
  std::map<std::string, const TaskResult*> tasks;
  std::map<std::string, const GroupResult*> groups;
  for (const auto& task : run.tasks) tasks[task.task] = &task;
  for (const auto& group : run.groups) groups[group.group] = &group;

  ordered_json results = ordered_json::object(), group_results = ordered_json::object();
  ordered_json group_subtasks = ordered_json::object();
  std::map<std::string, ordered_json> configs, versions, n_shot, higher_is_better;
  for (const auto& entry : hierarchy.print_order()) {
    const auto found_task = tasks.find(entry.name);
    const auto found_group = groups.find(entry.name);
    const std::string alias =
        alias_of(entry, entry.is_group || found_task == tasks.end() ? nullptr : found_task->second,
                 entry.is_group && found_group != groups.end() ? found_group->second : nullptr);
    if (entry.is_group) {
      const GroupResult& group = *groups.at(entry.name);
      results[entry.name] = metric_entries(alias, group.metrics);
      group_results[entry.name] = metric_entries(alias, group.metrics);
      group_subtasks[entry.name] = hierarchy.members(entry.name);
      if (auto shots = common_shots(hierarchy.leaf_tasks(entry.name), tasks)) n_shot[entry.name] = *shots;
      higher_is_better[entry.name] = higher_is_better_of(group.metrics);
    } else {
      const TaskResult& task = *tasks.at(entry.name);
      results[entry.name] = metric_entries(alias, task.metrics);
      group_subtasks[entry.name] = ordered_json::array();
      configs[entry.name] = task_config(task);
      versions[entry.name] = task.version;
      n_shot[entry.name] = task.shots;
      higher_is_better[entry.name] = higher_is_better_of(task.metrics);
    }
  }

  ordered_json n_samples = ordered_json::object(), provenance = ordered_json::object();
  for (const auto& task : run.tasks) {
    n_samples[task.task] = {{"original", task.docs_total}, {"effective", task.doc_ids.size()}};
    provenance[task.task] = task_provenance(task);
  }

  ordered_json out;
  out["results"] = std::move(results);
  out["groups"] = std::move(group_results);
  out["group_subtasks"] = std::move(group_subtasks);
  out["configs"] = sorted_object(configs);
  out["versions"] = sorted_object(versions);
  out["n-shot"] = sorted_object(n_shot);
  out["higher_is_better"] = sorted_object(higher_is_better);
  out["n-samples"] = std::move(n_samples);
  out["config"] = run.config;
  out["git_hash"] = run.config.is_object() ? run.config.value("git_hash", ordered_json()) : ordered_json();
  // lm-eval's run-level keys, in the order simple_evaluate and EvaluationTracker write them; a run that
  // did not record one (an older results.json rescored) gets null.
  const ordered_json& lm_eval = run.lm_eval;
  auto lm_eval_value = [&](const char* key) {
    return lm_eval.is_object() && lm_eval.contains(key) ? lm_eval[key] : ordered_json();
  };
  for (const char* key : {"date", "pretty_env_info", "transformers_version", "upper_git_hash", "tokenizer_pad_token",
                          "tokenizer_eos_token", "tokenizer_bos_token", "eot_token_id", "max_length"})
    out[key] = lm_eval_value(key);
  if (out["date"].is_null() && run.config.is_object()) out["date"] = run.config.value("date", ordered_json());
  out["task_hashes"] = task_hashes(run);
  for (const char* key :
       {"model_source", "model_name", "model_name_sanitized", "system_instruction", "system_instruction_sha",
        "fewshot_as_multiturn", "chat_template", "chat_template_sha", "start_time", "end_time"})
    out[key] = lm_eval_value(key);
  // lm-eval writes it as a string (str(end_time - start_time)).
  out["total_evaluation_time_seconds"] = lm_eval_value("total_evaluation_time_seconds");
  if (!out["total_evaluation_time_seconds"].is_string())
    out["total_evaluation_time_seconds"] = python_float_text(run.seconds);
  out["provenance"] = std::move(provenance);
  return out;
}

ordered_json model_details(const ordered_json& config) {
  if (!config.is_object()) return ordered_json::object();
  for (const char* key : {"model_details", "model"})
    if (auto found = config.find(key); found != config.end() && found->is_object()) return *found;
  return ordered_json::object();
}

ordered_json model_details_of_results(const ordered_json& results) {
  if (!results.is_object() || !results.contains("config")) return ordered_json::object();
  return model_details(results["config"]);
}

ordered_json with_lm_eval_model_type(ordered_json config) {
  if (!config.is_object()) return config;
  if (auto model = config.find("model"); model != config.end() && model->is_object()) {
    if (!config.contains("model_details")) config["model_details"] = *model;
    config["model"] = kLmEvalModelType;
  }
  return config;
}

RunIdentity RunIdentity::of_config(const ordered_json& config) {
  RunIdentity identity;
  if (!config.is_object()) return identity;
  if (auto id = config.find("run_id"); id != config.end() && id->is_string()) identity.run_id = id->get<std::string>();
  const ordered_json model = model_details(config);
  if (auto fp = model.find("weights_fingerprint"); fp != model.end() && fp->is_string())
    identity.weights_fingerprint = fp->get<std::string>();
  return identity;
}

RunIdentity RunIdentity::of_results(const ordered_json& results) {
  if (!results.is_object() || !results.contains("config")) return {};
  return of_config(results["config"]);
}

std::string new_run_id() { return random_hex_id(); }

namespace {

template <typename Json>
void check_identity(const Json& line, const RunIdentity& expected, const std::string& where) {
  const auto text = [&](const char* key) {
    return line.is_object() && line.contains(key) && line[key].is_string() ? line[key].template get<std::string>()
                                                                           : std::string();
  };
  const std::string run_id = text("run_id");
  if (run_id != expected.run_id) {
    if (expected.run_id.empty())
      fail("{}: samples of run {}, but the results.json beside them has no run id (samples of another run)", where,
           run_id);
    if (run_id.empty())
      fail(
          "{}: no run_id, but the results.json beside it is run {}: samples left from another run (rerun with "
          "--log-samples to write this run's)",
          where, expected.run_id);
    fail(
        "{}: samples of run {}, but the results.json beside them is run {}: samples left from another run (rerun "
        "with --log-samples to write this run's)",
        where, run_id, expected.run_id);
  }
  const std::string fingerprint = text("weights_fingerprint");
  if (!expected.run_id.empty() && fingerprint != expected.weights_fingerprint)
    fail("{}: samples of weights {}, but the results.json beside them is of weights {}", where,
         fingerprint.empty() ? "(none)" : fingerprint,
         expected.weights_fingerprint.empty() ? "(none)" : expected.weights_fingerprint);
}

}  // namespace

void check_samples_identity(const nlohmann::json& line, const RunIdentity& expected, const std::string& where) {
  check_identity(line, expected, where);
}

void check_samples_identity(const ordered_json& line, const RunIdentity& expected, const std::string& where) {
  check_identity(line, expected, where);
}

namespace {

// lm-eval's keys of a samples line (evaluator.py evaluate() and evaluation_tracker.py save_results_samples):
// arguments as {"gen_args_i": {"arg_j": ...}}, resps and filtered_resps with tuples as lists of str(),
// target as str(), metrics as the list of metric names with each metric's value beside it.
void add_lm_eval_sample_keys(const evals::DocRecord& doc, const std::string& filter, ordered_json& line) {
  ordered_json arguments = ordered_json::object(), resps = ordered_json::array(), filtered = ordered_json::array();
  if (!doc.continuations.empty()) {
    for (size_t i = 0; i < doc.continuations.size(); ++i) {
      const std::string& context = doc.contexts.empty() ? doc.prompt : doc.contexts[i];
      arguments["gen_args_" + std::to_string(i)] = {{"arg_0", context}, {"arg_1", doc.continuations[i]}};
      const ordered_json response =
          ordered_json::array({python_float_text(doc.loglikelihoods.at(i)), doc.is_greedy.at(i) ? "True" : "False"});
      resps.push_back(ordered_json::array({response}));
      filtered.push_back(response);
    }
  } else {
    arguments["gen_args_0"] = {
        {"arg_0", doc.prompt},
        {"arg_1",
         {{"until", doc.until}, {"max_gen_toks", doc.max_gen_toks}, {"do_sample", false}, {"temperature", 0.0}}}};
    resps.push_back(ordered_json::array({doc.generated}));
    auto extracted = doc.extracted.find(filter);
    filtered.push_back(extracted == doc.extracted.end() ? doc.generated : extracted->second);
  }
  line["doc"] = doc.doc;
  line["target"] = doc.target_text;
  line["arguments"] = std::move(arguments);
  line["resps"] = std::move(resps);
  line["filtered_resps"] = std::move(filtered);
  line["filter"] = filter;
  ordered_json metric_names = ordered_json::array();
  const std::string suffix = "," + filter;
  for (const auto& [key, value] : doc.metrics)
    if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0)
      metric_names.push_back(key.substr(0, key.size() - suffix.size()));
  line["metrics"] = metric_names;
  line["doc_hash"] = lm_eval_doc_hash(doc.doc);
  line["prompt_hash"] = sha256_hex(doc.prompt);
  line["target_hash"] = sha256_hex(doc.target_text);
  for (const auto& name : metric_names) {
    const std::string metric = name.get<std::string>();
    if (!line.contains(metric)) line[metric] = doc.metrics.at(metric + suffix);
  }
}

}  // namespace

// lm-eval's layout (evaluator.py evaluate(): `for filter_key in ...filtered_resps.keys(): for doc_id, doc in
// doc_iterator`): one line per filter and doc, filter by filter, each doc in doc order. Every line also
// carries this harness's own record of the doc, whole, so a line stays self-contained; readers take a
// doc's record from its first line and check that its other filters' lines repeat it.
std::string samples_jsonl(const TaskResult& task, const RunIdentity& identity) {
  std::string lines;
  for (const std::string& filter : sample_filters(task))
    for (const auto& doc : task.docs) {
      ordered_json line = {{"doc_id", doc.doc_id}};
      add_lm_eval_sample_keys(doc, filter, line);
      // This harness's own keys: its target (the gold index or reference strings, which rescore reads) is
      // "gold", since lm-eval's "target" is a string; its per-metric-and-filter scores are "scores".
      line["prompt"] = doc.prompt;
      line["shot_ids"] = doc.shot_ids;
      line["gold"] = ordered_json(doc.target);
      if (!doc.contexts.empty()) line["contexts"] = doc.contexts;  // WinoGrande: a context per choice
      if (!doc.continuations.empty()) {                            // multiple choice: one loglikelihood per choice
        line["continuations"] = doc.continuations;
        line["loglikelihoods"] = doc.loglikelihoods;
        line["is_greedy"] = doc.is_greedy;
      } else if (!doc.loglikelihoods.empty()) {  // loglikelihood_rolling: the prompt's own log-likelihood
        line["loglikelihoods"] = doc.loglikelihoods;
        line["is_greedy"] = doc.is_greedy;
      } else {
        line["until"] = doc.until;
        if (!doc.subset.empty()) line["subset"] = doc.subset;
        line["generated"] = doc.generated;
        line["extracted"] = sorted_object(doc.extracted);
      }
      line["scores"] = sorted_object(doc.metrics);
      if (doc.max_gen_toks > 0) line["max_gen_toks"] = doc.max_gen_toks;
      line["truncated"] = doc.truncated;
      // In every line rather than a header line, so each line stays a self-contained lm-eval-style
      // sample for tools that read them one by one.
      line["run_id"] = identity.run_id;
      line["weights_fingerprint"] = identity.weights_fingerprint;
      lines += dump(line, -1);
      lines += '\n';
    }
  return lines;
}

void write_lm_eval_outputs(const RunResult& run, const fs::path& folder, const std::string& results_name,
                           const std::string& samples_suffix, bool log_samples) {
  const RunIdentity identity = RunIdentity::of_config(run.config);
  if (identity.run_id.empty()) fail("internal error: the run to write into {} has no config.run_id", folder.string());
  std::vector<std::pair<std::string, std::string>> files;
  if (log_samples)
    for (const auto& task : run.tasks)
      files.emplace_back("samples_" + file_safe(task.task) + samples_suffix + ".jsonl", samples_jsonl(task, identity));
  files.emplace_back(results_name, dump(results_json(run), 2) + "\n");  // last: it completes the set
  // Every name carries the run's timestamp; one that exists anyway (two runs in the same microsecond, a
  // clock set back) is never replaced.
  for (const auto& [name, bytes] : files)
    if (fs::exists(folder / name))
      fail("{}: already exists (another run's file); nothing was written, rerun to get a new timestamp",
           (folder / name).string());
  OutputFolderWriter writer(folder);
  for (const auto& [name, bytes] : files) writer.add(name, bytes);
  writer.commit([](const std::string&) { return false; });
}

void write_samples_jsonl(const fs::path& path, const TaskResult& task, const RunIdentity& identity) {
  write_file_atomic(path, samples_jsonl(task, identity));
}

fs::path samples_path(const fs::path& output_dir, const std::string& task) {
  return output_dir / ("samples_" + file_safe(task) + ".jsonl");
}

void write_run_outputs(const RunResult& run, const fs::path& output_dir, bool log_samples) {
  const RunIdentity identity = RunIdentity::of_config(run.config);
  if (identity.run_id.empty())
    fail("internal error: the run to write into {} has no config.run_id", output_dir.string());
  const std::string json_text = dump(results_json(run), 2) + "\n";
  const std::string markdown = results_markdown(run);
  OutputFolderWriter folder(output_dir);
  if (log_samples)
    for (const auto& task : run.tasks)
      folder.add(samples_path("", task.task).filename().string(), samples_jsonl(task, identity));
  folder.add("results.md", markdown);
  folder.add("results.json", json_text);  // last: its rename completes the set
  folder.commit([](const std::string& name) {
    return name.size() > 14 && name.compare(0, 8, "samples_") == 0 && name.compare(name.size() - 6, 6, ".jsonl") == 0;
  });
}

namespace {

// One samples line back into the record it was written from.
evals::DocRecord doc_record(const nlohmann::json& line, const std::string& where) {
  try {
    evals::DocRecord doc;
    doc.doc_id = line.at("doc_id").get<int64_t>();
    doc.prompt = line.at("prompt").get<std::string>();
    doc.shot_ids = line.at("shot_ids").get<std::vector<int64_t>>();
    // "gold" and "scores" since lm-eval's keys joined the lines; older files have them as "target", "metrics".
    doc.target = line.contains("gold") ? line["gold"] : line.at("target");
    if (line.contains("gold") && line.contains("target") && line["target"].is_string())
      doc.target_text = line["target"].get<std::string>();
    doc.max_gen_toks = line.value("max_gen_toks", 0);
    if (line.contains("contexts")) doc.contexts = line["contexts"].get<std::vector<std::string>>();
    if (line.contains("continuations")) {
      doc.continuations = line["continuations"].get<std::vector<std::string>>();
      doc.loglikelihoods = line.at("loglikelihoods").get<std::vector<double>>();
      doc.is_greedy = line.at("is_greedy").get<std::vector<bool>>();
    } else if (line.contains("loglikelihoods")) {
      doc.loglikelihoods = line["loglikelihoods"].get<std::vector<double>>();
      doc.is_greedy = line.at("is_greedy").get<std::vector<bool>>();
    } else {
      doc.until = line.at("until").get<std::vector<std::string>>();
      doc.generated = line.at("generated").get<std::string>();
      doc.subset = line.value("subset", std::string());
      doc.extracted = line.at("extracted").get<std::map<std::string, std::string>>();
    }
    doc.metrics = (line.contains("scores") ? line["scores"] : line.at("metrics")).get<std::map<std::string, double>>();
    doc.truncated = line.at("truncated").get<bool>();
    return doc;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not a gemma-eval samples line: {}", where, e.what());
  }
}

}  // namespace

namespace {

// A samples line without what differs between a doc's filters.
nlohmann::json record_of_line(const ordered_json& line) {
  nlohmann::json record = nlohmann::json::parse(dump(line, -1));
  if (record.contains("metrics") && record["metrics"].is_array()) {
    for (const auto& name : record["metrics"])
      if (name.is_string()) record.erase(name.get<std::string>());
    record.erase("metrics");
  }
  record.erase("filter");
  record.erase("filtered_resps");
  return record;
}

}  // namespace

bool SamplesLineTracker::first_line_of_doc(const ordered_json& line, int64_t doc_id, const std::string& where) {
  const auto filter_of = [&]() -> std::string {
    auto found = line.find("filter");
    return found != line.end() && found->is_string() ? found->get<std::string>() : std::string();
  };
  const std::string filter = filter_of();
  auto found = docs_.find(doc_id);
  if (found == docs_.end()) {
    docs_.emplace(doc_id, FirstLine{where, record_of_line(line), {filter}});
    return true;
  }
  FirstLine& first = found->second;
  if (filter.empty() || std::find(first.filters.begin(), first.filters.end(), filter) != first.filters.end())
    fail("{}: doc_id {} appears twice{} (first at {})", where, doc_id,
         filter.empty() ? std::string() : " for filter \"" + filter + "\"", first.where);
  first.filters.push_back(filter);
  const nlohmann::json record = record_of_line(line);
  if (record != first.record) {
    std::string key;
    for (const auto& [name, value] : first.record.items())
      if (!record.contains(name) || record[name] != value) {
        key = name;
        break;
      }
    if (key.empty())
      for (const auto& [name, value] : record.items())
        if (!first.record.contains(name)) {
          key = name;
          break;
        }
    fail(
        "{}: doc_id {}'s line for filter \"{}\" differs from its first line ({}) in \"{}\": every filter's line "
        "of a doc repeats the doc's record (lm-eval's layout), so an edit must be made on each of them",
        where, doc_id, filter, first.where, key);
  }
  return false;
}

std::vector<evals::DocRecord> read_samples_jsonl(const std::filesystem::path& path, const RunIdentity& expected) {
  std::ifstream in(path);
  if (!in) fail("{}: missing (samples are written by runs with --log-samples or --shard)", path.string());
  std::vector<evals::DocRecord> docs;
  SamplesLineTracker lines;
  size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty()) continue;
    const std::string where = path.string() + ":" + std::to_string(number);
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail("{}: not valid JSON: {}", where, e.what());
    }
    check_samples_identity(value, expected, where);
    if (!value.is_object() || !value.contains("doc_id") || !value["doc_id"].is_number_integer())
      fail("{}: not a gemma-eval samples line: no integer \"doc_id\"", where);
    // The row keeps its key order (lm-eval's doc_hash is of the row as written): read it order-preserving.
    const ordered_json ordered = ordered_json::parse(line);
    if (!lines.first_line_of_doc(ordered, value["doc_id"].get<int64_t>(), where)) continue;
    docs.push_back(doc_record(value, where));
    if (value.contains("doc")) docs.back().doc = ordered["doc"];
  }
  return docs;
}

}  // namespace gemma::reports
