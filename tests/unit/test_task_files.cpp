// lm-eval task files (evals/task_file.h): fixtures under tests/data/task_files/ written as lm-eval
// writes them -- mine/ (a multiple-choice task on JSONL, a generate_until task on CSV with regex +
// take_first filters, a first_n few-shot config, an include chain, a group), lm_eval/ (lm-eval's own
// arc_easy / arc_challenge / piqa / boolq YAML text, from EleutherAI/lm-evaluation-harness
// lm_eval/tasks/), errors/ (one refusal each).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "evals/aggregation.h"
#include "evals/builtin_task_files.h"
#include "evals/evaluator.h"
#include "evals/task_file.h"
#include "evals/task_registry.h"
#include "tests/support/task_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace gemma;
using namespace gemma::evals;
namespace fs = std::filesystem;
using gemma::test::error_of;
using gemma::test::kSharedData;
using gemma::test::render_prompt;

namespace {

const fs::path kFixtures = fs::path(GEMMA_TEST_SOURCE_DIR) / "tests" / "data" / "task_files";

// Registered task files are process-wide: each test starts and ends without any.
struct RegistryGuard {
  RegistryGuard() { clear_registered_task_files(); }
  ~RegistryGuard() { clear_registered_task_files(); }
};

TaskSpec only_task(const fs::path& file) {
  TaskFileSet set = load_task_file(file);
  REQUIRE(set.tasks.size() == 1);
  return set.tasks.front();
}

// Records every request and answers deterministically (a log-likelihood from the strings, a canned
// generation), so two tasks that build the same requests get the same results.
class RecordingEngine : public Engine {
 public:
  std::vector<LoglikelihoodRequest> loglikelihood_requests;
  std::vector<GenerationRequest> generation_requests;
  std::string generation = "";

  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                 EngineProgress*) override {
    loglikelihood_requests.insert(loglikelihood_requests.end(), requests.begin(), requests.end());
    std::vector<LoglikelihoodResult> results;
    for (const LoglikelihoodRequest& request : requests) {
      LoglikelihoodResult result;
      result.logprob = -static_cast<double>((request.context.size() * 31 + request.continuation.size() * 7) % 97) / 10;
      result.is_greedy = result.logprob > -3.0;
      results.push_back(result);
    }
    return results;
  }
  std::vector<GenerationResult> generate_until(const std::vector<GenerationRequest>& requests,
                                               EngineProgress*) override {
    generation_requests.insert(generation_requests.end(), requests.begin(), requests.end());
    std::vector<GenerationResult> results(requests.size());
    for (GenerationResult& result : results) result.text = generation;
    return results;
  }
  std::vector<RollingLoglikelihoodRequest> rolling_requests;
  std::vector<LoglikelihoodResult> loglikelihood_rolling(const std::vector<RollingLoglikelihoodRequest>& requests,
                                                         EngineProgress*) override {
    rolling_requests.insert(rolling_requests.end(), requests.begin(), requests.end());
    std::vector<LoglikelihoodResult> results;
    for (const RollingLoglikelihoodRequest& request : requests) {
      LoglikelihoodResult result;
      result.logprob = -0.5 * static_cast<double>(request.text.size());
      results.push_back(result);
    }
    return results;
  }
  std::string describe_json() const override { return "{}"; }
};

void write_jsonl(const fs::path& path, const std::vector<Doc>& docs) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  for (const Doc& doc : docs) out << doc.dump() << '\n';
}

// Runs `builtin` and `from_file` on their data and checks that they send byte-identical requests and
// score the docs alike.
void check_same_requests(const TaskSpec& builtin, const fs::path& builtin_data, const TaskSpec& from_file,
                         const fs::path& file_data, int shots, size_t limit) {
  EvalOptions options;
  options.shots = shots;
  options.limit = limit;
  RecordingEngine builtin_engine, file_engine;
  const TaskResult expected = evaluate_task(builtin, builtin_data, builtin_engine, options);
  const TaskResult actual = evaluate_task(from_file, file_data, file_engine, options);
  REQUIRE(builtin_engine.loglikelihood_requests.size() == file_engine.loglikelihood_requests.size());
  REQUIRE(!file_engine.loglikelihood_requests.empty());
  for (size_t i = 0; i < file_engine.loglikelihood_requests.size(); ++i) {
    INFO("request " << i);
    CHECK(file_engine.loglikelihood_requests[i].context == builtin_engine.loglikelihood_requests[i].context);
    CHECK(file_engine.loglikelihood_requests[i].continuation == builtin_engine.loglikelihood_requests[i].continuation);
  }
  REQUIRE(actual.docs.size() == expected.docs.size());
  for (size_t i = 0; i < actual.docs.size(); ++i) {
    INFO("doc " << i);
    CHECK(actual.docs[i].prompt == expected.docs[i].prompt);
    CHECK(actual.docs[i].shot_ids == expected.docs[i].shot_ids);
    CHECK(actual.docs[i].target == expected.docs[i].target);
    CHECK(actual.docs[i].metrics == expected.docs[i].metrics);
  }
  CHECK(actual.first_prompt_sha256 == expected.first_prompt_sha256);
  CHECK(actual.all_prompts_sha256 == expected.all_prompts_sha256);
}

}  // namespace

TEST_CASE("task files: a multiple_choice task on local JSON Lines", "[task_files]") {
  RegistryGuard guard;
  const TaskSpec t = only_task(kFixtures / "mine" / "colors.yaml");
  CHECK(t.name == "colors");
  CHECK(t.output_type == OutputType::MultipleChoice);
  CHECK(t.default_shots == 2);
  CHECK(t.version == 3);
  CHECK(t.sampler == ShotSampler::Random);
  CHECK_FALSE(t.sampler_gets_eval_doc);  // test_split set, fewshot_split unset
  CHECK(t.description == "The following are questions about colors.\n\n");
  CHECK(t.source_file == (kFixtures / "mine" / "colors.yaml").string());

  const DocSplit split = t.load_eval("/nonexistent");  // data_files: relative to the task file
  REQUIRE(split.docs.size() == 3);
  CHECK(split.name == "test");
  CHECK(split.files.at(0).rows == 3);
  CHECK(split.docs[0]["meta"]["tags"] == Doc::array({"sky", "weather"}));  // nested JSON kept
  CHECK(t.doc_to_text(split.docs[0]) == "Q: What color is the sky on a clear day? (2 tags)\nA:");
  CHECK(t.doc_to_text(split.docs[2]) == "Q: What color do you get by mixing red and white? (0 tags)\nA:");
  CHECK(t.doc_to_choice(split.docs[0]) == std::vector<std::string>{"green", "blue", "red"});
  CHECK(t.doc_to_gold(split.docs[0]) == 1);
  CHECK(t.doc_to_gold(split.docs[2]) == 2);
  CHECK(t.doc_to_target(split.docs[0]) == "blue");  // an index target shows its choice
  REQUIRE(t.load_fewshot);
  CHECK(t.load_fewshot("/nonexistent").docs.size() == 3);
  REQUIRE(t.metrics.size() == 2);
  CHECK(t.metrics[0].name == "acc");
  CHECK(t.metrics[1].name == "acc_norm");

  RecordingEngine engine;
  EvalOptions options;
  options.shots = 0;
  const TaskResult result = evaluate_task(t, "/nonexistent", engine, options);
  REQUIRE(engine.loglikelihood_requests.size() == 9);
  CHECK(engine.loglikelihood_requests[0].context ==
        "The following are questions about colors.\n\nQ: What color is the sky on a clear day? (2 tags)\nA:");
  CHECK(engine.loglikelihood_requests[0].continuation == " green");
  CHECK(engine.loglikelihood_requests[1].continuation == " blue");
  CHECK(result.docs.at(0).target == 1);
}

