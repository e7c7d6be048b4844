#include "evals/evaluator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <unordered_map>

#include "common/error.h"
#include "common/python_random.h"
#include "common/sha256.h"
#include "evals/fewshot.h"
#include "evals/filters.h"
#include "evals/prompt.h"
#include "evals/task_registry.h"
#include "scorers/exact_match.h"
#include "scorers/multiple_choice.h"
#include "scorers/stderr.h"

namespace gemma::evals {
namespace {

int resolve_shots(const TaskSpec& task, const EvalOptions& options) {
  // lm-eval builds a loglikelihood_rolling request from doc_to_target alone: a prompt, and so its
  // shots, never reaches the model (api/task.py::construct_requests).
  if (task.output_type == OutputType::LoglikelihoodRolling) return 0;
  const int shots = options.shots.value_or(task.default_shots);
  if (shots < 0) fail("task {}: the number of shots must not be negative (got {})", task.name, shots);
  return shots;
}

std::optional<DocSplit> load_shot_split(const TaskSpec& task, const std::filesystem::path& data_dir, int shots) {
  if (shots == 0) return std::nullopt;
  if (!task.load_fewshot)
    fail("task {}: {} few-shot examples were requested but the task has no few-shot split (use --shots 0)", task.name,
         shots);
  try {
    return task.load_fewshot(data_dir);
  } catch (const Error& e) {
    fail("task {}: {} few-shot examples need its shot split, which could not be read: {}", task.name, shots, e.what());
  }
}

// ---- which docs ----

// --limit N: the first N docs (lm-eval's behaviour), or N drawn with Python's
// random.Random(limit_seed).sample(range(total), N) and put back in ascending order, so the shot RNG
// still walks the evaluated docs in doc order.
std::vector<int64_t> select_doc_ids(const TaskSpec& task, size_t total, const EvalOptions& options) {
  if (total == 0) fail("task {}: the eval split has no documents", task.name);
  size_t count = options.limit ? std::min(*options.limit, total) : total;
  // lm-eval evaluator.py: int(math.ceil(len(eval_docs) * limit)) for a limit below 1.0.
  if (options.limit_fraction)
    count = std::min(total, static_cast<size_t>(std::ceil(static_cast<double>(total) * *options.limit_fraction)));
  if (count == 0) fail("task {}: --limit 0 leaves no documents to evaluate", task.name);
  std::vector<int64_t> ids;
  ids.reserve(count);
  if (count == total || options.limit_mode == LimitMode::First) {
    for (size_t i = 0; i < count; ++i) ids.push_back(static_cast<int64_t>(i));
    return ids;
  }
  PythonRandom rng(options.limit_seed);
  for (uint64_t index : rng.sample(total, count)) ids.push_back(static_cast<int64_t>(index));
  std::sort(ids.begin(), ids.end());
  return ids;
}

// ---- prompts ----

struct PreparedDoc {
  int64_t doc_id = 0;
  const Doc* doc = nullptr;  // the eval split's row (outlives the PreparedDoc), for the samples' "doc"
  std::vector<int64_t> shot_ids;
  std::vector<std::string> contexts;  // one; or one per choice for multiple-input tasks
  // multiple choice
  std::vector<std::string> continuations;  // one per request
  std::vector<std::string> choices;        // the texts whose lengths normalise acc_norm
  long gold = -1;
  std::vector<long> golds;
  std::string target_text;  // lm-eval's str(doc_to_target(doc)), for the samples' target and target_hash  // every
                            // correct index (doc_to_golds), else {gold}
  std::string subset;       // doc_to_subset
  // generation
  std::vector<std::string> references;
  std::vector<std::string> images;  // multimodal tasks, in marker order
};

// The answer a shot shows: doc_to_target when set, else (multiple choice) choices[gold].
FewshotExample render_shot(const TaskSpec& task, const Doc& doc, int64_t shot_id) {
  auto gold_choice = [&](const std::vector<std::string>& choices) -> std::string {
    const int gold = task.doc_to_gold(doc);
    if (gold < 0 || static_cast<size_t>(gold) >= choices.size())
      fail("task {}: few-shot doc {} has gold index {} but {} choices", task.name, shot_id, gold, choices.size());
    return choices[static_cast<size_t>(gold)];
  };
  if (task.multiple_inputs) return {gold_choice(task.doc_to_choice(doc)), task.doc_to_target(doc)};
  if (task.doc_to_target) return {task.doc_to_text(doc), task.doc_to_target(doc)};
  if (task.output_type != OutputType::MultipleChoice)
    fail("task {}: few-shot examples need doc_to_target, which the task adapter does not set", task.name);
  return {task.doc_to_text(doc), gold_choice(task.doc_to_choice(doc))};
}

bool same_split(const DocSplit& a, const DocSplit& b) {
  if (a.name != b.name || a.files.size() != b.files.size()) return false;
  for (size_t i = 0; i < a.files.size(); ++i)
    if (a.files[i].path != b.files[i].path) return false;
  return true;
}

class PromptBuilder {
 public:
  PromptBuilder(const TaskSpec& task, const DocSplit& eval_split, const DocSplit* shot_split, int shots,
                const EvalOptions& options, std::filesystem::path data_dir)
      : data_dir_(std::move(data_dir)),
        task_(task),
        eval_split_(eval_split),
        shot_split_(shot_split),
        shots_(shots),
        profile_(options.profile),
        chat_renderer_(options.chat_renderer),
        format_{options.system_instruction, task.description, task.target_delimiter, task.fewshot_delimiter,
                options.fewshot_as_multiturn},
        sampler_(task.name, task.sampler, shot_split ? shot_split->docs.size() : 0, options.fewshot_seed),
        pool_is_eval_split_(shot_split && same_split(*shot_split, eval_split)) {}

