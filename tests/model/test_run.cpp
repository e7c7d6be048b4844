// `gemma-eval run` and `gemma-eval score` end to end, as users call them: every task family on the
// built-in tiny model and the bundled samples, checked through what the run leaves behind
// (results.json, results.md, samples_<task>.jsonl): metrics recomputed from the logged
// loglikelihoods, the MMLU prompt rebuilt by hand from the CSV, prefix sharing against full
// contexts, the chat profile, --shots and --limit-mode, clear failures for bad inputs, offline
// scoring, and a smoke run on the real data when ../shared/data is there.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "../support/temp_dir.h"
#include "../support/text_files.h"
#include "common/sha256.h"
#include "datasets/csv.h"
#include "model/model_files.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// ---- running the binary ----

struct EvalRun {
  int status = -1;
  std::string output;
  fs::path dir;  // the --output folder
  json results;  // results.json, or null when the run wrote none
};

// `gemma-eval run ARGS --no-progress --output OUT`; reads OUT/results.json when there is one.
EvalRun run_eval(const std::string& args, const fs::path& out) {
  CliRun cli = run_cli("run " + args + " --no-progress --output " + quote(out));
  EvalRun run{cli.status, cli.output, out, json()};
  if (fs::exists(out / "results.json")) run.results = read_json(out / "results.json");
  return run;
}

// Without "run_id": every run writes its own, so two runs' samples are compared on what they hold.
std::vector<json> read_samples(const fs::path& out, const std::string& task) {
  std::ifstream in(out / ("samples_" + task + ".jsonl"));
  REQUIRE(in.good());
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    lines.push_back(json::parse(line));
    lines.back().erase("run_id");
  }
  return lines;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// ---- checks on the outputs ----

bool is_hex64(const json& value) {
  if (!value.is_string()) return false;
  const std::string text = value.get<std::string>();
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r\n\v\f");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n\v\f") - begin + 1);
}

// The cells of a markdown table row, unpadded.
std::vector<std::string> table_cells(const std::string& line) {
  std::vector<std::string> cells;
  if (line.size() < 2 || line.front() != '|' || line.back() != '|') return cells;
  std::string cell;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '|') {
      cells.push_back(trim(cell));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

// Whether results.md has a table with lm-eval's header whose first column is `first_column`
// ("Tasks", or "Groups" for the groups table).
bool has_table_header(const fs::path& out, const std::string& first_column) {
  const std::vector<std::string> header = {first_column, "Version", "Filter", "n-shot", "Metric",
                                           "",           "Value",   "",       "Stderr"};
  const auto lines = split_lines(read_text(out / "results.md"));
  for (size_t i = 0; i + 1 < lines.size(); ++i)
    if (table_cells(lines[i]) == header && lines[i + 1].rfind("|--", 0) == 0) return true;
  return false;
}

// results.md has lm-eval's table header and a row for `alias` (the task's results.json alias).
void check_markdown(const fs::path& out, const std::string& alias) {
  const auto lines = split_lines(read_text(out / "results.md"));
  const bool has_header = has_table_header(out, "Tasks");
  bool has_row = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("|" + alias + " ", 0) == 0 || lines[i].rfind("|" + alias + "|", 0) == 0) has_row = true;
  }
  INFO("results.md:\n" << read_text(out / "results.md"));
  CHECK(has_header);
  CHECK(has_row);
}

size_t code_points(const std::string& text) {
  size_t count = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++count;
  return count;
}

size_t argmax_first(const std::vector<double>& values) {
  size_t best = 0;
  for (size_t i = 1; i < values.size(); ++i)
    if (values[i] > values[best]) best = i;
  return best;
}

double mean_of(const std::vector<json>& docs, const std::string& key) {
  double sum = 0.0;
  for (const auto& doc : docs) sum += doc["scores"][key].get<double>();
  return sum / static_cast<double>(docs.size());
}

// What every task of a run reports in results.json, for a run of the first `limit` docs.
void check_task_entry(const json& results, const std::string& task, const std::vector<std::string>& metric_keys,
                      size_t limit) {
  INFO("task " << task);
  REQUIRE(results["results"].contains(task));
  const json& row = results["results"][task];
  for (const auto& key : metric_keys) {
    INFO("metric " << key);
    REQUIRE(row.contains(key));
    CHECK(row[key].is_number());
    const std::string stderr_key = key.substr(0, key.find(',')) + "_stderr" + key.substr(key.find(','));
    CHECK(row.contains(stderr_key));
  }
  CHECK(results["n-samples"][task]["effective"] == limit);
  CHECK(results["n-samples"][task]["original"].get<size_t>() >= limit);
  const json& provenance = results["provenance"][task];
  CHECK(is_hex64(provenance["first_prompt_sha256"]));
  CHECK(is_hex64(provenance["all_prompts_sha256"]));
  REQUIRE(provenance["data_files"].is_array());
  REQUIRE_FALSE(provenance["data_files"].empty());
  for (const auto& file : provenance["data_files"]) {
    CHECK(is_hex64(file["sha256"]));
    CHECK(file["rows"].get<size_t>() > 0);
    CHECK(fs::exists(file["path"].get<std::string>()));
  }
  std::vector<int64_t> first_ids;
  for (size_t i = 0; i < limit; ++i) first_ids.push_back(static_cast<int64_t>(i));
  CHECK(provenance["doc_ids"].get<std::vector<int64_t>>() == first_ids);
  const json& fingerprint = results["config"]["model_details"]["weights_fingerprint"];
  REQUIRE(fingerprint.is_string());
  CHECK(fingerprint.get<std::string>().rfind("v2:", 0) == 0);
  CHECK(is_hex64(fingerprint.get<std::string>().substr(3)));
}