TEST_CASE("task files: generate_until on CSV with regex and take_first filters", "[task_files]") {
  RegistryGuard guard;
  const TaskSpec t = only_task(kFixtures / "mine" / "arith_gen.yaml");
  CHECK(t.output_type == OutputType::GenerateUntil);
  CHECK(t.until == std::vector<std::string>{"Question:", "</s>"});
  CHECK(t.max_gen_toks == 32);
  REQUIRE(t.filters.size() == 3);
  CHECK(t.filters[0].name == "strict-match");
  REQUIRE(t.filters[0].steps.size() == 2);
  CHECK(t.filters[0].steps[0].kind == FilterStep::Kind::Regex);
  CHECK(t.filters[0].steps[0].pattern == "#### (\\-?[0-9\\.\\,]+)");
  CHECK(t.filters[0].steps[1].kind == FilterStep::Kind::TakeFirst);
  CHECK(t.filters[1].steps[0].group_select == -1);
  REQUIRE(t.metrics.size() == 1);
  CHECK(t.metrics[0].name == "exact_match");
  CHECK(t.metrics[0].registry_options["ignore_case"] == true);
  CHECK(t.metrics[0].registry_options["regexes_to_ignore"] == Doc::array({",", "\\$"}));

  // data_files as one path is the "train" split (datasets.load_dataset); CSV columns typed as pandas
  // types them: all-integer columns are ints, a column with a decimal is float, an empty cell NaN.
  const DocSplit split = t.load_eval("/nonexistent");
  REQUIRE(split.docs.size() == 3);
  CHECK(split.docs[0]["id"] == 1);
  CHECK(split.docs[0]["answer"] == 5);
  CHECK(split.docs[1]["difficulty"] == 0.25);
  CHECK(split.docs[2]["difficulty"].is_null());
  CHECK(t.doc_to_text(split.docs[2]) == "Question: What is 7 times 6, in words \"and digits\"?\nAnswer:");
  CHECK(t.doc_to_references(split.docs[0]) == std::vector<std::string>{"5"});
  CHECK(t.doc_to_target(split.docs[1]) == "6");

  RecordingEngine engine;
  engine.generation = " It is 2 + 3, so #### 5";
  EvalOptions options;
  options.limit = 1;
  const TaskResult result = evaluate_task(t, "/nonexistent", engine, options);
  REQUIRE(engine.generation_requests.size() == 1);
  CHECK(engine.generation_requests[0].context == "Question: What is 2 plus 3?\nAnswer:");
  CHECK(engine.generation_requests[0].until == t.until);
  CHECK(engine.generation_requests[0].max_gen_toks == 32);
  CHECK(result.docs.at(0).extracted.at("strict-match") == "5");
  CHECK(result.docs.at(0).metrics.at("exact_match,strict-match") == 1.0);
  CHECK(result.docs.at(0).extracted.at("shout") == "IT IS 2 + 3, SO #### 5");
}

TEST_CASE("task files: fewshot_config samples with the first_n sampler", "[task_files]") {
  RegistryGuard guard;
  const TaskSpec t = only_task(kFixtures / "mine" / "colors_first_n.yaml");
  CHECK(t.sampler == ShotSampler::FirstN);
  CHECK(t.default_shots == 2);
  RecordingEngine engine;
  EvalOptions options;
  options.limit = 2;
  evaluate_task(t, "/nonexistent", engine, options);
  REQUIRE(engine.loglikelihood_requests.size() == 6);
  // doc_to_target "{{answer}}" renders "0": a digit string with doc_to_choice set is an index, so the
  // shot shows the choice; the third sample is never shown with 2 shots.
  const std::string shots = "Q: What color is a stop sign?\nA: red\n\nQ: What color is the sea?\nA: blue\n\n";
  CHECK(engine.loglikelihood_requests[0].context == shots + "Q: What color is the sky on a clear day?\nA:");
  CHECK(engine.loglikelihood_requests[3].context == shots + "Q: What color is fresh grass?\nA:");
}

TEST_CASE("task files: include chains, nearest key wins", "[task_files]") {
  RegistryGuard guard;
  const TaskFileSet set = load_task_file(kFixtures / "mine" / "colors_chain.yaml");
  REQUIRE(set.tasks.size() == 1);
  const TaskSpec& t = set.tasks.front();
  CHECK(set.files.size() == 3);
  CHECK(t.version == 2);                               // from the base, two includes away
  CHECK(t.output_type == OutputType::MultipleChoice);  // from the template
  const DocSplit split = t.load_eval("/nonexistent");  // base's data_files, relative to the base
  CHECK(t.doc_to_text(split.docs[0]) == "Q: What color is the sky on a clear day?\nA:");  // template over base
  CHECK(t.doc_to_gold(split.docs[0]) == 1);  // "{{options[answer]}}" renders "blue", one of the choices
  CHECK(t.doc_to_target(split.docs[0]) == "blue");
  CHECK(t.source_config["task"] == "colors_chain");
  CHECK_FALSE(t.source_config.contains("include"));
}

