// gemma-eval run with lm-eval's command line (lm_eval/__main__.py cli_evaluate's flag spellings) on the
// built-in tiny model: its results file has the key set and JSON types of a results file lm-eval 0.4
// wrote (tests/data/lm_eval/MANIFEST), its samples carry lm-eval's per-line keys, and --output_path
// writes lm-eval's layout. Two model runs in all, shared by the checks; the flag errors stop before the
// model loads.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "reports/results_json.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using Catch::Contains;
using nlohmann::ordered_json;

namespace {

std::string json_type(const ordered_json& value) {
  if (value.is_number()) return "number";  // Python writes int and float alike as JSON numbers
  return value.type_name();
}

std::vector<fs::path> files_matching(const fs::path& dir, const std::string& prefix, const std::string& suffix) {
  std::vector<fs::path> found;
  if (!fs::is_directory(dir)) return found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= prefix.size() + suffix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<ordered_json> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<ordered_json> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(ordered_json::parse(line));
  return lines;
}

// One lm-eval-style evaluation and one --predict_only run into the same --output_path, made once.
struct LmEvalRuns {
  TempDir dir{"gemma-eval-lm-eval-cli"};
  CliRun scored, predicted;
  LmEvalRuns() {
    const std::string output = quote(dir.path / "out");
    scored = run_cli(
        "--tasks arc_challenge,gsm8k --num_fewshot 1 --limit 0.5 --batch_size auto --log_samples --output_path " +
        output +
        " --seed 0,1234,1234,7 --gen_kwargs max_gen_toks=4,do_sample=False,temperature=0 --apply_chat_template "
        "--fewshot_as_multiturn --system_instruction 'Be brief.' --run-name nightly --write_out --show_config "
        "--no-progress --no-cache");
    predicted = run_cli("--tasks gsm8k --limit 2 --predict_only --output_path " + output + " --no-progress --no-cache");
  }
};

const LmEvalRuns& lm_eval_runs() {
  static LmEvalRuns runs;
  return runs;
}

}  // namespace

