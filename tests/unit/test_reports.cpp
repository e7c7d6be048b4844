// Reports of a run: results.json, samples.jsonl, the lm-eval results table, the model-card comparison,
// atomic output writing, and the progress bar.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "evals/progress.h"
#include "evals/results.h"
#include "reports/markdown.h"
#include "reports/model_card.h"
#include "reports/results_json.h"
#include "reports/run_record.h"

using namespace gemma;
using namespace gemma::evals;
using namespace gemma::reports;
namespace fs = std::filesystem;
using Catch::Contains;
using nlohmann::ordered_json;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "gemma-reports-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

MetricValue metric(const std::string& name, const std::string& filter, double value, std::optional<double> stderr_value,
                   bool higher_is_better = true, size_t invalid = 0) {
  MetricValue m;
  m.metric = name;
  m.filter = filter;
  m.value = value;
  m.stderr_value = stderr_value;
  m.higher_is_better = higher_is_better;
  m.invalid = invalid;
  return m;
}

TaskResult task(const std::string& name, int version, int shots, std::vector<std::string> groups,
                std::vector<MetricValue> metrics) {
  TaskResult t;
  t.task = name;
  t.version = version;
  t.shots = shots;
  t.groups = std::move(groups);
  t.metrics = std::move(metrics);
  return t;
}

GroupResult group(const std::string& name, std::vector<std::string> members, std::vector<MetricValue> metrics) {
  GroupResult g;
  g.group = name;
  g.tasks = std::move(members);
  g.metrics = std::move(metrics);
  g.aggregation = "document-weighted mean of subtask acc (lm-eval weight_by_size)";
  return g;
}

DocRecord multiple_choice_doc() {
  DocRecord doc;
  doc.doc_id = 7;
  doc.prompt = "Question: Which gas do plants take in?\nAnswer:";
  doc.shot_ids = {3, 9};
  doc.target = 1;
  doc.continuations = {" oxygen", " carbon dioxide"};
  doc.loglikelihoods = {-4.5, -0.25};
  doc.is_greedy = {false, true};
  doc.metrics = {{"acc_norm,none", 1.0}, {"acc,none", 1.0}};
  return doc;
}

DocRecord generation_doc() {
  DocRecord doc;
  doc.doc_id = 0;
  doc.prompt = "Question: Natalia sold 48 clips in April and half as many in May. How many in total?\nAnswer:";
  doc.target = "Natalia sold 48/2 = 24 clips in May.\n#### 72";
  doc.until = {"Question:", "</s>", "<|im_end|>"};
  doc.generated = " 48 + 24 = 72 clips, caf\xC3";  // cut inside a two-byte character
  doc.extracted = {{"strict-match", "[invalid]"}, {"flexible-extract", "72"}};
  doc.metrics = {{"exact_match,strict-match", 0.0}, {"exact_match,flexible-extract", 1.0}};
  doc.truncated = true;
  return doc;
}

// Two MMLU subjects and their group, ARC-Challenge with acc and acc_norm, GSM8K with two filters.
RunResult sample_run() {
  RunResult run;
  run.tasks.push_back(task("mmlu_anatomy", 1, 5, {"mmlu"}, {metric("acc", "none", 0.5185185185185185, 0.04316348542)}));
  run.tasks.push_back(
      task("mmlu_abstract_algebra", 1, 5, {"mmlu"}, {metric("acc", "none", 0.25, 0.04351941398892446)}));
  run.tasks.push_back(task("arc_challenge", 1, 25, {},
                           {metric("acc", "none", 0.42320819112627983, 0.014438),
                            metric("acc_norm", "none", 0.45563139931740615, 0.01456)}));
  run.tasks.push_back(task("gsm8k", 3, 8, {},
                           {metric("exact_match", "strict-match", 0.38362395754359363, 0.013394, true, 12),
                            metric("exact_match", "flexible-extract", 0.4, std::nullopt, true, 1)}));
  run.groups.push_back(group("mmlu", {"mmlu_anatomy", "mmlu_abstract_algebra"}, {metric("acc", "none", 0.395, 0.031)}));

  TaskResult& arc = run.tasks[2];
  arc.docs = {multiple_choice_doc()};
  arc.docs_total = 1172;
  arc.doc_ids = {7};
  arc.first_prompt_sha256 = std::string(64, 'a');
  arc.all_prompts_sha256 = std::string(64, 'b');
  arc.data_files = {{"arc/ARC-Challenge-Test.jsonl", std::string(64, 'c'), 1172}};
  arc.seconds = 12.5;
  TaskResult& gsm8k = run.tasks[3];
  gsm8k.docs = {generation_doc()};
  gsm8k.docs_total = 1319;
  gsm8k.doc_ids = {0};
  gsm8k.truncated_requests = 1;
  gsm8k.max_token_hits = 2;

  run.config = {{"model", "gemma-eval"},
                {"model_details",
                 {{"model", "/models/gemma-3-4b-pt"}, {"dtype", "bfloat16"}, {"device", "cuda"}, {"batch_size", 4}}},
                {"model_size", "4b"},
                {"profile", "pt"},
                {"shots", "task default"},
                {"limit", nullptr},
                {"git_hash", "0123456789ab"},
                {"date", "2026-08-01T12:00:00Z"},
                {"run_id", "0123456789abcdef0123456789abcdef"}};
  run.seconds = 42.0;
  return run;
}

std::vector<ordered_json> read_jsonl(const fs::path& path) {
  std::vector<ordered_json> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(ordered_json::parse(line));
  return lines;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_all(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  for (int c; (c = std::fgetc(file)) != EOF;) text += static_cast<char>(c);
  return text;
}

}  // namespace