TEST_CASE("the task listing has lm-eval's sections: a task file's group among the groups, its tag among the tags",
          "[task_files][task_listing]") {
  RegistryGuard guard;
  const auto names = [](const std::vector<TaskListing::Entry>& entries) {
    std::vector<std::string> out;
    for (const auto& entry : entries) out.push_back(entry.name);
    return out;
  };
  const auto contains = [](const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  const TaskListing builtin = task_listing();
  CHECK(contains(names(builtin.groups), "mmlu_stem"));  // MMLU's categories are groups, as in lm-eval
  CHECK(contains(names(builtin.groups), "mmlu"));
  CHECK_FALSE(contains(names(builtin.tasks), "mmlu_stem"));
  // The built-in task files' tags (lm-eval's): names for several tasks, without an aggregate row.
  CHECK(contains(names(builtin.tags), "mmlu_stem_tasks"));
  CHECK(contains(names(builtin.tags), "ai2_arc"));
  CHECK_FALSE(contains(names(builtin.groups), "ai2_arc"));
  CHECK(names(builtin.tasks) == list_task_names(/*include_groups=*/false));

  // colors.yaml has `tag: [color_tasks]`; color_group.yaml is a group config with aggregate_metric_list.
  register_task_files(load_task_dir(kFixtures / "mine"));
  const TaskListing listing = task_listing();
  CHECK(contains(names(listing.tags), "color_tasks"));
  CHECK(names(listing.tags).size() == names(builtin.tags).size() + 1);
  CHECK(contains(names(listing.groups), "color_group"));
  CHECK_FALSE(contains(names(listing.groups), "color_tasks"));
  CHECK_FALSE(contains(names(listing.tasks), "color_group"));
  const auto colors = std::find_if(listing.tasks.begin(), listing.tasks.end(),
                                   [](const TaskListing::Entry& entry) { return entry.name == "colors"; });
  REQUIRE(colors != listing.tasks.end());
  CHECK(colors->output_type == "multiple_choice");
  CHECK(fs::path(colors->location).filename() == "colors.yaml");
  const auto arith = std::find_if(listing.tasks.begin(), listing.tasks.end(),
                                  [](const TaskListing::Entry& entry) { return entry.name == "arith_gen"; });
  REQUIRE(arith != listing.tasks.end());
  CHECK(arith->output_type == "generate_until");
  CHECK(listing.tasks.front().location == "<built-in>/tasks/mmlu/mmlu_abstract_algebra.yaml");  // compiled in
  const auto hellaswag = std::find_if(listing.tasks.begin(), listing.tasks.end(),
                                      [](const TaskListing::Entry& entry) { return entry.name == "hellaswag"; });
  REQUIRE(hellaswag != listing.tasks.end());
  CHECK(hellaswag->location == "---");  // a C++ task
  const auto group_names = names(listing.groups);
  CHECK(std::is_sorted(group_names.begin(), group_names.end()));
}

TEST_CASE("task files: a group config with inline tasks and aggregate_metric_list", "[task_files]") {
  RegistryGuard guard;
  register_task_files(load_task_dir(kFixtures / "mine"));
  const auto members = resolve_tasks("color_group");
  REQUIRE(members.size() == 2);
  CHECK(members[0]->name == "colors");
  CHECK(members[1]->name == "colors_inline");
  for (const TaskSpec* task : members) CHECK(task->groups == std::vector<std::string>{"color_group"});
  const DocSplit split = members[1]->load_eval("/nonexistent");
  CHECK(members[1]->doc_to_text(split.docs[0]) == "What color is the sky on a clear day?");

  // a tag names tasks without aggregating them
  const auto tagged = resolve_tasks("color_tasks");
  REQUIRE(tagged.size() == 1);
  CHECK(tagged[0]->name == "colors");
  // every task file under the folder, shared templates (no task key, no .yaml) only through includes
  for (const char* name : {"arith_gen", "colors", "colors_chain", "colors_first_n", "colors_inline"})
    CHECK(resolve_tasks(name).size() == 1);

  std::vector<TaskResult> results;
  for (const TaskSpec* task : members) {
    RecordingEngine engine;
    EvalOptions options;
    options.shots = 0;
    results.push_back(evaluate_task(*task, "/nonexistent", engine, options));
  }
  const std::vector<GroupResult> groups = aggregate_groups(results);
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].group == "color_group");
  CHECK(groups[0].tasks == std::vector<std::string>{"colors", "colors_inline"});
  // task_alias goes into the task's results config (reports show it), group_alias to the registry (the
  // CLI's complete_groups copies it into the GroupResult).
  CHECK(results[1].config["task_alias"] == "colors, inline");
  CHECK_FALSE(results[0].config.contains("task_alias"));
  CHECK(loaded_tasks().group_aliases.at("color_group") == "Colors (all)");
}

TEST_CASE("task files: a group of built-in tasks", "[task_files]") {
  RegistryGuard guard;
  gemma::test::TempDir dir;
  std::ofstream(dir.path / "my_arc.yaml") << "group: my_arc\n"
                                             "task:\n"
                                             "  - arc_easy\n"
                                             "  - arc_challenge\n"
                                             "aggregate_metric_list:\n"
                                             "  - metric: acc\n"
                                             "    weight_by_size: true\n";
  register_task_files(load_task_file(dir.path / "my_arc.yaml"));
  const auto members = resolve_tasks("my_arc");
  REQUIRE(members.size() == 2);
  CHECK(members[0]->name == "arc_easy");
  CHECK(members[1]->groups == std::vector<std::string>{"my_arc"});
  CHECK(gemma::test::task_named("arc_easy").groups.empty());  // the built-in task is not changed

  std::ofstream(dir.path / "unweighted.yaml") << "group: unweighted\n"
                                                 "task: [arc_easy]\n"
                                                 "aggregate_metric_list:\n"
                                                 "  - metric: acc\n";
  CHECK_THAT(error_of([&] { load_task_file(dir.path / "unweighted.yaml"); }),
             Catch::Contains((dir.path / "unweighted.yaml").string() + ":4: aggregate_metric_list"));
  std::ofstream(dir.path / "unknown_member.yaml") << "group: unknown_member\ntask: [no_such_task]\n";
  CHECK_THAT(error_of([&] { register_task_files(load_task_file(dir.path / "unknown_member.yaml")); }),
             Catch::Contains("names no_such_task"));
}

TEST_CASE("task files: a task file's task takes precedence over the built-in one", "[task_files]") {
  RegistryGuard guard;
  const TaskSpec& builtin = gemma::test::task_named("arc_easy");
  CHECK(builtin.source_file == "<built-in>/tasks/arc/arc_easy.yaml");
  register_task_files(load_task_file(kFixtures / "lm_eval" / "arc_easy.yaml"));
  const auto resolved = resolve_tasks("arc_easy");
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0]->source_file == (kFixtures / "lm_eval" / "arc_easy.yaml").string());
  clear_registered_task_files();
  CHECK(resolve_tasks("arc_easy")[0]->source_file == "<built-in>/tasks/arc/arc_easy.yaml");
}