// samples_<task>.jsonl: lm-eval's layout, a line per filter and doc (filter by filter, docs in doc order;
// multiple choice has the one filter "none"), the first prompt matching the provenance hash. Returns the
// first filter's lines: one per doc, each with the doc's whole record.
std::vector<json> check_samples(const EvalRun& run, const std::string& task, size_t limit) {
  INFO("task " << task);
  auto lines = read_samples(run.dir, task);
  REQUIRE(!lines.empty());
  REQUIRE(lines.size() % limit == 0);
  std::vector<json> docs(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(limit));
  for (size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i]["doc_id"] == i % limit);
    CHECK(lines[i]["filter"] == lines[i - i % limit]["filter"]);
    if (i >= limit) CHECK(lines[i]["filter"] != lines[i - limit]["filter"]);
    CHECK(lines[i]["scores"] == docs[i % limit]["scores"]);
  }
  for (size_t i = 0; i < docs.size(); ++i) {
    CHECK(docs[i]["doc_id"] == i);
    REQUIRE(docs[i]["prompt"].is_string());
    CHECK_FALSE(docs[i]["prompt"].get<std::string>().empty());
    CHECK(docs[i]["scores"].is_object());
  }
  CHECK(gemma::sha256_hex(docs[0]["prompt"].get<std::string>()) ==
        run.results["provenance"][task]["first_prompt_sha256"].get<std::string>());
  return docs;
}

// acc and acc_norm recomputed from the logged loglikelihoods (argmax, first on ties; acc_norm divides
// by the choice's length in code points, i.e. the continuation without its leading delimiter), against
// each doc's metrics and the task's aggregate.
void check_multiple_choice(const EvalRun& run, const std::string& task, const std::vector<json>& docs,
                           bool has_acc_norm, const std::string& delimiter = " ") {
  INFO("task " << task);
  double acc_sum = 0.0, acc_norm_sum = 0.0;
  for (const auto& doc : docs) {
    INFO("doc " << doc["doc_id"]);
    const auto lls = doc["loglikelihoods"].get<std::vector<double>>();
    const auto continuations = doc["continuations"].get<std::vector<std::string>>();
    REQUIRE(lls.size() == continuations.size());
    REQUIRE(lls.size() >= 2);
    REQUIRE(doc["is_greedy"].size() == lls.size());
    REQUIRE(doc["gold"].is_number_integer());
    const auto gold = doc["gold"].get<size_t>();
    REQUIRE(gold < lls.size());
    for (double ll : lls) {
      CHECK(std::isfinite(ll));
      CHECK(ll < 0.0);
    }
    const double acc = argmax_first(lls) == gold ? 1.0 : 0.0;
    CHECK(doc["scores"]["acc,none"].get<double>() == acc);
    acc_sum += acc;
    if (!has_acc_norm) {
      CHECK_FALSE(doc["scores"].contains("acc_norm,none"));
      continue;
    }
    std::vector<double> normalised;
    for (size_t i = 0; i < lls.size(); ++i) {
      REQUIRE(continuations[i].rfind(delimiter, 0) == 0);
      normalised.push_back(lls[i] / static_cast<double>(code_points(continuations[i].substr(delimiter.size()))));
    }
    const double acc_norm = argmax_first(normalised) == gold ? 1.0 : 0.0;
    CHECK(doc["scores"]["acc_norm,none"].get<double>() == acc_norm);
    acc_norm_sum += acc_norm;
  }
  const json& row = run.results["results"][task];
  CHECK(row["acc,none"].get<double>() == Approx(acc_sum / docs.size()).margin(1e-12));
  if (has_acc_norm)
    CHECK(row["acc_norm,none"].get<double>() == Approx(acc_norm_sum / docs.size()).margin(1e-12));
  else
    CHECK_FALSE(row.contains("acc_norm,none"));
}

// Python's str.strip() for the ASCII text of the samples.
std::string py_strip(const std::string& text) { return trim(text); }

}  // namespace

// ---- 1. every task family ----

TEST_CASE("gemma-eval run: every multiple-choice task end to end on the tiny model", "[run][tasks]") {
  TempDir dir("gemma-eval-run-mc");
  const size_t limit = 2;
  struct Expect {
    std::string task;
    bool acc_norm;
  };
  const std::vector<Expect> expected = {{"mmlu_anatomy", false}, {"hellaswag", true},  {"arc_easy", true},
                                        {"arc_challenge", true}, {"piqa", true},       {"boolq", false},
                                        {"winogrande", false},   {"social_iqa", false}};
  std::string names;
  for (const auto& e : expected) names += (names.empty() ? "" : ",") + e.task;
  auto run = run_eval("--task " + names + " --limit 2 --log-samples", dir.path / "out");
  INFO(run.output);
  REQUIRE(run.status == 0);
  REQUIRE(run.results.is_object());
  for (const auto& e : expected) {
    std::vector<std::string> keys = {"acc,none"};
    if (e.acc_norm) keys.push_back("acc_norm,none");
    check_task_entry(run.results, e.task, keys, limit);
    check_markdown(run.dir, run.results["results"][e.task]["alias"].get<std::string>());
    auto docs = check_samples(run, e.task, limit);
    check_multiple_choice(run, e.task, docs, e.acc_norm);
    // all_prompts_sha256 covers exactly the logged contexts (WinoGrande: one per option).
    gemma::Sha256 all;
    for (const auto& doc : docs) {
      auto contexts = doc.contains("contexts") ? doc["contexts"].get<std::vector<std::string>>()
                                               : std::vector<std::string>{doc["prompt"].get<std::string>()};
      for (const auto& context : contexts) {
        all.update(context);
        all.update(std::string_view("\0", 1));
      }
    }
    CHECK(all.hex_digest() == run.results["provenance"][e.task]["all_prompts_sha256"].get<std::string>());
  }
  // WinoGrande scores one shared continuation after each option's context.
  auto wino = read_samples(run.dir, "winogrande");
  const auto continuations = wino[0]["continuations"].get<std::vector<std::string>>();
  CHECK(continuations[0] == continuations[1]);
  const auto contexts = wino[0]["contexts"].get<std::vector<std::string>>();
  REQUIRE(contexts.size() == 2);
  CHECK(contexts[0] == wino[0]["prompt"].get<std::string>());
  CHECK(contexts[0] != contexts[1]);
}