// ---------------------------------------------------------------- results table

TEST_CASE("the results table has lm-eval's make_table shape", "[reports]") {
  // Written by hand from lm-eval's printed tables (lm-eval lm_eval/utils.py::make_table@4e7e0d47;
  // tests/testdata/ai2_arc_10_hf_pretrained-*.txt): widths = widest cell, headers centred (odd space right), numeric
  // columns right-aligned, N/A makes Stderr a text column, name and version on a task's first row only, metrics sorted
  // by "metric,filter".
  const std::string expected =
      "gemma-eval (model=/models/gemma-3-4b-pt, dtype=bfloat16, device=cuda), profile: pt, limit: None, "
      "num_fewshot: task default, batch_size: 4\n"
      "|       Tasks       |Version|     Filter     |n-shot|  Metric   |   |Value |   |Stderr|\n"
      "|-------------------|-------|----------------|-----:|-----------|---|-----:|---|------|\n"
      "|mmlu               |N/A    |none            |     5|acc        |↑  |0.3950|±  |0.0310|\n"
      "| - abstract_algebra|1      |none            |     5|acc        |↑  |0.2500|±  |0.0435|\n"
      "| - anatomy         |1      |none            |     5|acc        |↑  |0.5185|±  |0.0432|\n"
      "|arc_challenge      |1      |none            |    25|acc        |↑  |0.4232|±  |0.0144|\n"
      "|                   |       |none            |    25|acc_norm   |↑  |0.4556|±  |0.0146|\n"
      "|gsm8k              |3      |flexible-extract|     8|exact_match|↑  |0.4000|±  |N/A   |\n"
      "|                   |       |strict-match    |     8|exact_match|↑  |0.3836|±  |0.0134|\n"
      "\n"
      "|Groups|Version|Filter|n-shot|Metric|   |Value |   |Stderr|\n"
      "|------|-------|------|-----:|------|---|-----:|---|-----:|\n"
      "|mmlu  |N/A    |none  |     5|acc   |↑  |0.3950|±  |0.0310|\n"
      "\n"
      "mmlu: document-weighted mean of subtask acc (lm-eval weight_by_size)\n"
      // Not lm-eval's: the sample run cut one gsm8k prompt, which lm-eval would not say.
      "\n"
      "Truncated: 1 request(s) had a prompt longer than the context window and were cut from the left, as lm-eval "
      "does (gsm8k 1); their scores are not those of the whole prompt.\n";
  CHECK(results_table(sample_run()) == expected);
}

TEST_CASE("the truncation note counts cut prompts per task and names the window", "[reports]") {
  RunResult run;
  run.tasks.push_back(task("wikitext", 2, 0, {}, {metric("bits_per_byte", "none", 0.5, std::nullopt, false)}));
  CHECK(truncation_note(run).empty());
  CHECK(results_table(run).find("Truncated") == std::string::npos);
  run.tasks.back().truncated_requests = 3;
  run.tasks.push_back(task("piqa", 1, 0, {}, {metric("acc", "none", 0.5, std::nullopt, true)}));
  run.tasks.push_back(task("boolq", 2, 0, {}, {metric("acc", "none", 0.5, std::nullopt, true)}));
  run.tasks.back().truncated_requests = 2;
  run.config = {{"model", "gemma-eval"}, {"model_details", {{"max_length", 2048}}}};
  const std::string note =
      "5 request(s) had a prompt longer than the context window of 2048 tokens and were cut "
      "from the left, as lm-eval does (wikitext 3, boolq 2); their scores are not those of "
      "the whole prompt.";
  CHECK(truncation_note(run) == note);
  const std::string table = results_table(run);
  CHECK(table.substr(table.size() - note.size() - 13) == "\nTruncated: " + note + "\n");
}

TEST_CASE("lower-is-better metrics get ↓ and an all-number Version column is right-aligned", "[reports]") {
  RunResult run;
  run.tasks.push_back(task("wikitext", 2, 0, {},
                           {metric("word_perplexity", "none", 12.3456, std::nullopt, false),
                            metric("bits_per_byte", "none", 0.5678, std::nullopt, false)}));
  const std::string expected =
      "gemma-eval (), profile: None, limit: None, num_fewshot: None, batch_size: None\n"
      "| Tasks  |Version|Filter|n-shot|    Metric     |   | Value |   |Stderr|\n"
      "|--------|------:|------|-----:|---------------|---|------:|---|------|\n"
      "|wikitext|      2|none  |     0|bits_per_byte  |↓  | 0.5678|±  |N/A   |\n"
      "|        |       |none  |     0|word_perplexity|↓  |12.3456|±  |N/A   |\n";
  CHECK(results_table(run) == expected);
}