// lm-eval's own YAML, run on the rows the built-in task reads (written out in the layout of the
// Hub dataset, <data-dir>/<dataset_path>/<dataset_name>/<split>.jsonl): the same requests, byte for
// byte, with shots drawn by the same sampler, and the same golds and scores.
TEST_CASE("task files: lm-eval's arc_easy and arc_challenge YAML match the built-in tasks", "[task_files]") {
  RegistryGuard guard;
  gemma::test::TempDir data;
  for (const char* name : {"arc_easy", "arc_challenge"}) {
    const TaskSpec& builtin = gemma::test::task_named(name);
    const std::string config = std::string(name) == "arc_easy" ? "ARC-Easy" : "ARC-Challenge";
    write_jsonl(data.path / "ai2_arc" / config / "test.jsonl", builtin.load_eval(kSharedData).docs);
    write_jsonl(data.path / "ai2_arc" / config / "train.jsonl", builtin.load_fewshot(kSharedData).docs);
  }
  const TaskSpec easy = only_task(kFixtures / "lm_eval" / "arc_easy.yaml");
  const TaskSpec challenge = only_task(kFixtures / "lm_eval" / "arc_challenge.yaml");
  CHECK(challenge.version == 1);  // metadata from arc_easy.yaml through the include
  check_same_requests(gemma::test::task_named("arc_easy"), kSharedData, easy, data.path, 0, 40);
  check_same_requests(gemma::test::task_named("arc_easy"), kSharedData, easy, data.path, 5, 20);
  check_same_requests(gemma::test::task_named("arc_challenge"), kSharedData, challenge, data.path, 25, 8);
}

TEST_CASE("built-in task files: the compiled-in copies are the repository's tasks/ folder, byte for byte",
          "[task_files]") {
  const fs::path tasks = fs::path(GEMMA_TEST_SOURCE_DIR) / "tasks";
  std::vector<std::string> on_disk;
  for (const auto& entry : fs::recursive_directory_iterator(tasks))
    if (entry.is_regular_file() && entry.path().extension() != ".md")
      on_disk.push_back(entry.path().lexically_relative(tasks).generic_string());
  std::sort(on_disk.begin(), on_disk.end());
  std::vector<std::string> embedded;
  for (const BuiltinTaskFile& file : builtin_task_files()) {
    embedded.emplace_back(file.path);
    INFO(file.path);
    CHECK(file.text == gemma::read_file(tasks / std::string(file.path)));
  }
  CHECK(embedded == on_disk);
  CHECK(on_disk.size() > 60);  // MMLU alone is 57 subjects, 5 groups and a template
}

TEST_CASE("built-in task files: tasks/ loaded from disk gives the built-in tasks, with their groups and aliases",
          "[task_files]") {
  RegistryGuard guard;
  const fs::path tasks = fs::path(GEMMA_TEST_SOURCE_DIR) / "tasks";
  const TaskFileSet set = load_task_dir(tasks);
  REQUIRE(set.tasks.size() == 65);  // arc x2, boolq, gsm8k x2, 57 MMLU subjects, nq_open, piqa, social_iqa
  for (const TaskSpec& from_disk : set.tasks) {
    INFO(from_disk.name);
    const TaskSpec& builtin = gemma::test::task_named(from_disk.name);
    CHECK(builtin.source_file ==
          "<built-in>/" + fs::path(from_disk.source_file).lexically_relative(tasks.parent_path()).generic_string());
    CHECK(builtin.source_config == from_disk.source_config);
    CHECK(builtin.default_shots == from_disk.default_shots);
  }
  CHECK(gemma::test::task_named("mmlu_anatomy").groups == std::vector<std::string>{"mmlu_stem", "mmlu"});
  CHECK(gemma::test::task_named("mmlu_sociology").groups == std::vector<std::string>{"mmlu_social_sciences", "mmlu"});
  CHECK(builtin_group_aliases().at("mmlu_social_sciences") == "social sciences");
  CHECK(resolve_tasks("mmlu").size() == 57);
  CHECK(resolve_tasks("mmlu_humanities").size() == 13);
  CHECK(resolve_tasks("mmlu").front()->name == "mmlu_abstract_algebra");  // stem first, as _mmlu.yaml lists
  CHECK(resolve_tasks("mmlu").back()->name == "mmlu_world_religions");    // humanities last
  // Tags name their tasks as lm-eval's do (not aggregated: no group row).
  const auto arc_tag = resolve_tasks("ai2_arc");
  REQUIRE(arc_tag.size() == 2);
  CHECK(arc_tag[0]->name == "arc_challenge");  // in file order
  CHECK(arc_tag[1]->name == "arc_easy");
  // The docs are the Hub datasets' layout (what lm-eval logs), made from the original files.
  const DocSplit mmlu = gemma::test::task_named("mmlu_anatomy").load_eval(kSharedData);
  REQUIRE(!mmlu.docs.empty());
  CHECK(mmlu.docs[0].dump().rfind(R"({"question":)", 0) == 0);
  CHECK(mmlu.docs[0].at("subject") == "anatomy");
  CHECK(mmlu.docs[0].at("answer").is_number_integer());
  const DocSplit arc = gemma::test::task_named("arc_easy").load_eval(kSharedData);
  CHECK(arc.docs.at(0).at("choices").at("label").is_array());
  const DocSplit piqa = gemma::test::task_named("piqa").load_eval(kSharedData);
  CHECK(piqa.files.size() == 2);  // the rows and their labels file, each with its sha256
  CHECK(piqa.docs.at(0).at("label").is_number_integer());
}

TEST_CASE("task files: data_files under {data_dir}/ are read from --data-dir", "[task_files]") {
  RegistryGuard guard;
  gemma::test::TempDir dir, data;
  std::ofstream(dir.path / "t.yaml") << "task: t\n"
                                        "dataset_path: json\n"
                                        "dataset_kwargs:\n"
                                        "  data_files:\n"
                                        "    test: \"{data_dir}/sub/rows.jsonl\"\n"
                                        "test_split: test\n"
                                        "output_type: multiple_choice\n"
                                        "doc_to_text: \"{{q}}\"\n"
                                        "doc_to_choice: [\"a\", \"b\"]\n"
                                        "doc_to_target: 0\n";
  const TaskSpec t = only_task(dir.path / "t.yaml");
  // Missing: the error names the path under --data-dir and what was written.
  const std::string message = error_of([&] { t.load_eval(data.path); });
  CHECK_THAT(message, Catch::Contains((data.path / "sub" / "rows.jsonl").string()));
  CHECK_THAT(message, Catch::Contains("{data_dir}/sub/rows.jsonl"));
  CHECK_THAT(message, Catch::Contains("--data-dir"));
  // A file of that name next to the task file is not read instead.
  write_jsonl(dir.path / "{data_dir}" / "sub" / "rows.jsonl", {Doc{{"q", "wrong"}}});
  CHECK_THROWS(t.load_eval(data.path));
  write_jsonl(data.path / "sub" / "rows.jsonl", {Doc{{"q", "one"}}, Doc{{"q", "two"}}});
  const DocSplit split = t.load_eval(data.path);
  REQUIRE(split.docs.size() == 2);
  CHECK(split.docs[1].at("q") == "two");
  CHECK(split.files.at(0).path == (data.path / "sub" / "rows.jsonl").string());
}

