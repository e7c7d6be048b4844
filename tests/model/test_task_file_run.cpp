// A run made from an lm-eval task file (run --task FILE.yaml) can be merged and rescored: merge and rescore
// look tasks up by name, so they take the task files the run read with --include-path (a folder or a file).
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <fstream>

#include "../support/temp_dir.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json results_in(const fs::path& dir) {
  std::ifstream in(dir / "results.json");
  REQUIRE(in.good());
  return json::parse(in);
}

}  // namespace

TEST_CASE("a task-file run merges and rescores with --include-path", "[task_files][rescore][cli]") {
  TempDir tmp("gemma-eval-task-file-run");
  const fs::path tasks = tmp.path / "tasks";
  fs::create_directories(tasks);
  {
    std::ofstream data(tasks / "colors.jsonl");
    data << R"({"q": "The sky is", "opts": ["blue", "green"], "label": 0})"
         << "\n"
         << R"({"q": "Grass is", "opts": ["red", "green"], "label": 1})"
         << "\n"
         << R"({"q": "Snow is", "opts": ["white", "black"], "label": 0})"
         << "\n"
         << R"({"q": "Coal is", "opts": ["white", "black"], "label": 1})"
         << "\n";
    std::ofstream(tasks / "colors.yaml") << "task: my_colors\n"
                                            "task_alias: My colors\n"
                                            "dataset_path: json\n"
                                            "dataset_kwargs:\n  data_files:\n    test: colors.jsonl\n"
                                            "test_split: test\n"
                                            "output_type: multiple_choice\n"
                                            "doc_to_text: \"{{q}}\"\n"
                                            "doc_to_target: label\n"
                                            "doc_to_choice: opts\n"
                                            "metric_list:\n  - metric: acc\n";
  }
  const std::string run = "run --task " + quote(tasks / "colors.yaml") +
                          " --limit 4 --log-samples --no-progress --no-cache --batch-size 1 --no-prefix-sharing";
  const fs::path s0 = tmp.path / "s0", s1 = tmp.path / "s1";
  auto r = run_cli(run + " --shard 0/2 --output " + quote(s0));
  INFO(r.output);
  REQUIRE(r.status == 0);
  r = run_cli(run + " --shard 1/2 --output " + quote(s1));
  INFO(r.output);
  REQUIRE(r.status == 0);

  // Without the task file the task is unknown, and the message says what to pass.
  r = run_cli("merge " + quote(s0) + " " + quote(s1) + " --output " + quote(tmp.path / "bad"));
  CHECK(r.status != 0);
  CHECK_THAT(r.output, Catch::Contains("my_colors is not a known task") && Catch::Contains("--include-path"));
  r = run_cli("rescore " + quote(s0) + " --output " + quote(tmp.path / "bad2"));
  CHECK(r.status != 0);
  CHECK_THAT(r.output, Catch::Contains("my_colors is not a known task") && Catch::Contains("--include-path"));

  // The file, as run --task named it.
  r = run_cli("merge " + quote(s0) + " " + quote(s1) + " --output " + quote(tmp.path / "merged") + " --include-path " +
              quote(tasks / "colors.yaml"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json merged = results_in(tmp.path / "merged");
  CHECK(merged["n-samples"]["my_colors"]["effective"] == 4);
  CHECK(merged["provenance"]["my_colors"]["doc_ids"] == json({0, 1, 2, 3}));
  CHECK(merged["results"]["my_colors"]["alias"] == "My colors");  // task_alias, kept through the merge
  {
    std::ifstream md(tmp.path / "merged" / "results.md");
    const std::string table((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
    CHECK_THAT(table, Catch::Contains("|My colors"));
  }
  const double acc0 = results_in(s0)["results"]["my_colors"]["acc,none"].get<double>();
  const double acc1 = results_in(s1)["results"]["my_colors"]["acc,none"].get<double>();
  CHECK(merged["results"]["my_colors"]["acc,none"].get<double>() == Approx((acc0 + acc1) / 2));

  // The folder, as run --include-path would read it.
  r = run_cli("rescore " + quote(s0) + " --output " + quote(tmp.path / "again") + " --include-path " + quote(tasks));
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("0 task metric(s) changed"));
  const json again = results_in(tmp.path / "again");
  CHECK(again["results"] == results_in(s0)["results"]);

  r = run_cli("rescore " + quote(s0) + " --output " + quote(tmp.path / "bad3") + " --include-path " +
              quote(tmp.path / "missing"));
  CHECK(r.status != 0);
  CHECK_THAT(r.output, Catch::Contains("no such folder or task file"));
}