TEST_CASE("nested groups print as lm-eval prints MMLU: group, subgroup, subject", "[reports]") {
  RunResult run;
  run.tasks.push_back(task("mmlu_abstract_algebra", 1, 5, {"mmlu_stem", "mmlu"}, {metric("acc", "none", 0.3, 0.04)}));
  run.tasks.push_back(task("mmlu_formal_logic", 1, 5, {"mmlu_humanities", "mmlu"}, {metric("acc", "none", 0.4, 0.04)}));
  run.groups.push_back(group("mmlu_stem", {"mmlu_abstract_algebra"}, {metric("acc", "none", 0.3, 0.04)}));
  run.groups.push_back(group("mmlu_humanities", {"mmlu_formal_logic"}, {metric("acc", "none", 0.4, 0.04)}));
  // As evals::aggregate_groups records it: a group lists every task under it; the chains give the nesting.
  run.groups.push_back(
      group("mmlu", {"mmlu_abstract_algebra", "mmlu_formal_logic"}, {metric("acc", "none", 0.35, 0.03)}));

  const ordered_json json = results_json(run);
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& item : json["results"].items())
    order.emplace_back(item.key(), item.value()["alias"].get<std::string>());
  CHECK(order == std::vector<std::pair<std::string, std::string>>{{"mmlu", "mmlu"},
                                                                  {"mmlu_humanities", " - humanities"},
                                                                  {"mmlu_formal_logic", "  - formal_logic"},
                                                                  {"mmlu_stem", " - stem"},
                                                                  {"mmlu_abstract_algebra", "  - abstract_algebra"}});
  CHECK(json["group_subtasks"]["mmlu"] == ordered_json({"mmlu_humanities", "mmlu_stem"}));
  CHECK(json["group_subtasks"]["mmlu_stem"] == ordered_json({"mmlu_abstract_algebra"}));
  CHECK(json["groups"].size() == 3);
  CHECK(json["groups"]["mmlu_stem"]["alias"] == " - stem");
  CHECK(json["n-shot"]["mmlu"] == 5);
  CHECK_THAT(results_table(run), Contains("|  - formal_logic    |") && Contains("\n| - humanities|"));
}

// A task file's task_alias is what lm-eval shows in the Tasks column and writes as results[task]["alias"]
// (indented under a group as a name would be, and not shortened by the group prefix).
TEST_CASE("task_alias and group_alias replace the names in results.json's alias and the table",
          "[reports][task_files]") {
  RunResult run;
  run.tasks.push_back(task("my_colors", 1, 0, {}, {metric("acc", "none", 0.5, 0.1)}));
  run.tasks.back().config = {{"task_alias", "Colors (custom)"}};
  run.tasks.push_back(task("mmlu_anatomy", 1, 0, {"mmlu"}, {metric("acc", "none", 0.25, 0.1)}));
  run.tasks.back().config = {{"task_alias", "mmlu_anatomy_aliased"}};
  run.tasks.push_back(task("plain_task", 1, 0, {}, {metric("acc", "none", 0.75, 0.1)}));
  run.groups.push_back(group("mmlu", {"mmlu_anatomy"}, {metric("acc", "none", 0.25, 0.1)}));
  run.groups.back().alias = "MMLU (group_alias)";

  const ordered_json json = results_json(run);
  CHECK(json["results"]["mmlu"]["alias"] == "MMLU (group_alias)");
  CHECK(json["groups"]["mmlu"]["alias"] == "MMLU (group_alias)");
  CHECK(json["results"]["my_colors"]["alias"] == "Colors (custom)");
  CHECK(json["results"]["mmlu_anatomy"]["alias"] == " - mmlu_anatomy_aliased");
  CHECK(json["results"]["plain_task"]["alias"] == "plain_task");
  CHECK(json["configs"]["my_colors"]["task_alias"] == "Colors (custom)");
  const std::string table = results_table(run);
  CHECK_THAT(table, Contains("|Colors (custom)") && Contains("| - mmlu_anatomy_aliased") && Contains("|plain_task"));
  CHECK_THAT(table, Contains("|MMLU (group_alias)"));
  CHECK(table.find("|my_colors") == std::string::npos);
}

// ---------------------------------------------------------------- results.json