TEST_CASE("lm-eval's command line: results file with lm-eval 0.4's keys and types, in lm-eval's layout",
          "[cli][lm_eval_cli]") {
  const LmEvalRuns& runs = lm_eval_runs();
  INFO(runs.scored.output);
  REQUIRE(runs.scored.status == 0);
  INFO(runs.predicted.output);
  REQUIRE(runs.predicted.status == 0);

  // --output_path P: P/<model_name_sanitized>/results_<timestamp>.json; the second run added its own files.
  const fs::path model_dir = runs.dir.path / "out" / "builtin-tiny__tiny-gemma3";
  const auto results_files = files_matching(model_dir, "results_", ".json");
  REQUIRE(results_files.size() == 2);
  CHECK(files_matching(model_dir, "samples_arc_challenge_", ".jsonl").size() == 1);
  CHECK(files_matching(model_dir, "samples_gsm8k_", ".jsonl").size() == 2);
  const std::string first_name = results_files[0].filename().string();
  // results_2026-12-07T07-07-39.220388.json: datetime.now().isoformat() with ':' replaced.
  CHECK(first_name.size() >= std::string("results_2026-12-07T07-07-39.json").size());
  CHECK(first_name.find(':') == std::string::npos);
  CHECK(first_name[18] == 'T');

  ordered_json ours, predicted;
  for (const auto& path : results_files) {
    const ordered_json json = read_json(path);
    (json["config"].value("predict_only", false) ? predicted : ours) = json;
  }
  REQUIRE(ours.is_object());
  REQUIRE(predicted.is_object());

  SECTION("every top-level key of lm-eval's file, with its JSON type") {
    const ordered_json theirs = read_json(fs::path(GEMMA_TEST_SOURCE_DIR) / "tests" / "data" / "lm_eval" /
                                          "results_saucam__PowerBot-8B_arc.json");
    for (const auto& [key, value] : theirs.items()) {
      INFO(key);
      REQUIRE(ours.contains(key));
      CHECK(json_type(ours[key]) == json_type(value));
    }
    // Inside: the per-task shapes that apply here.
    const auto& their_task = theirs["results"]["arc_challenge"];
    for (const auto& [key, value] : ours["results"]["arc_challenge"].items()) {
      INFO(key);
      const std::string shared = key.find(",none") != std::string::npos ? key : std::string("alias");
      if (!their_task.contains(shared)) continue;
      CHECK(json_type(value) == json_type(their_task[shared]));
    }
    for (const auto& [key, value] : theirs["configs"]["arc_challenge"].items()) {
      if (!ours["configs"]["arc_challenge"].contains(key)) continue;  // dataset_path, doc_to_text, ...: task files
      INFO(key);
      CHECK(json_type(ours["configs"]["arc_challenge"][key]) == json_type(value));
    }
    for (const char* key : {"output_type", "description", "target_delimiter", "fewshot_delimiter", "metric_list",
                            "num_fewshot", "metadata", "repeats"})
      CHECK(ours["configs"]["arc_challenge"].contains(key));
    CHECK(ours["configs"]["arc_challenge"]["metric_list"][0] == theirs["configs"]["arc_challenge"]["metric_list"][0]);
    CHECK(json_type(ours["n-samples"]["arc_challenge"]["effective"]) == "number");
    // config: lm-eval's keys are there with its types, "model" (the model type's name) included.
    for (const auto& [key, value] : theirs["config"].items()) {
      INFO(key);
      CHECK(ours["config"].contains(key));
      if (value.is_null() || ours["config"][key].is_null()) continue;
      if (key == "model_num_parameters" || key == "model_dtype" || key == "model_revision" || key == "model_sha")
        continue;
      CHECK(json_type(ours["config"][key]) == json_type(value));
    }
    CHECK(json_type(theirs["config"]["model"]) == "string");
    CHECK(ours["config"]["model"] == "gemma-eval");
    // The model as loaded: lm-eval's model_args string form, and the whole description in model_details.
    const std::string model_args = ours["config"]["model_args"].get<std::string>();
    CHECK(model_args.rfind("pretrained=builtin-tiny/tiny-gemma3,dtype=", 0) == 0);
    CHECK_THAT(model_args, Contains(",device=cpu"));
    CHECK(ours["config"]["model_details"]["weights_fingerprint"].is_string());
    CHECK(ours["config"]["model_details"]["tokenizer"]["sha256"].is_string());
  }

  SECTION("the keys lm-eval wrote after that file, with the types lm-eval's code gives them") {
    // lm_eval/loggers/utils.py add_tokenizer_info: [token, str(id)]; eot_token_id and max_length ints.
    for (const char* key : {"tokenizer_pad_token", "tokenizer_eos_token", "tokenizer_bos_token"}) {
      INFO(key);
      REQUIRE(ours[key].is_array());
      CHECK(ours[key].size() == 2);
      CHECK(ours[key][1].is_string());
    }
    CHECK(ours["tokenizer_bos_token"] == ordered_json::array({"<bos>", "2"}));
    CHECK(ours["eot_token_id"].is_number_integer());
    CHECK(ours["max_length"].is_number_integer());
    CHECK(ours["groups"].is_object());
    CHECK(ours["higher_is_better"]["arc_challenge"]["acc"] == true);
    // evaluation_tracker.py GeneralConfigTracker.log_experiment_args: the instruction and its sha256.
    CHECK(ours["system_instruction"] == "Be brief.");
    CHECK(ours["system_instruction_sha"] == sha256_hex("Be brief."));
    CHECK(ours["fewshot_as_multiturn"] == true);
    CHECK((ours["chat_template"].is_null() || ours["chat_template"].is_string()));
    CHECK(ours["model_name"] == "builtin-tiny/tiny-gemma3");
    CHECK(ours["model_name_sanitized"] == "builtin-tiny__tiny-gemma3");
    CHECK(ours["config"]["fewshot_seed"] == 7);
    CHECK(ours["config"]["random_seed"] == 0);
    CHECK(ours["config"]["run_name"] == "nightly");
    CHECK(ours["n-samples"]["arc_challenge"]["effective"].get<size_t>() ==
          (ours["n-samples"]["arc_challenge"]["original"].get<size_t>() + 1) / 2);  // ceil(0.5 * n)
    CHECK(ours["configs"]["gsm8k"]["generation_kwargs"]["max_gen_toks"] == 4);
    CHECK(ours.contains("provenance"));
  }

  SECTION("samples lines carry lm-eval's keys and hashes") {
    const auto lines = read_lines(files_matching(model_dir, "samples_arc_challenge_", ".jsonl").front());
    REQUIRE_FALSE(lines.empty());
    for (const char* key : {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics",
                            "doc_hash", "prompt_hash", "target_hash", "prompt", "gold", "scores", "run_id"}) {
      INFO(key);
      CHECK(lines[0].contains(key));
    }
    const auto& line = lines[0];
    CHECK(line["doc_hash"] == reports::lm_eval_doc_hash(line["doc"]));
    CHECK(line["prompt_hash"] == sha256_hex(line["arguments"]["gen_args_0"]["arg_0"].get<std::string>()));
    CHECK(line["target_hash"] == sha256_hex(line["target"].get<std::string>()));
    CHECK(line["target"] == std::to_string(line["gold"].get<int>()));
    CHECK(line["metrics"] == ordered_json({"acc", "acc_norm"}));
    // The chat template with the shot as its own turns, and the system instruction first.
    const std::string prompt = line["prompt"].get<std::string>();
    CHECK(prompt.rfind("<start_of_turn>user\nBe brief.\n\n", 0) == 0);
    CHECK(prompt.find("<end_of_turn>\n<start_of_turn>model\n") < prompt.rfind("<start_of_turn>user\n"));
    // task_hashes: lm-eval's sha256 over every line's three hashes.
    std::string joined;
    for (const auto& each : lines)
      joined += each["doc_hash"].get<std::string>() + each["prompt_hash"].get<std::string>() +
                each["target_hash"].get<std::string>();
    CHECK(ours["task_hashes"]["arc_challenge"] == sha256_hex(joined));
  }

  SECTION("--gen_kwargs, --write_out and --show_config") {
    for (const auto& line : read_lines(files_matching(model_dir, "samples_gsm8k_", ".jsonl").front()))
      CHECK(line["arguments"]["gen_args_0"]["arg_1"]["max_gen_toks"] == 4);
    CHECK_THAT(runs.scored.output,
               Contains("Task: arc_challenge; document 0; context prompt (starting on next line):"));
    CHECK_THAT(runs.scored.output, Contains("\"model_name_sanitized\": \"builtin-tiny__tiny-gemma3\""));
    CHECK_THAT(runs.scored.output, Contains("run: nightly"));
  }

  SECTION("--predict_only: answers in the samples, no metrics") {
    CHECK(predicted["results"]["gsm8k"].size() == 1);  // the alias only
    CHECK(predicted["configs"]["gsm8k"]["metric_list"].empty());
    bool found = false;
    for (const auto& path : files_matching(model_dir, "samples_gsm8k_", ".jsonl")) {
      const auto lines = read_lines(path);
      if (lines.empty() || !lines[0]["scores"].empty()) continue;  // the scored run's file
      found = true;
      REQUIRE(lines.size() == 4);  // 2 docs, a line per filter
      // Without metrics the filters come in the records' (sorted) order.
      CHECK(lines[0]["filter"] == "flexible-extract");
      CHECK(lines[2]["filter"] == "strict-match");
      for (const auto& line : lines) {
        CHECK(line["scores"].empty());
        CHECK(line["extracted"].size() == 2);
        CHECK(line["generated"].is_string());
      }
    }
    CHECK(found);
  }
}