TEST_CASE("task files: lm-eval's piqa and boolq YAML match the built-in tasks", "[task_files]") {
  RegistryGuard guard;
  // The built-in tasks read the original files; their shot split (train) is made from the validation
  // rows here, in both layouts, since the shared data has no train split.
  gemma::test::TempDir data;
  fs::create_directories(data.path / "piqa");
  fs::create_directories(data.path / "boolq");
  fs::copy_file(kSharedData / "piqa" / "valid.jsonl", data.path / "piqa" / "valid.jsonl");
  fs::copy_file(kSharedData / "piqa" / "valid-labels.lst", data.path / "piqa" / "valid-labels.lst");
  fs::copy_file(kSharedData / "piqa" / "valid.jsonl", data.path / "piqa" / "train.jsonl");
  fs::copy_file(kSharedData / "piqa" / "valid-labels.lst", data.path / "piqa" / "train-labels.lst");
  fs::copy_file(kSharedData / "boolq" / "val.jsonl", data.path / "boolq" / "val.jsonl");
  fs::copy_file(kSharedData / "boolq" / "val.jsonl", data.path / "boolq" / "train.jsonl");
  const TaskSpec& piqa = gemma::test::task_named("piqa");
  const TaskSpec& boolq = gemma::test::task_named("boolq");
  write_jsonl(data.path / "piqa" / "validation.jsonl", piqa.load_eval(data.path).docs);
  write_jsonl(data.path / "super_glue" / "boolq" / "validation.jsonl", boolq.load_eval(data.path).docs);
  write_jsonl(data.path / "super_glue" / "boolq" / "train.jsonl", boolq.load_fewshot(data.path).docs);

  const TaskSpec piqa_file = only_task(kFixtures / "lm_eval" / "piqa.yaml");
  const TaskSpec boolq_file = only_task(kFixtures / "lm_eval" / "boolq.yaml");
  CHECK(piqa_file.sampler_gets_eval_doc);  // neither test_split nor fewshot_split
  CHECK(boolq_file.sampler_gets_eval_doc);
  CHECK(boolq_file.version == 2);
  check_same_requests(boolq, data.path, boolq_file, data.path, 0, 30);
  check_same_requests(boolq, data.path, boolq_file, data.path, 3, 10);
  check_same_requests(piqa, data.path, piqa_file, data.path, 0, 30);
}

TEST_CASE("task files: a Hub dataset missing under --data-dir names the task and the paths tried", "[task_files]") {
  RegistryGuard guard;
  gemma::test::TempDir data;
  const TaskSpec t = only_task(kFixtures / "lm_eval" / "arc_easy.yaml");
  REQUIRE(t.check_data);
  const std::string message = error_of([&] { t.check_data(data.path, 0); });
  CHECK_THAT(message, Catch::Contains("task arc_easy"));
  CHECK_THAT(message, Catch::Contains((data.path / "ai2_arc" / "ARC-Easy" / "test.jsonl").string()));
  CHECK_THAT(message, Catch::Contains((data.path / "ai2_arc" / "ARC-Easy" / "test.csv").string()));
  CHECK_THAT(message, Catch::Contains("datasets.load_dataset('ai2_arc', 'ARC-Easy', split='test')"));
  // the shot split is checked only when shots are asked for
  write_jsonl(data.path / "ai2_arc" / "ARC-Easy" / "test.jsonl", {Doc{{"question", "q"}}});
  t.check_data(data.path, 0);
  CHECK_THAT(error_of([&] { t.check_data(data.path, 5); }), Catch::Contains("split \"train\""));
}

TEST_CASE("task files: refusals name the file, the line and the key", "[task_files]") {
  RegistryGuard guard;
  const fs::path errors = kFixtures / "errors";
  auto message_of = [&](const char* file) { return error_of([&] { load_task_file(errors / file); }); };

  const std::string unknown = message_of("unknown_key.yaml");
  CHECK_THAT(unknown, Catch::Contains((errors / "unknown_key.yaml").string() + ":11: num_fewshots: unknown key"));
  CHECK_THAT(unknown, Catch::Contains("did you mean num_fewshot?"));

  const std::string function = message_of("function.yaml");
  CHECK_THAT(function, Catch::Contains((errors / "function.yaml").string() + ":8: process_docs"));
  CHECK_THAT(function, Catch::Contains("!function"));
  CHECK_THAT(message_of("function_value.yaml"),
             Catch::Contains((errors / "function_value.yaml").string() + ":8: doc_to_text: `!function`"));

  const std::string include = message_of("missing_include.yaml");
  CHECK_THAT(include, Catch::Contains((errors / "missing_include.yaml").string() + ":2: include:"));
  CHECK_THAT(include, Catch::Contains("_no_such_template_yaml does not exist"));

  const std::string cycle = message_of("cycle_a.yaml");
  CHECK_THAT(cycle, Catch::Contains((errors / "_cycle_b_yaml").string() + ":1: include:"));
  CHECK_THAT(cycle, Catch::Contains("include cycle"));

  const std::string output_type = message_of("bad_output_type.yaml");
  CHECK_THAT(output_type, Catch::Contains((errors / "bad_output_type.yaml").string() + ":10: output_type:"));
  CHECK_THAT(output_type, Catch::Contains("multiple_choise"));

  const TaskSpec missing = only_task(errors / "missing_data.yaml");
  const std::string data = error_of([&] { missing.check_data("/nonexistent", 0); });
  CHECK_THAT(data, Catch::Contains("task missing_data (" + (errors / "missing_data.yaml").string() + ")"));
  CHECK_THAT(data, Catch::Contains((errors / ".." / "data" / "no_such_file.jsonl").string() + " does not exist"));
}