TEST_CASE("results.json carries lm-eval's keys with values from the run", "[reports]") {
  const RunResult run = sample_run();
  const ordered_json json = results_json(run);

  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  // lm-eval 0.4's top-level keys in its order (evaluator.py simple_evaluate, then EvaluationTracker's), then ours.
  CHECK(keys == std::vector<std::string>{"results",
                                         "groups",
                                         "group_subtasks",
                                         "configs",
                                         "versions",
                                         "n-shot",
                                         "higher_is_better",
                                         "n-samples",
                                         "config",
                                         "git_hash",
                                         "date",
                                         "pretty_env_info",
                                         "transformers_version",
                                         "upper_git_hash",
                                         "tokenizer_pad_token",
                                         "tokenizer_eos_token",
                                         "tokenizer_bos_token",
                                         "eot_token_id",
                                         "max_length",
                                         "task_hashes",
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
                                         "total_evaluation_time_seconds",
                                         "provenance"});

  std::vector<std::string> result_names;
  for (const auto& item : json["results"].items()) result_names.push_back(item.key());
  CHECK(result_names ==
        std::vector<std::string>{"mmlu", "mmlu_abstract_algebra", "mmlu_anatomy", "arc_challenge", "gsm8k"});

  const auto& arc = json["results"]["arc_challenge"];
  CHECK(arc["alias"] == "arc_challenge");
  CHECK(arc["acc_norm,none"].get<double>() == Approx(0.45563139931740615));
  CHECK(arc["acc_norm_stderr,none"].get<double>() == Approx(0.01456));
  CHECK(json["results"]["mmlu_anatomy"]["alias"] == " - anatomy");
  CHECK(json["results"]["gsm8k"]["exact_match_stderr,flexible-extract"] == "N/A");
  CHECK(json["results"]["gsm8k"]["exact_match,strict-match"].get<double>() == Approx(0.38362395754359363));

  CHECK(json["groups"].size() == 1);
  CHECK(json["groups"]["mmlu"]["acc,none"].get<double>() == Approx(0.395));
  CHECK(json["groups"]["mmlu"]["acc_stderr,none"].get<double>() == Approx(0.031));
  CHECK(json["group_subtasks"]["mmlu"] == ordered_json({"mmlu_abstract_algebra", "mmlu_anatomy"}));
  CHECK(json["group_subtasks"]["gsm8k"] == ordered_json::array());

  CHECK(json["configs"]["gsm8k"]["version"] == 3);
  CHECK(json["configs"]["gsm8k"]["num_fewshot"] == 8);
  CHECK(json["configs"]["gsm8k"]["filters"] == ordered_json({"strict-match", "flexible-extract"}));
  CHECK(json["configs"]["arc_challenge"]["metric_list"] ==
        ordered_json::parse(R"([{"metric":"acc","aggregation":"mean","higher_is_better":true},)"
                            R"({"metric":"acc_norm","aggregation":"mean","higher_is_better":true}])"));
  CHECK(json["versions"] ==
        ordered_json::parse(R"({"arc_challenge":1,"gsm8k":3,"mmlu_abstract_algebra":1,"mmlu_anatomy":1})"));
  CHECK(json["n-shot"]["mmlu"] == 5);
  CHECK(json["n-shot"]["arc_challenge"] == 25);
  CHECK(json["higher_is_better"]["arc_challenge"] == ordered_json::parse(R"({"acc":true,"acc_norm":true})"));
  CHECK(json["n-samples"]["arc_challenge"] == ordered_json::parse(R"({"original":1172,"effective":1})"));
  CHECK(json["config"] == run.config);
  CHECK(json["git_hash"] == "0123456789ab");
  CHECK(json["date"] == "2026-08-01T12:00:00Z");
  CHECK(json["total_evaluation_time_seconds"] == "42.0");  // lm-eval writes str(end_time - start_time)
  CHECK(evaluation_seconds(json) == 42.0);

  const auto& provenance = json["provenance"]["arc_challenge"];
  CHECK(provenance["first_prompt_sha256"] == std::string(64, 'a'));
  CHECK(provenance["all_prompts_sha256"] == std::string(64, 'b'));
  CHECK(provenance["data_files"] == ordered_json::parse(R"([{"path":"arc/ARC-Challenge-Test.jsonl","sha256":")" +
                                                        std::string(64, 'c') + R"(","rows":1172}])"));
  CHECK(provenance["doc_ids"] == ordered_json({7}));
  CHECK(provenance["seconds"] == 12.5);
  CHECK(json["provenance"]["gsm8k"]["truncated_requests"] == 1);
  CHECK(json["provenance"]["gsm8k"]["max_token_hits"] == 2);
  CHECK(json["provenance"]["gsm8k"]["invalid"] == ordered_json::parse(R"({"flexible-extract":1,"strict-match":12})"));
}

TEST_CASE("config.model is lm-eval's model type string; results.json with the older object still read alike",
          "[reports]") {
  const RunResult run = sample_run();
  CHECK(results_json(run)["config"]["model"] == kLmEvalModelType);
  CHECK(model_details(run.config)["dtype"] == "bfloat16");
  // Written before the change: the model object was config.model itself.
  RunResult older = run;
  older.config.erase("model_details");
  older.config["model"] = run.config["model_details"];
  older.config["model"]["weights_fingerprint"] = "weights-a";
  CHECK(model_details(older.config) == older.config["model"]);
  CHECK(RunIdentity::of_config(older.config).weights_fingerprint == "weights-a");
  CHECK(model_label(results_json(older)) == "gemma-3-4b-pt");
  CHECK(model_label(results_json(run)) == "gemma-3-4b-pt");
  older.config["model"].erase("weights_fingerprint");
  CHECK(results_table(older) == results_table(run));
  // rescore and merge write the current shape.
  const ordered_json upgraded = with_lm_eval_model_type(older.config);
  CHECK(upgraded["model"] == "gemma-eval");
  CHECK(upgraded["model_details"] == run.config["model_details"]);
  CHECK(with_lm_eval_model_type(run.config) == run.config);
  // lm-eval's own results: no model details; its header shows model_args.
  RunResult lm_eval = run;
  lm_eval.config = {{"model", "hf"}, {"model_args", "pretrained=google/gemma-3-1b-pt,dtype=bfloat16"}};
  CHECK(model_details(lm_eval.config) == ordered_json::object());
  CHECK_THAT(results_table(lm_eval), Contains("gemma-eval (pretrained=google/gemma-3-1b-pt,dtype=bfloat16)"));
}

TEST_CASE("a group's n-shot is left out when its tasks used different shots", "[reports]") {
  RunResult run;
  run.tasks.push_back(task("a_one", 1, 0, {"a"}, {metric("acc", "none", 0.5, 0.1)}));
  run.tasks.push_back(task("a_two", 1, 5, {"a"}, {metric("acc", "none", 0.5, 0.1)}));
  run.groups.push_back(group("a", {"a_one", "a_two"}, {metric("acc", "none", 0.5, 0.07)}));
  const ordered_json json = results_json(run);
  CHECK_FALSE(json["n-shot"].contains("a"));
  CHECK_THAT(results_table(run), Contains("|a     |N/A    |none  |      |acc   |"));
}

// ---------------------------------------------------------------- samples.jsonl