TEST_CASE("lm-eval's flags: bad values fail by name before the model loads", "[cli][lm_eval_cli]") {
  auto fails_with = [](const std::string& args, const std::string& message) {
    const CliRun run =
        run_cli(args + " --no-progress --no-cache --output " + quote(fs::temp_directory_path() / "never"));
    INFO(args);
    INFO(run.output);
    CHECK(run.status != 0);
    CHECK_THAT(run.output, Contains(message));
  };
  fails_with("--tasks arc_challenge --num-fewshots 0", "unknown flag --num-fewshots: did you mean --num_fewshot?");
  fails_with("--tasks arc_challenge --batch-size auto --limit " + std::string(300, '9'), "300 characters");
  fails_with("--tasks arc_challenge --batch_size " + std::string(300, '9'), "300 characters");
  fails_with("--tasks 'nomatch_*'", "the pattern matches no task or group");
  fails_with("--tasks arc_challenge --model_args pretrained=x,parallelize=True", "unknown key 'parallelize'");
  fails_with("--tasks gsm8k --gen_kwargs do_sample=True", "sampling is not supported");
  fails_with("--tasks arc_challenge --fewshot_as_multiturn", "--apply_chat_template");
  fails_with("--tasks arc_challenge --model_args pretrained=/no/such/model", "/no/such/model");
  CHECK_FALSE(fs::exists(fs::temp_directory_path() / "never"));
}