TEST_CASE("gemma-eval run: gsm8k and gsm8k_cot end to end on the tiny model", "[run][tasks]") {
  TempDir dir("gemma-eval-run-gen");
  auto run = run_eval("--task gsm8k,gsm8k_cot --limit 2 --log-samples", dir.path / "out");
  INFO(run.output);
  REQUIRE(run.status == 0);
  for (const std::string task : {"gsm8k", "gsm8k_cot"}) {
    INFO("task " << task);
    const std::vector<std::string> keys = {"exact_match,strict-match", "exact_match,flexible-extract"};
    check_task_entry(run.results, task, keys, 2);
    check_markdown(run.dir, task);
    // A line per filter: strict-match's lines, then flexible-extract's, each with that filter's answer.
    const auto lines = read_samples(run.dir, task);
    REQUIRE(lines.size() == 4);
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string filter = i < 2 ? "strict-match" : "flexible-extract";
      CHECK(lines[i]["filter"] == filter);
      CHECK(lines[i]["filtered_resps"] == json::array({lines[i]["extracted"][filter]}));
      CHECK(lines[i]["exact_match"] == lines[i]["scores"]["exact_match," + filter]);
    }
    auto docs = check_samples(run, task, 2);
    for (const auto& doc : docs) {
      CHECK(doc["generated"].is_string());
      CHECK(doc["until"].is_array());
      REQUIRE(doc["extracted"].is_object());
      for (const std::string filter : {"strict-match", "flexible-extract"}) {
        REQUIRE(doc["extracted"].contains(filter));
        const double em = doc["scores"]["exact_match," + filter].get<double>();
        CHECK((em == 0.0 || em == 1.0));
        if (doc["extracted"][filter] == "[invalid]") CHECK(em == 0.0);
      }
    }
    for (const auto& key : keys)
      CHECK(run.results["results"][task][key].get<double>() == Approx(mean_of(docs, key)).margin(1e-12));
    CHECK(run.results["provenance"][task]["invalid"].contains("strict-match"));
  }
}

TEST_CASE("gemma-eval run: the mmlu group reports its categories and every subject", "[run][tasks][groups]") {
  TempDir dir("gemma-eval-run-mmlu");
  // --shots 0 keeps the 57 prompts short; the group rows do not depend on the shots.
  auto run = run_eval("--task mmlu --limit 1 --shots 0", dir.path / "out");
  INFO(run.output);
  REQUIRE(run.status == 0);
  const json& results = run.results;
  const std::vector<std::string> categories = {"mmlu_humanities", "mmlu_other", "mmlu_social_sciences", "mmlu_stem"};
  REQUIRE(results["groups"].contains("mmlu"));
  for (const auto& category : categories) CHECK(results["groups"].contains(category));
  CHECK(results["group_subtasks"]["mmlu"].get<std::vector<std::string>>() == categories);
  CHECK(results["n-samples"].size() == 57);
  CHECK(results["configs"].size() == 57);

  // Each group is the document-weighted mean of its leaves (one doc each here: the plain mean).
  auto leaves_of = [&](const std::string& group) {
    std::vector<std::string> leaves;
    for (const auto& member : results["group_subtasks"][group]) {
      const std::string name = member.get<std::string>();
      if (results["groups"].contains(name)) {
        for (auto& leaf : results["group_subtasks"][name]) leaves.push_back(leaf.get<std::string>());
      } else {
        leaves.push_back(name);
      }
    }
    return leaves;
  };
  size_t subjects = 0;
  for (const auto& group : categories) {
    auto leaves = leaves_of(group);
    subjects += leaves.size();
    double sum = 0.0;
    for (const auto& leaf : leaves) sum += results["results"][leaf]["acc,none"].get<double>();
    INFO("group " << group);
    CHECK(results["results"][group]["acc,none"].get<double>() == Approx(sum / leaves.size()).margin(1e-12));
  }
  CHECK(subjects == 57);
  double sum = 0.0;
  for (const auto& leaf : leaves_of("mmlu")) sum += results["results"][leaf]["acc,none"].get<double>();
  CHECK(results["results"]["mmlu"]["acc,none"].get<double>() == Approx(sum / 57).margin(1e-12));
  // One doc per subject: no stderr, as lm-eval prints it.
  CHECK(results["results"]["mmlu_anatomy"]["acc_stderr,none"] == "N/A");
  CHECK(results["results"]["mmlu_anatomy"]["alias"] == "  - anatomy");
  CHECK(results["results"]["mmlu_stem"]["alias"] == " - stem");

  check_markdown(run.dir, "mmlu");
  check_markdown(run.dir, " - stem");
  check_markdown(run.dir, "  - anatomy");
  const std::string markdown = read_text(run.dir / "results.md");
  CHECK(has_table_header(run.dir, "Groups"));
  CHECK_THAT(markdown, Catch::Contains("weight_by_size"));
}

// ---- 2. the MMLU prompt, built by hand ----