TEST_CASE("samples.jsonl has lm-eval's line per doc and filter, shaped by the request type", "[reports]") {
  TempDir dir;
  const RunResult run = sample_run();

  const RunIdentity identity{"0123456789abcdef0123456789abcdef", "fp-1"};
  write_samples_jsonl(dir.path / "arc.jsonl", run.tasks[2], identity);
  auto arc_lines = read_jsonl(dir.path / "arc.jsonl");
  REQUIRE(arc_lines.size() == 1);
  // lm-eval's keys first (evaluator.py evaluate(), evaluation_tracker.py save_results_samples), then ours;
  // the record has no doc row or target text here, so doc is null and the target "".
  CHECK(arc_lines[0] == ordered_json::parse(R"({
    "doc_id": 7, "doc": null, "target": "",
    "arguments": {"gen_args_0": {"arg_0": "Question: Which gas do plants take in?\nAnswer:", "arg_1": " oxygen"},
                  "gen_args_1": {"arg_0": "Question: Which gas do plants take in?\nAnswer:",
                                 "arg_1": " carbon dioxide"}},
    "resps": [[["-4.5", "False"]], [["-0.25", "True"]]], "filtered_resps": [["-4.5", "False"], ["-0.25", "True"]],
    "filter": "none", "metrics": ["acc", "acc_norm"],
    "doc_hash": ")" + sha256_hex("null") + R"(", "prompt_hash": ")" +
                                            sha256_hex("Question: Which gas do plants take in?\nAnswer:") +
                                            R"(", "target_hash": ")" + sha256_hex("") + R"(",
    "acc": 1.0, "acc_norm": 1.0,
    "prompt": "Question: Which gas do plants take in?\nAnswer:", "shot_ids": [3, 9], "gold": 1,
    "continuations": [" oxygen", " carbon dioxide"], "loglikelihoods": [-4.5, -0.25], "is_greedy": [false, true],
    "scores": {"acc,none": 1.0, "acc_norm,none": 1.0}, "truncated": false,
    "run_id": "0123456789abcdef0123456789abcdef", "weights_fingerprint": "fp-1"})"));

  write_samples_jsonl(dir.path / "gsm8k.jsonl", run.tasks[3], identity);
  auto gsm8k_lines = read_jsonl(dir.path / "gsm8k.jsonl");
  // lm-eval writes a line per filter: the task's pipelines in their order, each with its own answer and values.
  REQUIRE(gsm8k_lines.size() == 2);
  const auto& line = gsm8k_lines[0];
  CHECK(line["doc_id"] == 0);
  CHECK(line["shot_ids"] == ordered_json::array());
  CHECK(line["gold"] == "Natalia sold 48/2 = 24 clips in May.\n#### 72");
  CHECK(line["until"] == ordered_json({"Question:", "</s>", "<|im_end|>"}));
  CHECK(line["generated"] == " 48 + 24 = 72 clips, caf\xEF\xBF\xBD");  // the stray byte became U+FFFD
  CHECK(line["extracted"] == ordered_json::parse(R"({"flexible-extract": "72", "strict-match": "[invalid]"})"));
  CHECK(line["scores"]["exact_match,flexible-extract"] == 1.0);
  CHECK(line["filter"] == "strict-match");
  CHECK(line["metrics"] == ordered_json({"exact_match"}));
  CHECK(line["exact_match"] == 0.0);
  CHECK(line["filtered_resps"] == ordered_json({"[invalid]"}));
  CHECK(line["resps"] == ordered_json::parse(R"([[" 48 + 24 = 72 clips, caf\uFFFD"]])"));
  CHECK(line["truncated"] == true);
  CHECK_FALSE(line.contains("continuations"));
  CHECK_FALSE(arc_lines[0].contains("generated"));
  const auto& flexible = gsm8k_lines[1];
  CHECK(flexible["doc_id"] == 0);
  CHECK(flexible["filter"] == "flexible-extract");
  CHECK(flexible["metrics"] == ordered_json({"exact_match"}));
  CHECK(flexible["exact_match"] == 1.0);
  CHECK(flexible["filtered_resps"] == ordered_json({"72"}));
  // Everything else is the same record on both lines.
  for (const char* key : {"doc", "target", "arguments", "resps", "doc_hash", "prompt_hash", "target_hash", "prompt",
                          "gold", "generated", "extracted", "scores", "truncated", "run_id"}) {
    INFO(key);
    CHECK(flexible[key] == line[key]);
  }
}

TEST_CASE("samples read back: one record per doc from lm-eval's lines per filter, and from older files", "[reports]") {
  TempDir dir;
  const RunResult run = sample_run();
  const RunIdentity identity{"0123456789abcdef0123456789abcdef", "fp-1"};
  const fs::path path = dir.path / "samples_gsm8k.jsonl";
  write_samples_jsonl(path, run.tasks[3], identity);
  const auto docs = read_samples_jsonl(path, identity);
  REQUIRE(docs.size() == 1);
  CHECK(docs[0].generated == " 48 + 24 = 72 clips, caf\xEF\xBF\xBD");
  CHECK(docs[0].extracted == run.tasks[3].docs[0].extracted);
  CHECK(docs[0].metrics == run.tasks[3].docs[0].metrics);
  // Written again from what was read: the same bytes (rescore and merge write the records they read).
  TaskResult again = run.tasks[3];
  again.docs = docs;
  again.docs[0].generated = run.tasks[3].docs[0].generated;  // the stray byte was replaced when written
  CHECK(samples_jsonl(again, identity) == read_file(path));

  const auto lines = read_jsonl(path);
  SECTION("a file from before lm-eval's layout (one line per doc, its first filter's) reads the same") {
    write_file_atomic(path, lines[0].dump() + "\n");
    const auto old_docs = read_samples_jsonl(path, identity);
    REQUIRE(old_docs.size() == 1);
    CHECK(old_docs[0].extracted == docs[0].extracted);
    CHECK(old_docs[0].metrics == docs[0].metrics);
  }
  SECTION("a filter's line that disagrees with the doc's first line is refused, naming both and the key") {
    ordered_json edited = lines[1];
    edited["generated"] = " 72";
    write_file_atomic(path, lines[0].dump() + "\n" + edited.dump() + "\n");
    CHECK_THROWS_WITH(read_samples_jsonl(path, identity), Contains(path.string() + ":2") &&
                                                              Contains(path.string() + ":1") &&
                                                              Contains("\"generated\"") && Contains("each of them"));
  }
  SECTION("the same doc and filter twice is refused") {
    write_file_atomic(path, lines[0].dump() + "\n" + lines[0].dump() + "\n");
    CHECK_THROWS_WITH(read_samples_jsonl(path, identity),
                      Contains(path.string() + ":2") && Contains("doc_id 0 appears twice for filter \"strict-match\""));
  }
  SECTION("compare's reader takes every filter's scores once per doc") {
    const TaskSamples samples = read_task_samples(path, identity);
    CHECK(samples.metrics.at("exact_match,strict-match") == std::map<int64_t, double>{{0, 0.0}});
    CHECK(samples.metrics.at("exact_match,flexible-extract") == std::map<int64_t, double>{{0, 1.0}});
  }
  SECTION("compare's reader reads lm-eval's own samples lines (values beside the metric names)") {
    std::string text;
    for (auto line : lines) {
      for (const char* ours : {"prompt", "shot_ids", "gold", "until", "generated", "extracted", "scores",
                               "max_gen_toks", "truncated", "run_id", "weights_fingerprint"})
        line.erase(ours);
      text += line.dump() + "\n";
    }
    write_file_atomic(path, text);
    const TaskSamples samples = read_task_samples(path, RunIdentity{});
    CHECK(samples.metrics.at("exact_match,strict-match") == std::map<int64_t, double>{{0, 0.0}});
    CHECK(samples.metrics.at("exact_match,flexible-extract") == std::map<int64_t, double>{{0, 1.0}});
  }
}