  // Must be called in ascending doc order: the shot RNG is shared by all docs of the task.
  PreparedDoc prepare(int64_t doc_id) {
    const Doc& doc = eval_split_.docs.at(static_cast<size_t>(doc_id));
    PreparedDoc prepared;
    prepared.doc_id = doc_id;
    prepared.doc = &doc;
    prepared.shot_ids = sampler_.next(shots_, eval_doc_matcher(doc_id, doc));
    const std::vector<FewshotExample> shots = shot_examples(prepared.shot_ids);
    PromptFormat format = format_;
    if (task_.doc_to_description) format.description = task_.doc_to_description(doc);  // of the eval doc, as lm-eval
    if (task_.doc_to_images) {
      if (shots_ > 0) fail("task {}: few-shot prompts with images are not supported (use --shots 0)", task_.name);
      prepared.images = task_.doc_to_images(doc, data_dir_);
    }
    if (task_.output_type == OutputType::LoglikelihoodRolling) {
      prepared.contexts.push_back(task_.doc_to_target(doc));  // the text scored, without prompt or template
      return prepared;
    }
    if (task_.output_type == OutputType::Loglikelihood) {
      // lm-eval's arguments (ctx, doc_to_target(doc)): the target is the continuation as it stands (no
      // target_delimiter; lambada's target starts with its own space).
      prepared.contexts.push_back(build_prompt(format, shots, task_.doc_to_text(doc), profile_));
      prepared.continuations.push_back(task_.doc_to_target(doc));
      return prepared;
    }
    if (task_.output_type == OutputType::GenerateUntil) {
      prepared.contexts.push_back(build_prompt(format, shots, task_.doc_to_text(doc), profile_, chat_renderer_));
      prepared.references = task_.doc_to_references(doc);
      prepared.target_text = task_.doc_to_target           ? task_.doc_to_target(doc)
                             : prepared.references.empty() ? std::string()
                                                           : prepared.references.front();
      if (task_.doc_to_subset) prepared.subset = task_.doc_to_subset(doc);
      return prepared;
    }
    prepared.choices = task_.doc_to_choice(doc);
    prepared.gold = task_.doc_to_gold(doc);
    // lm-eval's multiple-choice targets are the gold index (str() of it in the samples); a multiple-input
    // task's (WinoGrande) is the shared continuation text.
    prepared.target_text = task_.multiple_inputs ? task_.doc_to_target(doc) : std::to_string(prepared.gold);
    if (task_.doc_to_golds)
      for (int gold : task_.doc_to_golds(doc)) prepared.golds.push_back(gold);
    else
      prepared.golds = {prepared.gold};
    const std::string delimiter = choice_delimiter(task_.target_delimiter, profile_);
    if (task_.multiple_inputs) {
      prepared.contexts = build_multiple_input_prompts(format, shots, prepared.choices, profile_, chat_renderer_);
      prepared.continuations.assign(prepared.contexts.size(), delimiter + task_.doc_to_target(doc));
    } else {
      prepared.contexts.push_back(build_prompt(format, shots, task_.doc_to_text(doc), profile_, chat_renderer_));
      for (const std::string& choice : prepared.choices) prepared.continuations.push_back(delimiter + choice);
    }
    return prepared;
  }

