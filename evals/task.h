#pragma once
// A benchmark as data, in lm-evaluation-harness terms (lm-eval lm_eval/config/task.py@4e7e0d47): where its
// documents come from, how one renders into prompt text, its choices and target, which requests it
// makes, how responses are filtered and scored. Task adapters (evals/tasks/*.cpp) fill a TaskSpec;
// the evaluator (evals/evaluator.h) is generic over them. Torch-free.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "scorers/exact_match.h"
#include "scorers/metric_registry.h"

namespace gemma::evals {

using Doc = nlohmann::ordered_json;  // one dataset row, after the task's preprocessing

struct DataFile {
  std::string path;    // as read
  std::string sha256;  // of the file's bytes
  size_t rows = 0;     // rows taken from it
};

struct DocSplit {
  std::string name;       // "test", "dev", "validation", "train"
  std::vector<Doc> docs;  // in file order: doc_id = index
  std::vector<DataFile> files;
};

// lm-eval's output_type. Loglikelihood: one request per doc, log P(doc_to_target | prompt) (lambada's
// perplexity and acc = is_greedy). LoglikelihoodRolling: the whole doc_to_target text scored alone in
// rolling windows, no prompt and no shots (perplexity tasks: word_perplexity, byte_perplexity,
// bits_per_byte).
enum class OutputType { MultipleChoice, GenerateUntil, Loglikelihood, LoglikelihoodRolling };
enum class ShotSampler { Random, FirstN };

// lm-eval filters (lm-eval lm_eval/filters/@4e7e0d47); a pipeline's name becomes the "filter" column of its metric
// rows.
struct FilterStep {
  enum class Kind {
    Regex,
    MultiChoiceRegex,
    TakeFirst,
    RemoveWhitespace,
    Lowercase,
    Uppercase,
    Function
  } kind = Kind::TakeFirst;
  std::string pattern;   // Regex, MultiChoiceRegex: RE2 syntax (Python-compatible for the patterns used here)
  int group_select = 0;  // Regex, MultiChoiceRegex: which match (negative = from the end)
  std::string fallback = "[invalid]";
  // MultiChoiceRegex (lm-eval's multi_choice_regex): when `pattern` finds nothing, the doc's choices are looked
  // for in the response (after these: regexes removed, lower-cased, Unicode punctuation removed) and map to
  // "(A)", "(B)", ...; then ": A" style letters.
  bool ignore_case = false;
  bool ignore_punctuation = false;
  std::vector<std::string> regexes_to_ignore = {};
  // Function: a task's own extraction where lm-eval uses a custom filter (BBH's, MMLU-Pro's and
  // MGSM's answer regexes with Python-only syntax, Minerva MATH's last \boxed{}): the extracted answer,
  // or nullopt when there is none (then `fallback`, counted as invalid). Must be a pure function.
  std::function<std::optional<std::string>(std::string_view response)> function = {};
};
struct FilterPipeline {
  std::string name = "none";
  std::vector<FilterStep> steps;  // empty = take_first
};

using scorers::ExactMatchOptions;

// How per-doc values become the task's value (lm-eval lm_eval/api/metrics.py aggregations). Mean: the
// mean with its closed-form stderr. The others take per-doc log-likelihoods: Perplexity =
// exp(-mean(ll)) with lm-eval's bootstrap stderr; WeightedPerplexity = exp(-Σll / Σcount) and
// BitsPerByte = -Σll / Σbytes / ln 2 have no stderr (lm-eval prints "N/A"). The count is the doc's
// words for word_perplexity and its UTF-8 bytes for byte_perplexity and bits_per_byte.
enum class MetricAggregation { Mean, Perplexity, WeightedPerplexity, BitsPerByte };

struct MetricSpec {
  std::string name;  // "acc", "acc_norm", "exact_match", or a task's own ("anls", "cider", ...)
  bool higher_is_better = true;
  ExactMatchOptions exact_match;
  MetricAggregation aggregation = MetricAggregation::Mean;
  // Generation metrics other than exact_match: a per-document score of the filtered prediction against
  // the references (mean over docs, closed-form stderr), or a corpus score over all docs at once (CIDEr,
  // BLEU, ChrF: no stderr). `variant` names the reference implementation followed (results record it).
  std::function<double(const std::string& prediction, const std::vector<std::string>& references)> score = {};
  std::function<double(const std::vector<std::string>& predictions,
                       const std::vector<std::vector<std::string>>& references)>
      corpus_score = {};
  std::string variant = {};
  // Per-doc scores over one subset of the docs only (TaskSpec::doc_to_subset), e.g. ChartQA's
  // relaxed_human_split; "" = every doc. A subset no selected doc belongs to reports no row.
  std::string subset = {};
  // Corpus scores: lm-eval's bootstrap stderr with this many resamples (bleu, chrf, ter: 100; each
  // chunk seeded random.Random(i), lm-eval lm_eval/api/metrics.py::stderr_for_metric@4e7e0d47); 0 = no stderr ("N/A").
  int bootstrap_iters = 0;
  // The scorers/metric_registry.h entry (NAME:VARIANT) the scoring function comes from, when it does
  // (registry_metric in evals/registry_metric.h); "" for a task's own scoring.
  std::string registry_key = {};
  // With registry_key: the options the entry was configured with, the sub-score reported ("" = its
  // headline), and its scoring function given a doc (multiple-choice metrics score a
  // scorers::multiple_choice_record; `score` is this with no doc).
  nlohmann::ordered_json registry_options = nlohmann::ordered_json::object();
  std::string registry_sub_score = {};
  std::function<double(const nlohmann::ordered_json& doc, const std::string& prediction,
                       const std::vector<std::string>& references)>
      score_record = {};
  // With registry_key, corpus metrics: the entry's corpus prepared once over all docs, so the score and
  // each bootstrap resample reuse its per-item work (`corpus_score` is its score over all items).
  scorers::CorpusScoreFn prepare_corpus = {};
};

struct TaskSpec {
  std::string name;                  // lm-eval's task name: "mmlu_anatomy", "arc_challenge", "gsm8k"
  std::vector<std::string> aliases;  // other names --task accepts for it (older gemma-eval names); results use `name`
  int version = 1;
  std::vector<std::string> groups;  // innermost first, e.g. {"mmlu_stem", "mmlu"}
  OutputType output_type = OutputType::MultipleChoice;
  int default_shots = 0;  // the Gemma 3 model card's setting
  ShotSampler sampler = ShotSampler::Random;
  std::string description;  // prepended once (MMLU: "The following are ... about anatomy.\n\n")
  // Set when the description depends on the doc (a task file's template using the doc's fields): lm-eval's
  // fewshot_context renders config.description with the eval doc (utils.apply_template(description, doc));
  // it then replaces `description`, which holds the template source for the results' config.
  std::function<std::string(const Doc&)> doc_to_description;
  std::string target_delimiter = " ";
  std::string fewshot_delimiter = "\n\n";