// ---------------------------------------------------------------- output folder

TEST_CASE("write_run_outputs writes results.json, results.md and the samples into a new folder", "[reports]") {
  TempDir tmp;
  const RunResult run = sample_run();
  const fs::path out = tmp.path / "runs" / "first";
  write_run_outputs(run, out, /*log_samples=*/true);

  CHECK(names_in(out) == std::vector<std::string>{"results.json", "results.md", "samples_arc_challenge.jsonl",
                                                  "samples_gsm8k.jsonl", "samples_mmlu_abstract_algebra.jsonl",
                                                  "samples_mmlu_anatomy.jsonl"});
  CHECK(ordered_json::parse(read_file(out / "results.json")) == results_json(run));
  const std::string markdown = read_file(out / "results.md");
  CHECK(markdown == results_table(run) + "\n" + model_card_table(run, "4b"));
  CHECK(read_jsonl(out / "samples_gsm8k.jsonl").size() == 2);    // one line per filter
  CHECK(read_file(out / "samples_mmlu_anatomy.jsonl").empty());  // no doc records kept for it

  const fs::path quiet = tmp.path / "no-samples";
  write_run_outputs(run, quiet, /*log_samples=*/false);
  CHECK(names_in(quiet) == std::vector<std::string>{"results.json", "results.md"});
}

TEST_CASE("writing again replaces the previous results", "[reports]") {
  TempDir tmp;
  RunResult run = sample_run();
  write_run_outputs(run, tmp.path, false);
  run.tasks[2].metrics[1].value = 0.5;
  write_run_outputs(run, tmp.path, false);
  auto json = ordered_json::parse(read_file(tmp.path / "results.json"));
  CHECK(json["results"]["arc_challenge"]["acc_norm,none"] == 0.5);
  CHECK(names_in(tmp.path) == std::vector<std::string>{"results.json", "results.md"});
}