TEST_CASE("task listing: --tasks list and ls give groups, tags and tasks in lm-eval's sections",
          "[cli][lm_eval_cli][task_listing]") {
  // tests/data/task_files/mine: colors.yaml has `tag: [color_tasks]`, color_group.yaml is a group config.
  const std::string include =
      " --include-path " + quote(fs::path(GEMMA_TEST_SOURCE_DIR) / "tests" / "data" / "task_files" / "mine");
  // The row of `name` in the section that starts with `header`, and the section's own text.
  const auto section = [](const std::string& output, const std::string& header) {
    const size_t start = output.find("| " + header + " ");
    if (start == std::string::npos) return std::string();
    const size_t end = output.find("\n\n", start);
    return output.substr(start, end == std::string::npos ? std::string::npos : end - start);
  };
  const auto has_row = [](const std::string& table, const std::string& name) {
    return table.find("| " + name + " ") != std::string::npos;
  };
  for (const std::string& command : {"--tasks list" + include, "ls tasks" + include}) {
    INFO(command);
    const CliRun listed = run_cli(command);
    INFO(listed.output);
    CHECK(listed.status == 0);
    const std::string groups = section(listed.output, "Group"), tags = section(listed.output, "Tag"),
                      tasks = section(listed.output, "Task");
    CHECK(listed.output.find("| Group ") < listed.output.find("| Tag "));  // lm-eval's order: groups, tags, tasks
    CHECK(listed.output.find("| Tag ") < listed.output.find("| Task "));
    CHECK(has_row(groups, "mmlu_stem"));
    CHECK(has_row(groups, "color_group"));
    CHECK_FALSE(has_row(groups, "color_tasks"));
    CHECK(has_row(tags, "color_tasks"));
    CHECK_FALSE(has_row(tags, "color_group"));
    CHECK(has_row(tasks, "mmlu_anatomy"));
    CHECK(has_row(tasks, "colors"));
    CHECK_FALSE(has_row(tasks, "mmlu_stem"));
    CHECK_THAT(tasks, Contains("generate_until") && Contains("colors.yaml"));
  }
  const CliRun tags_only = run_cli("--tasks list_tags" + include);
  CHECK(tags_only.status == 0);
  CHECK_THAT(tags_only.output, Contains("| color_tasks "));
  CHECK(tags_only.output.find("| Group ") == std::string::npos);
  const CliRun groups_only = run_cli("ls groups");
  CHECK(groups_only.status == 0);
  CHECK_THAT(groups_only.output, Contains("| mmlu_stem "));
  CHECK(groups_only.output.find("| Task ") == std::string::npos);
  const CliRun wrong = run_cli("ls task");
  CHECK(wrong.status != 0);
  CHECK_THAT(wrong.output, Contains("ls task: expected tasks"));
}