TEST_CASE("gemma-eval run: the first MMLU anatomy prompt is lm-eval's template", "[run][prompt]") {
  TempDir dir("gemma-eval-run-prompt");
  auto run = run_eval("--task mmlu_anatomy --limit 1 --log-samples", dir.path / "out");
  INFO(run.output);
  REQUIRE(run.status == 0);
  auto docs = read_samples(run.dir, "mmlu_anatomy");
  REQUIRE(docs.size() == 1);

  const fs::path mmlu = fs::path(GEMMA_TEST_SOURCE_DIR) / "datasets" / "samples" / "mmlu";
  const auto dev = datasets::read_csv(mmlu / "dev" / "anatomy_dev.csv");
  const auto test = datasets::read_csv(mmlu / "test" / "anatomy_test.csv");
  REQUIRE(dev.size() >= 5);
  REQUIRE_FALSE(test.empty());
  auto question = [](const std::vector<std::string>& f) {
    REQUIRE(f.size() == 6);
    return py_strip(f[0]) + "\nA. " + f[1] + "\nB. " + f[2] + "\nC. " + f[3] + "\nD. " + f[4] + "\nAnswer:";
  };
  std::string expected = "The following are multiple choice questions (with answers) about anatomy.\n\n";
  for (size_t i = 0; i < 5; ++i) expected += question(dev[i].fields) + " " + dev[i].fields[5] + "\n\n";
  expected += question(test[0].fields);

  CHECK(docs[0]["prompt"].get<std::string>() == expected);
  CHECK(docs[0]["shot_ids"].get<std::vector<int64_t>>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(docs[0]["continuations"].get<std::vector<std::string>>() == std::vector<std::string>{" A", " B", " C", " D"});
  CHECK(docs[0]["gold"] == std::string("ABCD").find(test[0].fields[5]));
  CHECK(run.results["provenance"]["mmlu_anatomy"]["first_prompt_sha256"].get<std::string>() ==
        gemma::sha256_hex(expected));
}

// ---- 3. prefix sharing ----

TEST_CASE("gemma-eval run: prefix sharing gives the same scores as full contexts", "[run][prefix]") {
  TempDir dir("gemma-eval-run-prefix");
  // float32: the 1e-4 bound is the float32 one (--dtype auto computes in bf16 on a bf16-capable CPU).
  const std::string args = "--task arc_challenge --limit 3 --shots 2 --log-samples --dtype float32";
  auto shared = run_eval(args, dir.path / "shared");
  auto full = run_eval(args + " --no-prefix-sharing", dir.path / "full");
  INFO(shared.output << "\n" << full.output);
  REQUIRE(shared.status == 0);
  REQUIRE(full.status == 0);

  auto a = read_samples(shared.dir, "arc_challenge");
  auto b = read_samples(full.dir, "arc_challenge");
  REQUIRE(a.size() == 3);
  REQUIRE(b.size() == 3);
  for (size_t d = 0; d < a.size(); ++d) {
    INFO("doc " << d);
    CHECK(a[d]["prompt"] == b[d]["prompt"]);
    CHECK(a[d]["shot_ids"] == b[d]["shot_ids"]);
    CHECK(a[d]["shot_ids"].size() == 2);
    const auto la = a[d]["loglikelihoods"].get<std::vector<double>>();
    const auto lb = b[d]["loglikelihoods"].get<std::vector<double>>();
    REQUIRE(la.size() == lb.size());
    for (size_t i = 0; i < la.size(); ++i) CHECK(std::abs(la[i] - lb[i]) < 1e-4);
    CHECK(a[d]["scores"] == b[d]["scores"]);
  }
  CHECK(shared.results["results"]["arc_challenge"] == full.results["results"]["arc_challenge"]);
  CHECK(shared.results["provenance"]["arc_challenge"]["all_prompts_sha256"] ==
        full.results["provenance"]["arc_challenge"]["all_prompts_sha256"]);
  CHECK(shared.results["config"]["model_details"]["prefix_sharing"] == true);
  CHECK(full.results["config"]["model_details"]["prefix_sharing"] == false);
  const auto shared_tokens = shared.results["config"]["engine"]["forward_tokens"].get<size_t>();
  const auto full_tokens = full.results["config"]["engine"]["forward_tokens"].get<size_t>();
  CHECK(shared_tokens > 0);
  CHECK(shared_tokens < full_tokens);
  // How the process ran: threads and ATen's elementwise kernel level, each with its reason.
  const auto& cpu = shared.results["config"]["engine"]["cpu"];
  CHECK(cpu["threads"].get<int>() >= 1);
  CHECK_FALSE(cpu["threads_reason"].get<std::string>().empty());
  CHECK_FALSE(cpu["aten_cpu_capability"].get<std::string>().empty());
  CHECK(cpu["aten_cpu_capability_reason"].get<std::string>().find("ATEN_CPU_CAPABILITY") != std::string::npos);
}

TEST_CASE("gemma-eval run --device cpu,cpu: pipeline stages change no number", "[run][placement]") {
  TempDir dir("gemma-eval-run-stages");
  const std::string args = "--task arc_challenge,gsm8k --limit 3 --shots 2 --log-samples --no-cache";
  auto one = run_eval(args + " --device cpu", dir.path / "one");
  auto staged = run_eval(args + " --device cpu,cpu,cpu", dir.path / "staged");
  INFO(one.output << "\n" << staged.output);
  REQUIRE(one.status == 0);
  REQUIRE(staged.status == 0);
  CHECK(one.results["results"] == staged.results["results"]);
  CHECK(staged.results["config"]["model_details"]["device"] == "cpu,cpu,cpu");
  CHECK(staged.results["config"]["model_details"]["stages"][1] == json({{"device", "cpu"}, {"layers", {3, 5}}}));
  for (const std::string task : {"arc_challenge", "gsm8k"}) {
    auto a = read_samples(one.dir, task), b = read_samples(staged.dir, task);
    REQUIRE(a.size() == b.size());
    for (size_t d = 0; d < a.size(); ++d) {
      CHECK(a[d] == b[d]);
    }
  }
  // More stages than layers: refused before anything runs.
  std::string many = "cpu";
  for (int i = 0; i < 40; ++i) many += ",cpu";
  auto refused = run_eval("--task arc_challenge --limit 1 --device " + many, dir.path / "refused");
  CHECK(refused.status != 0);
  CHECK_THAT(refused.output, Catch::Contains("41 stages") && Catch::Contains("layers"));
  CHECK_FALSE(fs::exists(dir.path / "refused" / "results.json"));
}

// ---- 4. the chat profile ----

TEST_CASE("gemma-eval run --profile it wraps the prompt in the Gemma 3 chat template", "[run][profile]") {
  TempDir dir("gemma-eval-run-it");
  auto run = run_eval("--task mmlu_anatomy --limit 1 --profile it --log-samples", dir.path / "out");
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK(run.results["config"]["profile"] == "it");
  auto docs = read_samples(run.dir, "mmlu_anatomy");
  REQUIRE(docs.size() == 1);
  const std::string prompt = docs[0]["prompt"].get<std::string>();
  const std::string head = "<start_of_turn>user\n", tail = "<end_of_turn>\n<start_of_turn>model\n";
  REQUIRE(prompt.size() > head.size() + tail.size());
  CHECK(prompt.compare(0, head.size(), head) == 0);
  CHECK(prompt.compare(prompt.size() - tail.size(), tail.size(), tail) == 0);
  CHECK(prompt.find("<bos>") == std::string::npos);  // the engine adds BOS once, as a token
  // One user turn holding the description, the shots and the question.
  CHECK(prompt.find("<start_of_turn>user") == prompt.rfind("<start_of_turn>user"));
  CHECK_THAT(prompt, Catch::Contains("about anatomy."));
  CHECK_THAT(prompt, Catch::EndsWith("Answer:" + tail));
  // Under a chat template the multiple-choice target delimiter is empty (lm-eval).
  CHECK(docs[0]["continuations"].get<std::vector<std::string>>() == std::vector<std::string>{"A", "B", "C", "D"});
  check_multiple_choice(run, "mmlu_anatomy", docs, false, "");
}

TEST_CASE("gemma-eval run --profile it renders with the model folder's own chat template", "[run][profile]") {
  TempDir dir("gemma-eval-run-it-template");
  // A copy of the built-in tiny model whose tokenizer_config.json carries a fine-tune's template.
  const fs::path model = dir.path / "model";
  fs::create_directories(model);
  for (const auto& entry : fs::directory_iterator(gemma::builtin_tiny_model_dir()))
    fs::copy(entry.path(), model / entry.path().filename(), fs::copy_options::recursive);
  std::ofstream(model / "tokenizer_config.json")
      << R"({"bos_token": "<bos>", "chat_template": "{{ bos_token }}{% for m in messages %}<start_of_turn>)"
         R"({{ m.role }}\nFINETUNE {{ m.content | trim }}<end_of_turn>\n{% endfor %})"
         R"({% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"})";
  auto run =
      run_eval("--model " + quote(model) + " --task arc_easy --limit 1 --profile it --log-samples", dir.path / "out");
  INFO(run.output);
  REQUIRE(run.status == 0);
  auto docs = read_samples(run.dir, "arc_easy");
  REQUIRE(docs.size() == 1);
  CHECK_THAT(docs[0]["prompt"].get<std::string>(), Catch::StartsWith("<start_of_turn>user\nFINETUNE Question:") &&
                                                       Catch::EndsWith("Answer:<end_of_turn>\n<start_of_turn>model\n"));
  CHECK_THAT(run.results["config"]["chat_template"]["origin"].get<std::string>(),
             Catch::Contains("tokenizer_config.json"));
  CHECK(run.results["config"]["chat_template"]["sha256"].get<std::string>().size() == 64);
  // The built-in tiny model has no template: the built-in Gemma 3 one, recorded as such.
  auto builtin = run_eval("--task arc_easy --limit 1 --profile it", dir.path / "builtin");
  REQUIRE(builtin.status == 0);
  CHECK(builtin.results["config"]["chat_template"]["origin"] == "builtin");
  CHECK(builtin.results["config"]["chat_template"]["sha256"].is_null());
  // A template that does not parse fails the run before the model loads, naming the file and line.
  std::ofstream(model / "tokenizer_config.json") << R"({"chat_template": "ok\n{% if %}"})";
  auto broken = run_eval("--model " + quote(model) + " --task arc_easy --limit 1 --profile it", dir.path / "broken");
  CHECK(broken.status != 0);
  CHECK_THAT(broken.output, Catch::Contains("tokenizer_config.json chat_template:2:7"));
}