TEST_CASE("an output folder that cannot be created is an Error naming it", "[reports]") {
  // Tests run as root, where permissions do not block writes: a regular file as the parent does.
  TempDir tmp;
  write_file_atomic(tmp.path / "plain_file", "not a folder");
  const fs::path out = tmp.path / "plain_file" / "results";
  try {
    write_run_outputs(sample_run(), out, true);
    FAIL("expected gemma::Error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Contains(out.string()));
  }
  CHECK(names_in(tmp.path) == std::vector<std::string>{"plain_file"});
  CHECK(read_file(tmp.path / "plain_file") == "not a folder");
}

TEST_CASE("a failed write leaves no partial or temporary file", "[reports]") {
  TempDir tmp;
  // A non-empty folder where results.json should go: found before any file of the set is replaced.
  fs::create_directories(tmp.path / "results.json" / "occupied");
  write_file_atomic(tmp.path / "results.md", "previous run\n");
  try {
    write_run_outputs(sample_run(), tmp.path, true);
    FAIL("expected gemma::Error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Contains((tmp.path / "results.json").string()));
  }
  // Nothing of the new set was moved in (the folder is written as one unit); no staging folder left.
  CHECK(names_in(tmp.path) == std::vector<std::string>{"results.json", "results.md"});
  CHECK(fs::is_directory(tmp.path / "results.json" / "occupied"));
  CHECK(read_file(tmp.path / "results.md") == "previous run\n");
}

TEST_CASE("a run written over another replaces all its files: no samples of the old run stay", "[reports][identity]") {
  TempDir tmp;
  RunResult first = sample_run();
  write_run_outputs(first, tmp.path, /*log_samples=*/true);
  RunResult second = sample_run();
  second.config["run_id"] = new_run_id();
  second.tasks.erase(second.tasks.begin() + 3);  // no gsm8k this time
  write_file_atomic(tmp.path / "notes.txt", "mine\n");

  SECTION("with samples: only this run's tasks have a samples file, each of this run") {
    write_run_outputs(second, tmp.path, true);
    CHECK(names_in(tmp.path) ==
          std::vector<std::string>{"notes.txt", "results.json", "results.md", "samples_arc_challenge.jsonl",
                                   "samples_mmlu_abstract_algebra.jsonl", "samples_mmlu_anatomy.jsonl"});
    const auto docs =
        read_samples_jsonl(tmp.path / "samples_arc_challenge.jsonl", RunIdentity::of_config(second.config));
    CHECK(docs.size() == 1);
  }
  SECTION("without samples: the old run's samples are removed") {
    write_run_outputs(second, tmp.path, false);
    CHECK(names_in(tmp.path) == std::vector<std::string>{"notes.txt", "results.json", "results.md"});
  }
  CHECK(ordered_json::parse(read_file(tmp.path / "results.json")) == results_json(second));
}

TEST_CASE("samples are read only beside the results.json of their own run", "[reports][identity]") {
  TempDir tmp;
  RunResult run = sample_run();
  run.config["model_details"]["weights_fingerprint"] = "weights-a";
  const RunIdentity identity = RunIdentity::of_config(run.config);
  CHECK(identity.run_id == "0123456789abcdef0123456789abcdef");
  CHECK(identity.weights_fingerprint == "weights-a");
  const fs::path path = tmp.path / "samples_arc_challenge.jsonl";
  write_samples_jsonl(path, run.tasks[2], identity);
  CHECK(read_samples_jsonl(path, identity).size() == 1);

  RunIdentity other_run = identity;
  other_run.run_id = "ffffffffffffffffffffffffffffffff";
  CHECK_THROWS_WITH(read_samples_jsonl(path, other_run),
                    Contains(path.string() + ":1") && Contains("samples of run 0123456789abcdef0123456789abcdef") &&
                        Contains("ffffffffffffffffffffffffffffffff"));
  RunIdentity other_weights = identity;
  other_weights.weights_fingerprint = "weights-b";
  CHECK_THROWS_WITH(read_samples_jsonl(path, other_weights), Contains(path.string() + ":1") && Contains("weights-b"));
  // A results.json from before run ids: samples that carry one are not its own.
  CHECK_THROWS_WITH(read_samples_jsonl(path, RunIdentity{}), Contains("has no run id"));
  // Samples without a run id beside a results.json that has one.
  write_file_atomic(path, "{\"doc_id\": 7}\n");
  CHECK_THROWS_WITH(read_samples_jsonl(path, identity), Contains(path.string() + ":1") && Contains("no run_id"));
  CHECK(new_run_id().size() == 32);
  CHECK(new_run_id() != new_run_id());
}

// ---------------------------------------------------------------- model card

TEST_CASE("the model-card table compares what ran with the card's pre-trained numbers", "[reports]") {
  RunResult run;
  run.tasks.push_back(task("hellaswag", 1, 10, {},
                           {metric("acc", "none", 0.5988, 0.0049), metric("acc_norm", "none", 0.7613, 0.0043)}));
  run.tasks.push_back(task("arc_challenge", 1, 0, {},
                           {metric("acc", "none", 0.52, 0.0146), metric("acc_norm", "none", 0.5742, 0.0144)}));
  run.tasks.push_back(task("mmlu_anatomy", 1, 5, {"mmlu"}, {metric("acc", "none", 0.6, 0.04)}));
  run.tasks.push_back(task("my_own_task", 1, 0, {}, {metric("acc", "none", 0.9, 0.01)}));
  run.groups.push_back(group("mmlu", {"mmlu_anatomy"}, {metric("acc", "none", 0.5962, 0.0040)}));
  run.config = {{"profile", "pt"}};

  const std::string expected =
      "Gemma 3 4B model card, pre-trained table (google/gemma-3-4b-pt README, Evaluation), in the card's units:\n"
      "\n"
      "| Benchmark | n-shot | Metric | gemma-eval | model card | Δ |\n"
      "|---|---:|---|---:|---:|---:|\n"
      "| HellaSwag (hellaswag) | 10 | acc_norm | 76.1 ± 0.4 | 77.2 | −1.1 |\n"
      "| ARC-c (arc_challenge) | 0 (card: 25-shot) | acc_norm | 57.4 ± 1.4 | 56.2 | +1.2 |\n"
      "| MMLU (mmlu) | 5 | acc | 59.6 ± 0.4 | 59.6 | 0.0 |\n";
  CHECK(model_card_table(run, "4b") == expected);
}

TEST_CASE("model-card rows follow the card's precision, filters and sizes", "[reports]") {
  RunResult run;
  run.tasks.push_back(task("nq_open", 1, 5, {}, {metric("exact_match", "remove_whitespace", 0.1012, 0.0050)}));
  run.tasks.push_back(task("mmlu_anatomy", 1, 5, {"mmlu"}, {metric("acc", "none", 0.3, 0.04)}));
  run.groups.push_back(group("mmlu", {"mmlu_anatomy"}, {metric("acc", "none", 0.3, 0.04)}));

  // 1B: the card prints NQ as 9.48 (two decimals) and publishes no MMLU number.
  CHECK_THAT(
      model_card_table(run, "1b"),
      Contains("| Natural Questions (nq_open) | 5 | exact_match,remove_whitespace | 10.12 ± 0.50 | 9.48 | +0.64 |\n"));
  CHECK_THAT(model_card_table(run, "1b"), !Contains("MMLU"));
  CHECK(
      model_card_table(run, "270m") ==
      "Gemma 3 270M model card, pre-trained table (google/gemma-3-270m-pt README, Evaluation): no task that ran has a "
      "published number for this size.\n");
  CHECK(model_card_table(run, "") == "");
  CHECK(model_card_table(run, "7b") == "");

  run.config = {{"profile", "it"}};  // the IT table lists neither NQ nor MMLU
  CHECK_THAT(model_card_table(run, "4b"), Contains("instruction-tuned table") && Contains("no task that ran"));
}

TEST_CASE("the model-card data is the card's numbers, each a plain number", "[reports]") {
  const auto& rows = model_card_rows();
  REQUIRE(rows.size() > 40);
  for (const auto& row : rows) {
    INFO(row.benchmark);
    // the Gemma 3 model card (Hugging Face google/gemma-3-*-pt README, Evaluation) publishes no 270M column
    CHECK(published_value(row, "270m").empty());
    for (auto size : kModelSizes) {
      const std::string value(published_value(row, size));
      if (value.empty()) continue;
      char* end = nullptr;
      std::strtod(value.c_str(), &end);
      CHECK(*end == '\0');
    }
  }
  auto find = [&](std::string_view task, std::string_view metric) -> const ModelCardRow& {
    for (const auto& row : rows)
      if (row.task == task && row.metric == metric && row.variant == CardVariant::Pretrained) return row;
    FAIL("no row for " << task << " " << metric);
    return rows.front();
  };
  CHECK(published_value(find("hellaswag", "acc_norm"), "4b") == "77.2");
  CHECK(published_value(find("nq_open", "exact_match"), "1b") == "9.48");
  CHECK(published_value(find("mmlu", "acc"), "1b").empty());
  CHECK(published_value(find("gsm8k_cot", "exact_match"), "27b") == "82.6");
  CHECK(find("arc_challenge", "acc_norm").shots == 25);
}

TEST_CASE("the model size comes from the hidden size", "[reports]") {
  CHECK(model_size_of(640) == "270m");
  CHECK(model_size_of(1152) == "1b");
  CHECK(model_size_of(2560) == "4b");
  CHECK(model_size_of(3840) == "12b");
  CHECK(model_size_of(5376) == "27b");
  CHECK(model_size_of(64) == "");
  ModelConfig config{};
  config.text.hidden_size = 3840;
  CHECK(model_size_of(config) == "12b");
}

// ---------------------------------------------------------------- progress

TEST_CASE("a progress line shows counts, bar, ETA and throughput", "[progress]") {
  CHECK(progress_line("mmlu", 50, 200, 10.0, 25000) == "mmlu: 50/200 [#####---------------] ETA 00:30, 2500 tok/s");
  CHECK(progress_line("mmlu", 0, 200, 0.0, 0) == "mmlu: 0/200 [--------------------] ETA --:--, 0 tok/s");
  CHECK(progress_line("gsm8k", 1319, 1319, 125.4, 1000) ==
        "gsm8k: 1319/1319 [####################] done in 02:05, 8 tok/s");
  CHECK(progress_line("bbh", 1, 3, 3600.0, 0) == "bbh: 1/3 [######--------------] ETA 120:00, 0 tok/s");
}

TEST_CASE("off a terminal the progress bar prints a plain line at most every 5 s and at the end", "[progress]") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  double now = 100.0;
  {
    ProgressBar::Options options;
    options.out = out;
    options.clock = [&] { return now; };  // terminal left to isatty: a temp file is not one
    ProgressBar bar("arc_easy", options);
    bar.advance(0, 100, 0);  // the first update shows that the task started
    now = 101.0;
    bar.advance(10, 100, 1000);
    now = 104.9;
    bar.advance(40, 100, 4000);
    now = 105.5;
    bar.advance(50, 100, 5500);  // 5.5 s after the last line
    now = 106.0;
    bar.advance(60, 100, 6000);
    now = 108.0;
    bar.advance(100, 100, 8000);  // the end, though within 5 s
    bar.advance(100, 100, 8000);  // ... only once
  }
  CHECK(read_all(out) ==
        "arc_easy: 0/100 [--------------------] ETA --:--, 0 tok/s\n"
        "arc_easy: 50/100 [##########----------] ETA 00:06, 1000 tok/s\n"
        "arc_easy: 100/100 [####################] done in 00:08, 1000 tok/s\n");
  std::fclose(out);
}

TEST_CASE("on a terminal the progress bar redraws one line in place", "[progress]") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  double now = 0.0;
  {
    ProgressBar::Options options;
    options.out = out;
    options.clock = [&] { return now; };
    options.terminal = true;
    ProgressBar bar("piqa", options);
    now = 1.0;
    bar.advance(1, 4, 10);
    now = 1.05;
    bar.advance(2, 4, 20);  // within the redraw interval: skipped
    now = 2.0;
    bar.advance(3, 4, 30);
    now = 4.0;
    bar.advance(4, 4, 40);
  }
  CHECK(read_all(out) ==
        "\rpiqa: 1/4 [#####---------------] ETA 00:03, 10 tok/s\x1b[K"
        "\rpiqa: 3/4 [###############-----] ETA 00:01, 15 tok/s\x1b[K"
        "\rpiqa: 4/4 [####################] done in 00:04, 10 tok/s\x1b[K\n");
  std::fclose(out);
}

TEST_CASE("an unfinished terminal bar ends its line when destroyed", "[progress]") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  {
    ProgressBar::Options options;
    options.out = out;
    options.clock = [] { return 0.0; };
    options.terminal = true;
    ProgressBar bar("boolq", options);
    bar.advance(0, 10, 0);
  }
  CHECK(read_all(out) == "\rboolq: 0/10 [--------------------] ETA --:--, 0 tok/s\x1b[K\n");
  std::fclose(out);
}