// ConfigurableTask's resolution rules on small inline configs: a rendered doc_to_choice is read as a
// Python literal, a rendered "[...]" target too, a list target means several right answers (the shot
// shows its first element), and a field name wins over a template.
TEST_CASE("task files: doc_to_* resolution follows lm-eval's ConfigurableTask", "[task_files]") {
  RegistryGuard guard;
  gemma::test::TempDir dir;
  std::ofstream(dir.path / "data.jsonl") << R"({"q": "Pick", "opts": ["it's", "say \"hi\"", "c"], "golds": [0, 2]})"
                                         << "\n";
  const std::string head =
      "dataset_path: json\n"
      "dataset_kwargs:\n"
      "  data_files:\n"
      "    test: data.jsonl\n"
      "test_split: test\n"
      "output_type: multiple_choice\n";
  auto task_with = [&](const std::string& name, const std::string& body) {
    std::ofstream(dir.path / (name + ".yaml")) << "task: " << name << "\n" << head << body;
    return only_task(dir.path / (name + ".yaml"));
  };
  const Doc doc = Doc::parse(R"({"q": "Pick", "opts": ["it's", "say \"hi\"", "c"], "golds": [0, 2]})");

  const TaskSpec rendered =
      task_with("rendered", "doc_to_text: q\ndoc_to_target: \"{{golds}}\"\ndoc_to_choice: \"{{opts}}\"\n");
  CHECK(rendered.doc_to_text(doc) == "Pick");                                                 // a field name
  CHECK(rendered.doc_to_choice(doc) == std::vector<std::string>{"it's", "say \"hi\"", "c"});  // literal_eval of repr
  CHECK(rendered.doc_to_golds(doc) == std::vector<int>{0, 2});
  CHECK(rendered.doc_to_target(doc) == "0");  // str(doc_target[0])

  const TaskSpec literal =
      task_with("literal", "doc_to_text: \"{{q}}?\"\ndoc_to_target: 1\ndoc_to_choice: [\"x\", \"y\"]\n");
  CHECK(literal.doc_to_text(doc) == "Pick?");
  CHECK(literal.doc_to_gold(doc) == 1);
  CHECK(literal.doc_to_target(doc) == "y");

  const TaskSpec out_of_range =
      task_with("out_of_range", "doc_to_text: q\ndoc_to_target: 5\ndoc_to_choice: [\"x\", \"y\"]\n");
  CHECK_THAT(error_of([&] { out_of_range.doc_to_gold(doc); }), Catch::Contains("task out_of_range"));

  std::ofstream(dir.path / "sampling.yaml") << "task: sampling\n"
                                            << "dataset_path: json\ndataset_kwargs:\n  data_files: data.jsonl\n"
                                               "test_split: train\noutput_type: generate_until\n"
                                               "doc_to_text: q\ndoc_to_target: q\n"
                                               "generation_kwargs:\n  do_sample: true\n";
  CHECK_THAT(error_of([&] { load_task_file(dir.path / "sampling.yaml"); }),
             Catch::Contains((dir.path / "sampling.yaml").string() + ":10: generation_kwargs.do_sample"));
  std::ofstream(dir.path / "repeats.yaml") << "task: repeats\n"
                                           << head << "doc_to_text: q\ndoc_to_target: 0\ndoc_to_choice: [\"x\"]\n"
                                           << "repeats: 4\n";
  CHECK_THAT(error_of([&] { load_task_file(dir.path / "repeats.yaml"); }),
             Catch::Contains((dir.path / "repeats.yaml").string() + ":11: repeats"));
}

// lm-eval's fewshot_context renders config.description as a template of the eval doc
// (utils.apply_template(self.config.description, doc)): each prompt gets its own doc's description, also
// when the shots come from other docs; a description without doc fields stays rendered once.
TEST_CASE("task files: a description that uses the doc's fields is rendered per eval doc", "[task_files]") {
  RegistryGuard guard;
  gemma::test::TempDir dir;
  write_jsonl(dir.path / "data.jsonl", {Doc::parse(R"({"q": "Sky?", "topic": "weather", "label": 0})"),
                                        Doc::parse(R"({"q": "Cat?", "topic": "animals", "label": 1})"),
                                        Doc::parse(R"({"q": "Rain?", "topic": "weather", "label": 0})")});
  const std::string body =
      "dataset_path: json\n"
      "dataset_kwargs:\n  data_files:\n    test: data.jsonl\n"
      "test_split: test\n"
      "fewshot_split: test\n"
      "fewshot_config:\n  sampler: first_n\n"
      "output_type: multiple_choice\n"
      "doc_to_text: \"{{q}}\"\n"
      "doc_to_target: label\n"
      "doc_to_choice: [\"yes\", \"no\"]\n";
  std::ofstream(dir.path / "per_doc.yaml") << "task: per_doc\n"
                                           << body << "description: \"Questions about {{topic | upper}}.\\n\\n\"\n";
  const TaskSpec t = only_task(dir.path / "per_doc.yaml");
  REQUIRE(t.doc_to_description);
  CHECK(t.description == "Questions about {{topic | upper}}.\n\n");  // the template, as lm-eval's config records it

  RecordingEngine engine;
  EvalOptions options;
  options.shots = 1;
  evaluate_task(t, "/nonexistent", engine, options);
  REQUIRE(engine.loglikelihood_requests.size() == 6);
  // first_n skips the eval doc itself: doc 0's shot is doc 1 (animals), yet its description is doc 0's.
  CHECK(engine.loglikelihood_requests[0].context == "Questions about WEATHER.\n\nCat? no\n\nSky?");
  CHECK(engine.loglikelihood_requests[2].context == "Questions about ANIMALS.\n\nSky? yes\n\nCat?");

  std::ofstream(dir.path / "fixed.yaml") << "task: fixed\n" << body << "description: \"{{ 'Fixed' ~ '.' }} \"\n";
  const TaskSpec fixed = only_task(dir.path / "fixed.yaml");
  CHECK_FALSE(fixed.doc_to_description);
  CHECK(fixed.description == "Fixed. ");

  std::ofstream(dir.path / "missing.yaml") << "task: missing\n" << body << "description: \"About {{nope}}\"\n";
  const TaskSpec missing = only_task(dir.path / "missing.yaml");
  RecordingEngine missing_engine;
  CHECK_THAT(error_of([&] { evaluate_task(missing, "/nonexistent", missing_engine, options); }),
             Catch::Contains("task missing: description") && Catch::Contains("nope"));
}

// lm-eval's lambada_openai.yaml (output_type loglikelihood) and wikitext.yaml (loglikelihood_rolling, its
// detokenizer `!function` replaced by the plain field) on local rows: the requests lm-eval builds
// (api/task.py construct_requests: (context, target) with no delimiter; the target text alone) and the
// metrics of each kind, by default and from metric_list.
TEST_CASE("task files: loglikelihood and loglikelihood_rolling tasks", "[task_files]") {
  RegistryGuard guard;
  gemma::test::TempDir dir;
  write_jsonl(dir.path / "lambada.jsonl", {Doc{{"text", "the cat sat on the mat"}}, Doc{{"text", "a b c"}}});
  write_jsonl(dir.path / "pages.jsonl", {Doc{{"page", "One two three."}}, Doc{{"page", " Four\nfive"}}});
  std::ofstream(dir.path / "lambada.yaml") << "task: my_lambada\n"
                                              "dataset_path: json\n"
                                              "dataset_kwargs:\n  data_files:\n    test: lambada.jsonl\n"
                                              "test_split: test\n"
                                              "output_type: loglikelihood\n"
                                              "doc_to_text: \"{{text.split(' ')[:-1]|join(' ')}}\"\n"
                                              "doc_to_target: \"{{' '+text.split(' ')[-1]}}\"\n"
                                              "metric_list:\n"
                                              "  - metric: perplexity\n    aggregation: perplexity\n"
                                              "    higher_is_better: false\n"
                                              "  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n";
  std::ofstream(dir.path / "pages.yaml") << "task: my_wikitext\n"
                                            "dataset_path: json\n"
                                            "dataset_kwargs:\n  data_files:\n    test: pages.jsonl\n"
                                            "test_split: test\n"
                                            "output_type: loglikelihood_rolling\n"
                                            "doc_to_text: \"\"\n"
                                            "doc_to_target: \"{{page}}\"\n";
  std::ofstream(dir.path / "bad_aggregation.yaml")
      << "task: bad_aggregation\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: pages.jsonl\n"
         "test_split: test\noutput_type: loglikelihood_rolling\ndoc_to_text: \"\"\ndoc_to_target: page\n"
         "metric_list:\n  - metric: word_perplexity\n    aggregation: mean\n";

  const TaskSpec lambada = only_task(dir.path / "lambada.yaml");
  CHECK(lambada.output_type == OutputType::Loglikelihood);
  RecordingEngine engine;
  const TaskResult lambada_result = evaluate_task(lambada, dir.path, engine, EvalOptions{});
  REQUIRE(engine.loglikelihood_requests.size() == 2);
  CHECK(engine.loglikelihood_requests[0].context == "the cat sat on the");
  CHECK(engine.loglikelihood_requests[0].continuation == " mat");
  CHECK(engine.loglikelihood_requests[1].context == "a b");
  std::vector<std::string> names;
  for (const auto& metric : lambada_result.metrics) names.push_back(metric.metric);
  CHECK(std::find(names.begin(), names.end(), "perplexity") != names.end());
  CHECK(std::find(names.begin(), names.end(), "acc") != names.end());
  CHECK(lambada_result.config.at("output_type") == "loglikelihood");  // results.json's configs, as lm-eval's

  const TaskSpec pages = only_task(dir.path / "pages.yaml");
  CHECK(pages.output_type == OutputType::LoglikelihoodRolling);
  RecordingEngine rolling_engine;
  const TaskResult pages_result = evaluate_task(pages, dir.path, rolling_engine, EvalOptions{});
  REQUIRE(rolling_engine.rolling_requests.size() == 2);
  CHECK(rolling_engine.rolling_requests[0].text == "One two three.");
  CHECK(rolling_engine.rolling_requests[1].text == " Four\nfive");
  CHECK(rolling_engine.loglikelihood_requests.empty());
  CHECK(pages_result.config.at("output_type") == "loglikelihood_rolling");
  names.clear();
  for (const auto& metric : pages_result.metrics) names.push_back(metric.metric);
  for (const char* metric : {"word_perplexity", "byte_perplexity", "bits_per_byte"})
    CHECK(std::find(names.begin(), names.end(), metric) != names.end());

  CHECK_THAT(
      error_of([&] { load_task_file(dir.path / "bad_aggregation.yaml"); }),
      Catch::Contains("metric_list word_perplexity: aggregation mean is not this metric's (weighted_perplexity)"));
}

// ---------------------------------------------------------------- data options and gemma_eval extensions

TEST_CASE("task files: CSV options of HF datasets' csv builder (column_names, features, na_filter)", "[task_files]") {
  RegistryGuard guard;
  gemma::test::TempDir dir;
  // pandas' inference: "1.50" is the float 1.5, "04" the integer 4, "NA"/"None"/"" are missing, an integer
  // column with a missing cell is floats, True/False are booleans.
  std::ofstream(dir.path / "rows.csv") << "q,price,code,note,n,flag\n"
                                          "a,1.50,04,None,1,True\n"
                                          "b,2,07,,,false\n";
  const std::string head =
      "task: t\ndataset_path: csv\ntest_split: test\noutput_type: multiple_choice\n"
      "doc_to_text: \"{{q}}\"\ndoc_to_choice: [\"x\", \"y\"]\ndoc_to_target: 0\n";
  std::ofstream(dir.path / "inferred.yaml") << head << "dataset_kwargs:\n  data_files: {test: rows.csv}\n";
  const DocSplit inferred = only_task(dir.path / "inferred.yaml").load_eval("/nonexistent");
  REQUIRE(inferred.docs.size() == 2);
  CHECK(inferred.docs[0] == Doc::parse(R"({"q":"a","price":1.5,"code":4,"note":null,"n":1.0,"flag":true})"));
  CHECK(inferred.docs[1] == Doc::parse(R"({"q":"b","price":2.0,"code":7,"note":null,"n":null,"flag":false})"));

  // features: string reads the cells as written; na_filter: false keeps "None" and "" as text.
  std::ofstream(dir.path / "typed.yaml")
      << head
      << "dataset_kwargs:\n  data_files: {test: rows.csv}\n  features: {price: string, code: string, note: string}\n"
         "  na_filter: false\n";
  const DocSplit typed = only_task(dir.path / "typed.yaml").load_eval("/nonexistent");
  CHECK(typed.docs[0].at("price") == "1.50");
  CHECK(typed.docs[0].at("code") == "04");
  CHECK(typed.docs[0].at("note") == "None");
  CHECK(typed.docs[1].at("note") == "");

  // column_names: a headerless file (the Hendrycks MMLU CSVs).
  std::ofstream(dir.path / "headerless.csv") << "What?,a,b\nWhy?,c,d\n";
  std::ofstream(dir.path / "named.yaml") << head
                                         << "dataset_kwargs:\n  data_files: {test: headerless.csv}\n"
                                            "  column_names: [q, first, second]\n";
  const DocSplit named = only_task(dir.path / "named.yaml").load_eval("/nonexistent");
  REQUIRE(named.docs.size() == 2);
  CHECK(named.docs[0] == Doc::parse(R"({"q":"What?","first":"a","second":"b"})"));
  std::ofstream(dir.path / "short.csv") << "What?,a\n";
  std::ofstream(dir.path / "short.yaml") << head
                                         << "dataset_kwargs:\n  data_files: {test: short.csv}\n"
                                            "  column_names: [q, first, second]\n";
  CHECK_THAT(error_of([&] { only_task(dir.path / "short.yaml").load_eval("/nonexistent"); }),
             Catch::Contains("short.csv:1: 2 fields, but dataset_kwargs.column_names names 3 columns"));
  // An int64 feature that is not one names the cell; an unknown type is refused when the file loads.
  std::ofstream(dir.path / "bad_int.yaml") << head
                                           << "dataset_kwargs:\n  data_files: {test: rows.csv}\n"
                                              "  features: {price: int64}\n";
  CHECK_THAT(error_of([&] { only_task(dir.path / "bad_int.yaml").load_eval("/nonexistent"); }),
             Catch::Contains("rows.csv:2: column price: \"1.50\" is not an integer"));
  std::ofstream(dir.path / "bad_type.yaml") << head
                                            << "dataset_kwargs:\n  data_files: {test: rows.csv}\n"
                                               "  features: {price: decimal}\n";
  CHECK_THAT(error_of([&] { load_task_file(dir.path / "bad_type.yaml"); }),
             Catch::Contains("bad_type.yaml:10: dataset_kwargs.features.price: \"decimal\" is not a type here"));
  std::ofstream(dir.path / "json_option.yaml")
      << "task: t\ndataset_path: json\ntest_split: test\n"
         "dataset_kwargs:\n  column_names: [a]\n  data_files: {test: x.jsonl}\n";
  CHECK_THAT(error_of([&] { load_task_file(dir.path / "json_option.yaml"); }),
             Catch::Contains("dataset_kwargs.column_names is an option of dataset_path: csv"));
}

TEST_CASE("task files: gemma_eval.doc_fields reshapes rows, gemma_eval.label_files joins label files", "[task_files]") {
  RegistryGuard guard;
  gemma::test::TempDir dir, data;
  write_jsonl(data.path / "rows.jsonl", {Doc::parse(R"({"q": {"stem": "Sky?", "options": ["red", "blue"]}})"),
                                         Doc::parse(R"({"q": {"stem": "Grass?", "options": ["green", "pink"]}})")});
  std::ofstream(data.path / "labels.lst") << "1\n0\n";
  std::ofstream(dir.path / "t.yaml") << "task: t\n"
                                        "dataset_path: json\n"
                                        "dataset_name: colours\n"
                                        "dataset_kwargs:\n"
                                        "  data_files: {test: \"{data_dir}/rows.jsonl\"}\n"
                                        "gemma_eval:\n"
                                        "  label_files: {test: \"{data_dir}/labels.lst\"}\n"
                                        "  doc_fields:\n"
                                        "    question: \"{{ q.stem }}\"\n"
                                        "    choices: \"{{ q.options }}\"\n"
                                        "    answer: \"{{ label | int }}\"\n"
                                        "    source: \"{{ task_config.dataset_name }}-{{ label }}\"\n"
                                        "test_split: test\n"
                                        "output_type: multiple_choice\n"
                                        "doc_to_text: \"{{question}}\"\n"
                                        "doc_to_choice: \"{{choices}}\"\n"
                                        "doc_to_target: answer\n";
  const TaskSpec t = only_task(dir.path / "t.yaml");
  const DocSplit split = t.load_eval(data.path);
  REQUIRE(split.docs.size() == 2);
  // One expression keeps its type (a list, an int); any other template is text. Fields in doc_fields order.
  CHECK(split.docs[0].dump() == R"({"question":"Sky?","choices":["red","blue"],"answer":1,"source":"colours-1"})");
  CHECK(t.doc_to_gold(split.docs[1]) == 0);
  REQUIRE(split.files.size() == 2);  // the rows and the labels, each with its sha256
  CHECK(split.files[1].path == (data.path / "labels.lst").string());

  // A label file of another length, a missing one (found before the model loads), a bad row.
  std::ofstream(data.path / "labels.lst") << "1\n";
  CHECK_THAT(error_of([&] { t.load_eval(data.path); }),
             Catch::Contains("labels.lst has 1 labels but") && Catch::Contains("rows.jsonl has 2 rows"));
  fs::remove(data.path / "labels.lst");
  CHECK_THAT(error_of([&] { t.check_data(data.path, 0); }),
             Catch::Contains("label file " + (data.path / "labels.lst").string()) &&
                 Catch::Contains("pass --data-dir with the folder that holds labels.lst"));
  std::ofstream(data.path / "labels.lst") << "1\n0\n";
  write_jsonl(data.path / "rows.jsonl", {Doc::parse(R"({"q": {"stem": "Sky?", "options": ["red"]}})"),
                                         Doc::parse(R"({"q": {"options": ["green"]}})")});
  CHECK_THAT(error_of([&] { t.load_eval(data.path); }),
             Catch::Contains("rows.jsonl:2: task t: gemma_eval.doc_fields.question: ") &&
                 Catch::Contains("t.yaml:9:") && Catch::Contains("has no attribute 'stem'"));

  std::ofstream(dir.path / "unknown.yaml") << "task: u\ndataset_path: json\ntest_split: test\n"
                                              "dataset_kwargs: {data_files: {test: x.jsonl}}\n"
                                              "gemma_eval:\n  process: {}\n";
  CHECK_THAT(
      error_of([&] { load_task_file(dir.path / "unknown.yaml"); }),
      Catch::Contains("unknown.yaml:6: gemma_eval.process: unknown (gemma_eval has doc_fields and label_files)"));
}

TEST_CASE("task files: lm-eval's multi_choice_regex filter with its arguments", "[task_files]") {
  RegistryGuard guard;
  gemma::test::TempDir dir;
  write_jsonl(dir.path / "rows.jsonl", {Doc::parse(R"({"q": "Sky?", "choices": ["red", "blue"], "answer": 1})")});
  const std::string head =
      "task: t\ndataset_path: json\ndataset_kwargs: {data_files: {test: rows.jsonl}}\ntest_split: test\n"
      "output_type: generate_until\ndoc_to_text: \"{{q}}\"\ndoc_to_target: \"{{['(A)', '(B)'][answer]}}\"\n";
  std::ofstream(dir.path / "t.yaml") << head
                                     << "filter_list:\n"
                                        "  - name: flexible-extract\n"
                                        "    filter:\n"
                                        "      - function: multi_choice_regex\n"
                                        "        group_select: -1\n"
                                        "        ignore_case: true\n"
                                        "        ignore_punctuation: true\n"
                                        "        regex_pattern: \"(\\\\([A-Z]\\\\))\"\n"
                                        "      - function: take_first\n";
  const TaskSpec t = only_task(dir.path / "t.yaml");
  REQUIRE(t.filters.size() == 1);
  const FilterStep& step = t.filters[0].steps.at(0);
  CHECK(step.kind == FilterStep::Kind::MultiChoiceRegex);
  CHECK(step.pattern == R"((\([A-Z]\)))");
  CHECK(step.group_select == -1);
  CHECK(step.ignore_case);
  CHECK(step.ignore_punctuation);
  RecordingEngine engine;
  engine.generation = "It is BLUE.";
  EvalOptions options;
  options.shots = 0;
  const TaskResult result = evaluate_task(t, dir.path, engine, options);
  REQUIRE(result.docs.size() == 1);
  CHECK(result.docs[0].extracted.at("flexible-extract") == "(B)");
  CHECK(result.docs[0].metrics.at("exact_match,flexible-extract") == 1.0);

  std::ofstream(dir.path / "bad.yaml") << head
                                       << "filter_list:\n"
                                          "  - name: f\n"
                                          "    filter:\n"
                                          "      - function: multi_choice_regex\n"
                                          "        ignore_spaces: true\n";
  CHECK_THAT(
      error_of([&] { load_task_file(dir.path / "bad.yaml"); }),
      Catch::Contains("bad.yaml:12: filter_list f: the multi_choice_regex filter has no argument \"ignore_spaces\""));
}