// ---- 5. --shots and --limit-mode ----

TEST_CASE("gemma-eval run --shots overrides the task's default", "[run][shots]") {
  TempDir dir("gemma-eval-run-shots");
  auto run = run_eval("--task arc_challenge,hellaswag --shots 3 --limit 2 --log-samples", dir.path / "out");
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK(run.results["config"]["shots"] == 3);
  for (const std::string task : {"arc_challenge", "hellaswag"}) {
    INFO("task " << task);
    CHECK(run.results["n-shot"][task] == 3);
    CHECK(run.results["configs"][task]["num_fewshot"] == 3);
    for (const auto& doc : read_samples(run.dir, task)) CHECK(doc["shot_ids"].size() == 3);
  }
  check_markdown(run.dir, "arc_challenge");

  auto zero = run_eval("--task mmlu_anatomy --shots 0 --limit 1 --log-samples", dir.path / "zero");
  INFO(zero.output);
  REQUIRE(zero.status == 0);
  CHECK(zero.results["n-shot"]["mmlu_anatomy"] == 0);
  auto docs = read_samples(zero.dir, "mmlu_anatomy");
  CHECK(docs[0]["shot_ids"].empty());
  const std::string prompt = docs[0]["prompt"].get<std::string>();
  CHECK(prompt.rfind("The following are multiple choice questions (with answers) about anatomy.\n\n", 0) == 0);
  CHECK(prompt.find("\nAnswer:") == prompt.size() - std::string("\nAnswer:").size());  // the question only
}

TEST_CASE("gemma-eval run --limit-mode random picks other docs, the same ones every time", "[run][limit]") {
  TempDir dir("gemma-eval-run-random");
  const std::string args = "--task arc_easy --limit 3 --limit-mode random --log-samples";
  auto one = run_eval(args, dir.path / "one");
  auto two = run_eval(args, dir.path / "two");
  auto first = run_eval("--task arc_easy --limit 3 --log-samples", dir.path / "first");
  INFO(one.output << "\n" << two.output << "\n" << first.output);
  REQUIRE(one.status == 0);
  REQUIRE(two.status == 0);
  REQUIRE(first.status == 0);

  const auto ids = one.results["provenance"]["arc_easy"]["doc_ids"].get<std::vector<int64_t>>();
  REQUIRE(ids.size() == 3);
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  CHECK(ids != std::vector<int64_t>{0, 1, 2});
  // sorted(random.Random(0).sample(range(30), 3)) in CPython: the documented draw.
  CHECK(ids == std::vector<int64_t>{12, 24, 27});
  CHECK(two.results["provenance"]["arc_easy"]["doc_ids"].get<std::vector<int64_t>>() == ids);
  CHECK(first.results["provenance"]["arc_easy"]["doc_ids"].get<std::vector<int64_t>>() ==
        std::vector<int64_t>{0, 1, 2});
  CHECK(one.results["config"]["limit_mode"] == "random");
  CHECK(one.results["n-samples"]["arc_easy"]["effective"] == 3);

  auto a = read_samples(one.dir, "arc_easy");
  auto b = read_samples(two.dir, "arc_easy");
  REQUIRE(a.size() == 3);
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i]["doc_id"] == ids[i]);
    CHECK(a[i]["prompt"] == b[i]["prompt"]);
    CHECK(a[i]["loglikelihoods"] == b[i]["loglikelihoods"]);
  }
  CHECK(one.results["provenance"]["arc_easy"]["all_prompts_sha256"] ==
        two.results["provenance"]["arc_easy"]["all_prompts_sha256"]);
  CHECK(one.results["provenance"]["arc_easy"]["all_prompts_sha256"] !=
        first.results["provenance"]["arc_easy"]["all_prompts_sha256"]);
  check_multiple_choice(one, "arc_easy", a, true);
}