 private:
  std::filesystem::path data_dir_;
  // lm-eval hands the eval doc to the sampler when the shot split is the eval split (or both are
  // unset) and drops a drawn doc equal to it. Same split: compare doc ids (stable even for tasks
  // whose docs are shuffled per call). Different splits: compare the processed docs, as lm-eval's
  // dict equality does.
  IsEvalDoc eval_doc_matcher(int64_t doc_id, const Doc& doc) const {
    if (!task_.sampler_gets_eval_doc || shot_split_ == nullptr) return nullptr;
    if (pool_is_eval_split_) return [doc_id](size_t index) { return static_cast<int64_t>(index) == doc_id; };
    return [this, &doc](size_t index) { return shot_split_->docs[index] == doc; };
  }

  std::vector<FewshotExample> shot_examples(const std::vector<int64_t>& shot_ids) {
    std::vector<FewshotExample> examples;
    examples.reserve(shot_ids.size());
    for (int64_t id : shot_ids) {
      auto cached = rendered_shots_.find(id);
      if (cached == rendered_shots_.end())
        cached =
            rendered_shots_.emplace(id, render_shot(task_, shot_split_->docs.at(static_cast<size_t>(id)), id)).first;
      examples.push_back(cached->second);
    }
    return examples;
  }

  const TaskSpec& task_;
  const DocSplit& eval_split_;
  const DocSplit* shot_split_;
  int shots_;
  Profile profile_;
  ChatRenderer chat_renderer_;
  PromptFormat format_;
  FewshotSampler sampler_;
  bool pool_is_eval_split_;
  std::unordered_map<int64_t, FewshotExample> rendered_shots_;
};

// ---- prompt fingerprints ----

// first_prompt_sha256: SHA-256 of the first evaluated doc's first context string (UTF-8, no BOS).
// all_prompts_sha256: SHA-256 over every context string of every evaluated doc, in doc order and,
// within a doc, in request order (one per doc; one per choice for multiple-input tasks), each
// followed by one NUL byte so that boundaries between prompts are part of the hash.
void fingerprint_prompts(const std::vector<PreparedDoc>& docs, TaskResult& result) {
  result.first_prompt_sha256 = sha256_hex(docs.front().contexts.front());
  Sha256 all;
  for (const PreparedDoc& doc : docs)
    for (const std::string& context : doc.contexts) {
      all.update(context);
      all.update(std::string_view("\0", 1));
    }
  result.all_prompts_sha256 = all.hex_digest();
}

// ---- engine calls ----

template <typename Results>
void check_result_count(const TaskSpec& task, const Results& results, size_t requests, const char* kind) {
  if (results.size() != requests)
    fail("task {}: the engine returned {} {} results for {} requests", task.name, results.size(), kind, requests);
}

// Runs an engine call; an engine's failure on one request (non-finite numbers, out of memory) is
// reported naming the task and the request's doc.
template <typename Call>
auto answer_or_name_doc(const TaskSpec& task, const std::vector<int64_t>& request_doc, Call call) -> decltype(call()) {
  try {
    return call();
  } catch (const RequestError& e) {
    if (e.request_index >= request_doc.size()) throw;
    fail("task {}: doc {}: {}", task.name, request_doc[e.request_index], e.what());
  }
}

// The fields every samples line carries whatever the task's type: lm-eval's doc and target text.
void record_doc_identity(const PreparedDoc& doc, DocRecord& record) {
  record.doc_id = doc.doc_id;
  if (doc.doc) record.doc = *doc.doc;
  record.target_text = doc.target_text;
  record.prompt = doc.contexts.front();
  record.shot_ids = doc.shot_ids;
}

void run_multiple_choice(const TaskSpec& task, const std::vector<PreparedDoc>& docs, Engine& engine,
                         EngineProgress* progress, TaskResult& result, bool predict_only) {
  std::vector<LoglikelihoodRequest> requests;
  std::vector<int64_t> request_doc;  // the doc id of each request, to name it when the engine fails on it
  for (const PreparedDoc& doc : docs) {
    for (size_t i = 0; i < doc.continuations.size(); ++i) {
      const std::string& context = task.multiple_inputs ? doc.contexts[i] : doc.contexts.front();
      requests.push_back({context, doc.continuations[i], doc.images});
      request_doc.push_back(doc.doc_id);
    }
  }
  const std::vector<LoglikelihoodResult> answers =
      answer_or_name_doc(task, request_doc, [&] { return engine.loglikelihood(requests, progress); });
  check_result_count(task, answers, requests.size(), "loglikelihood");

  size_t next = 0;
  for (const PreparedDoc& doc : docs) {
    DocRecord record;
    record_doc_identity(doc, record);
    if (doc.contexts.size() > 1) record.contexts = doc.contexts;
    record.target = doc.golds.size() == 1 ? nlohmann::json(doc.golds.front()) : nlohmann::json(doc.golds);
    record.continuations = doc.continuations;
    for (size_t i = 0; i < doc.continuations.size(); ++i, ++next) {
      const LoglikelihoodResult& answer = answers[next];
      if (!std::isfinite(answer.logprob))  // argmax over NaN would pick a choice: never score it
        fail("task {}: doc {}: the log-likelihood of choice {} is {}; nothing is scored from it", task.name, doc.doc_id,
             i, answer.logprob);
      record.loglikelihoods.push_back(answer.logprob);
      record.is_greedy.push_back(answer.is_greedy);
      record.truncated = record.truncated || answer.truncated;
      if (answer.truncated) ++result.truncated_requests;
    }
    if (!predict_only) score_multiple_choice_metrics(task, doc.choices, doc.golds, record);
    result.docs.push_back(std::move(record));
  }
}

// A loglikelihood or loglikelihood_rolling answer into the doc's record (one request per doc).
void record_loglikelihood(const TaskSpec& task, const LoglikelihoodResult& answer, TaskResult& result,
                          DocRecord& record) {
  if (!std::isfinite(answer.logprob))
    fail("task {}: doc {}: the log-likelihood is {}; nothing is scored from it", task.name, record.doc_id,
         answer.logprob);
  record.loglikelihoods = {answer.logprob};
  record.is_greedy = {answer.is_greedy};
  record.truncated = answer.truncated;
  if (answer.truncated) ++result.truncated_requests;
  score_loglikelihood_metrics(task, record);
}

// output_type loglikelihood: log P(target | prompt) per doc, lm-eval's lambada.
void run_loglikelihood(const TaskSpec& task, const std::vector<PreparedDoc>& docs, Engine& engine,
                       EngineProgress* progress, TaskResult& result) {
  std::vector<LoglikelihoodRequest> requests;
  std::vector<int64_t> request_doc;
  for (const PreparedDoc& doc : docs) {
    requests.push_back({doc.contexts.front(), doc.continuations.front(), doc.images});
    request_doc.push_back(doc.doc_id);
  }
  const std::vector<LoglikelihoodResult> answers =
      answer_or_name_doc(task, request_doc, [&] { return engine.loglikelihood(requests, progress); });
  check_result_count(task, answers, requests.size(), "loglikelihood");
  for (size_t d = 0; d < docs.size(); ++d) {
    DocRecord record;
    record.doc_id = docs[d].doc_id;
    record.prompt = docs[d].contexts.front();
    record.shot_ids = docs[d].shot_ids;
    record.target = docs[d].continuations.front();
    record.continuations = docs[d].continuations;
    record_loglikelihood(task, answers[d], result, record);
    result.docs.push_back(std::move(record));
  }
}

// output_type loglikelihood_rolling: the log-likelihood of each doc's whole text. The record's prompt is
// that text (the word and byte counts of the rolling metrics come from it); it has no target.
void run_loglikelihood_rolling(const TaskSpec& task, const std::vector<PreparedDoc>& docs, Engine& engine,
                               EngineProgress* progress, TaskResult& result) {
  std::vector<RollingLoglikelihoodRequest> requests;
  std::vector<int64_t> request_doc;
  for (const PreparedDoc& doc : docs) {
    requests.push_back({doc.contexts.front()});
    request_doc.push_back(doc.doc_id);
  }
  const std::vector<LoglikelihoodResult> answers =
      answer_or_name_doc(task, request_doc, [&] { return engine.loglikelihood_rolling(requests, progress); });
  check_result_count(task, answers, requests.size(), "loglikelihood_rolling");
  for (size_t d = 0; d < docs.size(); ++d) {
    DocRecord record;
    record.doc_id = docs[d].doc_id;
    record.prompt = docs[d].contexts.front();
    record_loglikelihood(task, answers[d], result, record);
    result.docs.push_back(std::move(record));
  }
}

nlohmann::json references_json(const std::vector<std::string>& references) {
  if (references.size() == 1) return references.front();
  return references;
}

void run_generation(const TaskSpec& task, const std::vector<PreparedDoc>& docs, Engine& engine,
                    EngineProgress* progress, TaskResult& result, std::map<std::string, size_t>& invalid_by_filter,
                    const EvalOptions& options) {
  const GenerationScoring scoring(task);  // compiles everything that can fail before the engine runs

  std::vector<GenerationRequest> requests;
  requests.reserve(docs.size());
  // lm-eval adds only the tokenizer's EOS to `until`; the engine stops on EOS token ids itself.
  std::vector<int64_t> request_doc;
  // lm-eval's --gen_kwargs update the task's generation_kwargs: a key given replaces the task's.
  const std::vector<std::string>& until = options.until ? *options.until : task.until;
  const int max_gen_toks = options.max_gen_toks.value_or(task.max_gen_toks);
  for (const PreparedDoc& doc : docs) {
    requests.push_back({doc.contexts.front(), until, max_gen_toks, doc.images});
    request_doc.push_back(doc.doc_id);
  }
  const std::vector<GenerationResult> answers =
      answer_or_name_doc(task, request_doc, [&] { return engine.generate_until(requests, progress); });
  check_result_count(task, answers, requests.size(), "generation");

  for (size_t d = 0; d < docs.size(); ++d) {
    const PreparedDoc& doc = docs[d];
    const GenerationResult& answer = answers[d];
    DocRecord record;
    record_doc_identity(doc, record);
    record.target = references_json(doc.references);
    record.subset = doc.subset;
    record.until = until;
    record.max_gen_toks = max_gen_toks;
    record.generated = answer.text;
    record.truncated = answer.truncated;
    if (answer.truncated) ++result.truncated_requests;
    if (answer.hit_max_tokens) ++result.max_token_hits;
    if (options.predict_only)
      extract_answers(scoring, record);
    else
      score_generation(task, scoring, doc.references, record, invalid_by_filter);
    result.docs.push_back(std::move(record));
  }
}

// Images are checked before any model time is spent: a bad one stops the task naming the file and the
// doc, or (skip_bad_samples) leaves that doc out and records why.
void drop_docs_with_bad_images(const TaskSpec& task, const EvalOptions& options, std::vector<PreparedDoc>& docs,
                               TaskResult& result) {
  if (!task.doc_to_images) return;
  if (!options.check_image) fail("task {}: needs images, but this build cannot read them", task.name);
  std::vector<PreparedDoc> kept;
  for (PreparedDoc& doc : docs) {
    std::string problem;
    for (const std::string& image : doc.images) {
      try {
        options.check_image(image);
      } catch (const Error& e) {
        problem = e.what();
        break;
      }
    }
    if (problem.empty()) {
      kept.push_back(std::move(doc));
    } else if (options.skip_bad_samples) {
      result.skipped_docs.emplace_back(doc.doc_id, problem);
    } else {
      fail("task {}: doc {}: {} (--skip-bad-samples leaves such docs out and counts them)", task.name, doc.doc_id,
           problem);
    }
  }
  if (kept.empty()) fail("task {}: every selected doc has an unreadable image", task.name);
  std::vector<int64_t> ids;
  for (const PreparedDoc& doc : kept) ids.push_back(doc.doc_id);
  result.doc_ids = std::move(ids);
  docs = std::move(kept);
}

// lm-eval's TaskConfig keys for results.json "configs" (api/task.py TaskConfig), as this run used them.
nlohmann::ordered_json task_config_json(const TaskSpec& task, const EvalOptions& options) {
  nlohmann::ordered_json config;
  config["output_type"] = output_type_name(task.output_type);
  config["description"] = task.description;
  config["target_delimiter"] = task.target_delimiter;
  config["fewshot_delimiter"] = task.fewshot_delimiter;
  config["fewshot_config"] = {{"sampler", task.sampler == ShotSampler::FirstN ? "first_n" : "default"}};
  if (task.output_type == OutputType::GenerateUntil)
    config["generation_kwargs"] = {{"until", options.until ? *options.until : task.until},
                                   {"max_gen_toks", options.max_gen_toks.value_or(task.max_gen_toks)},
                                   {"do_sample", false},
                                   {"temperature", 0.0}};
  config["repeats"] = 1;
  config["should_decontaminate"] = false;
  // A task file's task_alias: lm-eval keeps it in the task's config, and its results table shows it.
  if (task.source_config.is_object() && task.source_config.contains("task_alias"))
    config["task_alias"] = task.source_config["task_alias"];
  return config;
}

}  // namespace

TaskResult evaluate_task(const TaskSpec& task, const std::filesystem::path& data_dir, Engine& engine,
                         const EvalOptions& options, EngineProgress* progress) {
  const auto started = std::chrono::steady_clock::now();
  check_task_spec(task);
  require_code_execution_allowed(task, options.allow_code_execution);
  const int shots = resolve_shots(task, options);
  const DocSplit eval_split = task.load_eval(data_dir);
  const std::optional<DocSplit> shot_split = load_shot_split(task, data_dir, shots);

  TaskResult result;
  result.task = task.name;
  result.version = task.version;
  result.shots = shots;
  result.groups = task.groups;
  result.config = task_config_json(task, options);
  result.docs_total = eval_split.docs.size();
  result.doc_ids = select_doc_ids(task, eval_split.docs.size(), options);
  result.data_files = eval_split.files;
  if (shot_split) result.data_files.insert(result.data_files.end(), shot_split->files.begin(), shot_split->files.end());

  PromptBuilder builder(task, eval_split, shot_split ? &*shot_split : nullptr, shots, options, data_dir);
  std::vector<PreparedDoc> prepared;
  prepared.reserve(result.doc_ids.size());
  if (options.shard) {
    const auto [k, n] = *options.shard;
    if (n < 1 || k < 0 || k >= n) fail("--shard {}/{}: expected K/N with 0 <= K < N", k, n);
    // Every selected doc draws its shots (the RNG walks them all, as in the unsharded run); only this
    // shard's docs are kept.
    std::vector<int64_t> kept;
    for (size_t i = 0; i < result.doc_ids.size(); ++i) {
      PreparedDoc doc = builder.prepare(result.doc_ids[i]);
      if (static_cast<int>(i % static_cast<size_t>(n)) != k) continue;
      kept.push_back(doc.doc_id);
      prepared.push_back(std::move(doc));
    }
    if (prepared.empty())
      fail("task {}: shard {}/{} has no documents ({} selected); use fewer shards", task.name, k, n,
           result.doc_ids.size());
    result.doc_ids = std::move(kept);
    result.shard = options.shard;
  } else {
    for (int64_t doc_id : result.doc_ids) prepared.push_back(builder.prepare(doc_id));
  }
  drop_docs_with_bad_images(task, options, prepared, result);
  fingerprint_prompts(prepared, result);

  std::map<std::string, size_t> invalid_by_filter;
  switch (task.output_type) {
    case OutputType::MultipleChoice:
      run_multiple_choice(task, prepared, engine, progress, result, options.predict_only);
      break;
    case OutputType::Loglikelihood:
      run_loglikelihood(task, prepared, engine, progress, result);
      break;
    case OutputType::LoglikelihoodRolling:
      run_loglikelihood_rolling(task, prepared, engine, progress, result);
      break;
    case OutputType::GenerateUntil:
      run_generation(task, prepared, engine, progress, result, invalid_by_filter, options);
      break;
  }

  // --predict_only: the answers are the output; no metric is computed (lm-eval reports its "bypass").
  if (!options.predict_only) result.metrics = aggregate_task_metrics(task, result.docs, invalid_by_filter);
  result.metric_variants = metric_variants(task);

  if (!options.keep_doc_records) result.docs.clear();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace gemma::evals