  // Data: each loader reads its split from `data_dir` in the dataset's published layout and throws
  // gemma::Error naming file and line on a bad row. load_fewshot empty = no shot split exists.
  std::function<DocSplit(const std::filesystem::path& data_dir)> load_eval;
  std::function<DocSplit(const std::filesystem::path& data_dir)> load_fewshot;
  // lm-eval passes the eval doc to the sampler when the shot split is the eval split (or both are
  // unset): it then draws n+1 and drops the doc itself (lm-eval lm_eval/api/samplers.py@4e7e0d47).
  bool sampler_gets_eval_doc = false;

  // Rendering (lm-eval lm_eval/api/task.py::fewshot_context@4e7e0d47). For multiple_inputs tasks (WinoGrande)
  // doc_to_choice gives the contexts and doc_to_target the shared continuation.
  std::function<std::string(const Doc&)> doc_to_text;
  std::function<std::vector<std::string>(const Doc&)> doc_to_choice;  // MC only
  std::function<int(const Doc&)> doc_to_gold;                         // MC only: index into choices
  // MC tasks where several choices can be right (AGIEval's gold lists): acc counts the argmax when it is
  // any of them (lm-eval process_results_mcqa). Unset: doc_to_gold alone, which shots always show.
  std::function<std::vector<int>(const Doc&)> doc_to_golds;
  std::function<std::string(const Doc&)> doc_to_target;                   // the answer text a shot shows
  std::function<std::vector<std::string>(const Doc&)> doc_to_references;  // generation: gold strings
  bool multiple_inputs = false;
  // Multimodal tasks: the image files of a doc (absolute or under data_dir), in the order of the
  // kImageMarker markers doc_to_text writes (evals/engine.h).
  std::function<std::vector<std::string>(const Doc&, const std::filesystem::path& data_dir)> doc_to_images;

  // Generation tasks: the named part of the data a doc belongs to, for metrics restricted to one
  // (MetricSpec::subset); recorded per doc in the samples.
  std::function<std::string(const Doc&)> doc_to_subset;

  // Generation settings (GenerateUntil).
  std::vector<std::string> until;
  int max_gen_toks = 256;

  // Scoring runs model-written programs (HumanEval, MBPP): refused unless the run allows code
  // execution (--allow-code-execution); the programs run in sandbox/sandbox.h.
  bool executes_code = false;

  std::vector<FilterPipeline> filters;  // GenerateUntil; MC uses the implicit "none"
  std::vector<MetricSpec> metrics;

  // Checks, before any model loads, that the files the task will read exist (its eval split, and its
  // shot split when `shots` > 0); throws gemma::Error naming the task, the paths tried and how to
  // provide them. Unset: the task's files are found when it runs.
  std::function<void(const std::filesystem::path& data_dir, int shots)> check_data;
  // Tasks read from an lm-eval task file (evals/task_file.h): the file, and its config after includes
  // (lm-eval's TaskConfig keys, as results.json "configs" shows them). Empty / null for built-in tasks.
  std::string source_file;
  nlohmann::ordered_json source_config;
};

}  // namespace gemma::evals