// ---- 6. bad inputs ----

TEST_CASE("gemma-eval run refuses bad inputs with a clear message and writes no results", "[run][errors]") {
  TempDir dir("gemma-eval-run-errors");

  SECTION("an unknown task") {
    // The default subcommand: no "run".
    auto cli = run_cli("--task no_such_task --no-progress --output " + quote(dir.path / "out"));
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Catch::Contains("no_such_task"));
    CHECK_THAT(cli.output, Catch::Contains("--list-tasks"));
    CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
  }

  SECTION("an unknown profile") {
    auto run = run_eval("--task arc_easy --limit 1 --profile xx", dir.path / "out");
    INFO(run.output);
    CHECK(run.status != 0);
    CHECK_THAT(run.output, Catch::Contains("--profile xx"));
    CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
  }

  SECTION("an unknown limit mode") {
    auto run = run_eval("--task arc_easy --limit 1 --limit-mode last", dir.path / "out");
    INFO(run.output);
    CHECK(run.status != 0);
    CHECK_THAT(run.output, Catch::Contains("--limit-mode last"));
    CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
  }

  SECTION("damaged data files") {
    // A --data-dir holding a copy of the bundled ARC samples.
    const fs::path data = dir.path / "data";
    fs::create_directories(data);
    fs::copy(fs::path(GEMMA_TEST_SOURCE_DIR) / "datasets" / "samples" / "arc", data / "arc",
             fs::copy_options::recursive);
    const fs::path test_file = data / "arc" / "ARC-Easy-Test.jsonl";
    const std::string original = read_text(test_file);
    auto lines = split_lines(original);
    REQUIRE(lines.size() > 3);
    auto rejoin = [](const std::vector<std::string>& rows) {
      std::string text;
      for (const auto& row : rows) text += row + "\n";
      return text;
    };

    SECTION("a truncated row names the file and line 2") {
      auto damaged = lines;
      damaged[1] = damaged[1].substr(0, damaged[1].size() / 2);
      write_text(test_file, rejoin(damaged));
      auto run = run_eval("--task arc_easy --limit 2 --data-dir " + quote(data), dir.path / "out");
      INFO(run.output);
      CHECK(run.status != 0);
      CHECK_THAT(run.output, Catch::Contains(test_file.string() + ":2:"));
      CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
    }

    SECTION("a row without a field names the field") {
      auto damaged = lines;
      auto row = nlohmann::ordered_json::parse(damaged[2]);
      REQUIRE(row.contains("answerKey"));
      row.erase("answerKey");
      damaged[2] = row.dump();
      write_text(test_file, rejoin(damaged));
      auto run = run_eval("--task arc_easy --limit 1 --data-dir " + quote(data), dir.path / "out");
      INFO(run.output);
      CHECK(run.status != 0);
      CHECK_THAT(run.output, Catch::Contains(test_file.string() + ":3:"));
      CHECK_THAT(run.output, Catch::Contains("answerKey"));
      CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
    }

    SECTION("a missing few-shot split names the file") {
      auto run = run_eval("--task arc_challenge --limit 1 --shots 2 --data-dir " + quote(data), dir.path / "out");
      REQUIRE(run.status == 0);  // the ARC samples hold ARC-Challenge-Train
      fs::remove(data / "arc" / "ARC-Challenge-Train.jsonl");
      auto missing =
          run_eval("--task arc_challenge --limit 1 --shots 2 --data-dir " + quote(data), dir.path / "missing");
      INFO(missing.output);
      CHECK(missing.status != 0);
      CHECK_THAT(missing.output, Catch::Contains("ARC-Challenge-Train.jsonl"));
      CHECK_FALSE(fs::exists(dir.path / "missing" / "results.json"));
    }
  }

  SECTION("a --data-dir that does not exist") {
    auto run = run_eval("--task arc_easy --limit 1 --data-dir " + quote(dir.path / "nowhere"), dir.path / "out");
    INFO(run.output);
    CHECK(run.status != 0);
    CHECK_THAT(run.output, Catch::Contains((dir.path / "nowhere").string()));
    CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
  }

  SECTION("an --output folder under a regular file") {
    write_text(dir.path / "file", "not a folder\n");
    auto run = run_eval("--task arc_easy --limit 1", dir.path / "file" / "out");
    INFO(run.output);
    CHECK(run.status != 0);
    CHECK_THAT(run.output, Catch::Contains((dir.path / "file" / "out").string()));
    CHECK(read_text(dir.path / "file") == "not a folder\n");
    CHECK_FALSE(fs::exists(dir.path / "results.json"));
  }
}

// ---- 7. offline scoring ----

TEST_CASE("gemma-eval score scores predictions against references", "[run][score]") {
  TempDir dir("gemma-eval-score");
  const fs::path predictions = dir.path / "predictions.jsonl", references = dir.path / "references.jsonl";
  // Ids as integers or strings, in a different order in each file.
  write_text(predictions,
             "{\"id\": 1, \"prediction\": \"B\"}\n"
             "{\"id\": \"x\", \"prediction\": \" 42 \"}\n"
             "{\"id\": 3, \"prediction\": \"Paris\"}\n"
             "{\"id\": 4, \"prediction\": \"no\"}\n");
  write_text(references,
             "{\"id\": \"x\", \"references\": [\"42\"]}\n"
             "{\"id\": 1, \"references\": [\"B\"]}\n"
             "{\"id\": 3, \"references\": [\"London\", \"Paris\"]}\n"
             "{\"id\": 4, \"references\": [\"yes\"]}\n");
  auto score = [&](const std::string& metric, const fs::path& p, const fs::path& r) {
    return run_cli("score --metric " + metric + " --predictions " + quote(p) + " --references " + quote(r));
  };
  auto parse = [](const CliRun& cli) {
    for (const auto& line : split_lines(cli.output))
      if (!line.empty() && line.front() == '{') return json::parse(line);
    FAIL("no JSON line in: " << cli.output);
    return json();
  };

  SECTION("exact_match, em and acc") {
    // exact_match: lm-eval's defaults, no trimming: " 42 " != "42"; any reference may match.
    for (const std::string metric : {"exact_match", "em"}) {
      auto cli = score(metric, predictions, references);
      INFO(cli.output);
      REQUIRE(cli.status == 0);
      auto out = parse(cli);
      CHECK(out["metric"] == "exact_match");
      CHECK(out["score"].get<double>() == Approx(0.5));
      CHECK(out["n"] == 4);
    }
    // acc compares whitespace-stripped labels.
    auto cli = score("acc", predictions, references);
    INFO(cli.output);
    REQUIRE(cli.status == 0);
    auto out = parse(cli);
    CHECK(out["metric"] == "acc");
    CHECK(out["score"].get<double>() == Approx(0.75));
    CHECK(out["n"] == 4);
  }

  SECTION("an unknown metric") {
    auto cli = score("meteor", predictions, references);
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Catch::Contains("--metric meteor"));
    CHECK_THAT(cli.output, Catch::Contains("exact_match"));
  }

  SECTION("a prediction whose id has no reference") {
    const fs::path extra = dir.path / "extra.jsonl";
    write_text(extra, read_text(predictions) + "{\"id\": 9, \"prediction\": \"x\"}\n");
    auto cli = score("em", extra, references);
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Catch::Contains(extra.string() + ":5:"));
    CHECK_THAT(cli.output, Catch::Contains("\"9\""));
  }

  SECTION("a reference without a prediction") {
    const fs::path fewer = dir.path / "fewer.jsonl";
    write_text(fewer,
               "{\"id\": 1, \"prediction\": \"B\"}\n{\"id\": \"x\", \"prediction\": \"42\"}\n"
               "{\"id\": 3, \"prediction\": \"Paris\"}\n");
    auto cli = score("em", fewer, references);
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Catch::Contains(references.string() + ":4:"));
    CHECK_THAT(cli.output, Catch::Contains("\"4\""));
  }

  SECTION("duplicate ids") {
    const fs::path duplicated = dir.path / "duplicated.jsonl";
    write_text(duplicated, read_text(predictions) + "{\"id\": 3, \"prediction\": \"London\"}\n");
    auto cli = score("em", duplicated, references);
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Catch::Contains(duplicated.string() + ":5:"));
    CHECK_THAT(cli.output, Catch::Contains("duplicate id"));

    const fs::path duplicated_refs = dir.path / "duplicated_refs.jsonl";
    write_text(duplicated_refs, read_text(references) + "{\"id\": \"1\", \"references\": [\"C\"]}\n");
    auto refs = score("acc", predictions, duplicated_refs);
    INFO(refs.output);
    CHECK(refs.status != 0);
    CHECK_THAT(refs.output, Catch::Contains(duplicated_refs.string() + ":5:"));
    CHECK_THAT(refs.output, Catch::Contains("duplicate id"));
  }
}

// ---- 8. the real data ----

// [shared-data]: needs ../shared/data and fails without it (deselect with "~[shared-data]").
TEST_CASE("gemma-eval run on the real ARC-Easy data", "[run][real-data][shared-data]") {
  const fs::path data = fs::path(GEMMA_TEST_SHARED_DIR) / "data";
  if (!fs::exists(data / "arc" / "ARC-Easy-Test.jsonl"))
    FAIL("missing shared data: " << (data / "arc" / "ARC-Easy-Test.jsonl").string());
  TempDir dir("gemma-eval-run-real");
  auto real = run_eval("--task arc_easy --limit 2 --log-samples --data-dir " + quote(data), dir.path / "real");
  INFO(real.output);
  REQUIRE(real.status == 0);
  check_task_entry(real.results, "arc_easy", {"acc,none", "acc_norm,none"}, 2);
  CHECK(real.results["n-samples"]["arc_easy"]["original"].get<size_t>() > 30);  // more than the samples hold
  CHECK(real.results["config"]["data_dir"] == data.string());
  auto docs = check_samples(real, "arc_easy", 2);
  check_multiple_choice(real, "arc_easy", docs, true);

  // The bundled rows are the first rows of the real files: the same prompts and scores.
  auto bundled = run_eval("--task arc_easy --limit 2 --log-samples", dir.path / "bundled");
  INFO(bundled.output);
  REQUIRE(bundled.status == 0);
  CHECK(bundled.results["provenance"]["arc_easy"]["all_prompts_sha256"] ==
        real.results["provenance"]["arc_easy"]["all_prompts_sha256"]);
  CHECK(bundled.results["results"]["arc_easy"] == real.results["results"]["arc_easy"]);
}

// ---- 9. the result cache: resuming a killed run ----

namespace {

const char* const kCacheFile = "gemma-eval-cache.sqlite";

// Results in a cache file, read beside the process writing it (0 while it has no results table yet).
size_t cached_rows(const fs::path& file) {
  if (!fs::exists(file)) return 0;
  sqlite3* db = nullptr;
  size_t rows = 0;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* count = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM results", -1, &count, nullptr) == SQLITE_OK &&
        sqlite3_step(count) == SQLITE_ROW)
      rows = static_cast<size_t>(sqlite3_column_int64(count, 0));
    sqlite3_finalize(count);
  }
  sqlite3_close(db);
  return rows;
}

// Starts `gemma-eval run ARGS --no-progress --output OUT` (output to OUT.log), waits until its cache
// holds a result, then SIGKILLs it: the kill lands while the model is working, whatever the machine's
// speed. Returns whether the process was still running when killed.
bool run_until_first_result_then_kill(const std::string& args, const fs::path& out) {
  const std::string command = "exec " + std::string(GEMMA_TEST_BINARY_DIR) + "/gemma-eval run " + args +
                              " --no-progress --output " + quote(out) + " >" + quote(out.string() + ".log") + " 2>&1";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // only async-signal-safe calls between fork and exec
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  int status = 0;
  while (cached_rows(out / "cache" / kCacheFile) == 0 && std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return false;  // it ended on its own (or failed)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

size_t request_count(const std::vector<json>& docs) {
  size_t requests = 0;
  for (const auto& doc : docs) requests += doc["continuations"].size();
  return requests;
}

}  // namespace

TEST_CASE("gemma-eval run: a run killed with SIGKILL resumes from its cache and matches an uninterrupted run",
          "[run][cache]") {
  TempDir dir("gemma-eval-run-resume");
  // A few seconds of model work on the tiny model; batch size 1 stores results group by group.
  const std::string args = "--task arc_challenge --limit 10 --shots 10 --batch-size 1 --log-samples";
  const fs::path out = dir.path / "resumed";
  const bool killed = run_until_first_result_then_kill(args, out);
  const size_t stored_at_kill = cached_rows(out / "cache" / kCacheFile);
  INFO("killed run:\n" << read_text(out.string() + ".log"));
  REQUIRE(stored_at_kill > 0);
  if (killed)
    CHECK_FALSE(fs::exists(out / "results.json"));
  else
    WARN("the run finished before the kill; the second run reuses everything");

  auto resumed = run_eval(args, out);  // the same command again
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  const auto docs = read_samples(out, "arc_challenge");
  const size_t total = request_count(docs);
  // Killed within milliseconds of its first stored result, seconds before its end: results are
  // stored as they finish, not when the task is done.
  if (killed) CHECK(stored_at_kill < total);
  const json& cache = resumed.results["config"]["cache"];
  CHECK(cache["enabled"] == true);
  CHECK(cache["path"] == fs::absolute(out / "cache" / kCacheFile).string());
  // Everything stored before the kill is reused, nothing else; the rest is computed and stored.
  CHECK(cache["hits"].get<size_t>() == stored_at_kill);
  CHECK(cache["misses"].get<size_t>() == total - stored_at_kill);
  CHECK(cache["stored"] == cache["misses"]);
  CHECK(cached_rows(out / "cache" / kCacheFile) == total);
  CHECK_THAT(resumed.output,
             Catch::Contains("reused " + std::to_string(stored_at_kill) + " of " + std::to_string(total) + " results"));

  auto plain = run_eval(args + " --no-cache", dir.path / "plain");
  INFO(plain.output);
  REQUIRE(plain.status == 0);
  CHECK(resumed.results["results"] == plain.results["results"]);
  CHECK(resumed.results["n-samples"] == plain.results["n-samples"]);
  CHECK(resumed.results["provenance"]["arc_challenge"]["all_prompts_sha256"] ==
        plain.results["provenance"]["arc_challenge"]["all_prompts_sha256"]);
  CHECK(docs == read_samples(plain.dir, "arc_challenge"));
}

TEST_CASE("gemma-eval run: --cache shares results across output folders and batching, never across models",
          "[run][cache]") {
  TempDir dir("gemma-eval-run-cache");
  const fs::path cache = dir.path / "shared-cache";
  const std::string args = "--task arc_challenge --limit 3 --shots 2 --log-samples --cache " + quote(cache);
  auto first = run_eval(args, dir.path / "first");
  INFO(first.output);
  REQUIRE(first.status == 0);
  const size_t total = request_count(read_samples(first.dir, "arc_challenge"));
  CHECK(first.results["config"]["cache"]["hits"] == 0);
  CHECK(first.results["config"]["cache"]["misses"] == total);
  CHECK(fs::exists(cache / kCacheFile));
  CHECK_FALSE(fs::exists(first.dir / "cache"));

  // Another model (other weights and tokenizer), the same requests: nothing is reused.
  auto other = run_eval(args + " --model " + quote(tiny_text_dir()), dir.path / "other");
  INFO(other.output);
  REQUIRE(other.status == 0);
  CHECK(other.results["config"]["cache"]["hits"] == 0);
  CHECK(other.results["config"]["cache"]["misses"] == total);
  CHECK(other.results["results"]["arc_challenge"] != first.results["results"]["arc_challenge"]);

  // The first model again, batched differently: all reused (batching is not in the key), same numbers.
  auto again = run_eval(args + " --batch-size 3 --no-prefix-sharing", dir.path / "again");
  INFO(again.output);
  REQUIRE(again.status == 0);
  CHECK(again.results["config"]["cache"]["hits"] == total);
  CHECK(again.results["config"]["cache"]["misses"] == 0);
  CHECK(again.results["config"]["engine"]["forward_tokens"] == 0);
  CHECK(again.results["results"] == first.results["results"]);
  CHECK(read_samples(again.dir, "arc_challenge") == read_samples(first.dir, "arc_challenge"));
}

TEST_CASE("gemma-eval run --no-cache reports no cache and leaves none", "[run][cache]") {
  TempDir dir("gemma-eval-run-no-cache");
  auto run = run_eval("--task arc_easy --limit 1 --no-cache", dir.path / "out");
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK(run.results["config"]["cache"] == json{{"enabled", false}});
  CHECK_FALSE(fs::exists(dir.path / "out" / "cache"));
  CHECK(run.output.find("result cache") == std::string::npos);

  auto both = run_eval("--task arc_easy --limit 1 --no-cache --cache " + quote(dir.path / "c"), dir.path / "both");
  CHECK(both.status != 0);
  CHECK_THAT(both.output, Catch::Contains("--no-cache"));
}

TEST_CASE("gemma-eval run: a damaged or unusable cache stops the run naming the file", "[run][cache]") {
  TempDir dir("gemma-eval-run-bad-cache");
  SECTION("garbage bytes in the cache file") {
    const fs::path file = dir.path / "out" / "cache" / kCacheFile;
    fs::create_directories(file.parent_path());
    const std::string garbage(5000, '\x5a');
    write_text(file, garbage);
    auto run = run_eval("--task arc_easy --limit 1", dir.path / "out");
    INFO(run.output);
    CHECK(run.status == 1);
    CHECK_THAT(run.output, Catch::Contains("gemma-eval: error: result cache " + file.string()));
    CHECK_THAT(run.output, Catch::Contains("--no-cache"));
    CHECK(read_text(file) == garbage);  // left for the user to inspect or delete
    CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
    // As the message says, --no-cache runs past it.
    CHECK(run_eval("--task arc_easy --limit 1 --no-cache", dir.path / "out").status == 0);
  }
  SECTION("a cache folder under a regular file") {
    write_text(dir.path / "file", "not a folder\n");
    auto run = run_eval("--task arc_easy --limit 1 --cache " + quote(dir.path / "file" / "cache"), dir.path / "out");
    INFO(run.output);
    CHECK(run.status == 1);
    CHECK_THAT(run.output, Catch::Contains((dir.path / "file" / "cache").string()));
    CHECK_FALSE(fs::exists(dir.path / "out" / "results.json"));
  }
}
