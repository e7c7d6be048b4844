// `gemma-eval compare` and `gemma-eval history` end to end on real tiny-model runs: the same run twice
// is all ok, runs with different shots are incomparable (exit 0, the row says why), a hand-edited NEW
// whose accuracy drops on many docs is regressed (exit 1), and history add/show through the binary.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <fstream>
#include <sstream>

#include "../support/temp_dir.h"
#include "common/files.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

void evaluate(const std::string& args, const fs::path& out) {
  auto run = run_cli("run " + args + " --log-samples --no-progress --output " + quote(out));
  INFO(run.output);
  REQUIRE(run.status == 0);
}

CliRun compare(const fs::path& base, const fs::path& candidate, const std::string& flags = "") {
  return run_cli("compare " + quote(base) + " " + quote(candidate) + " " + flags);
}

std::vector<ordered_json> read_lines(const fs::path& path) {
  std::vector<ordered_json> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(ordered_json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("compare: the same run twice is ok, different shots are incomparable", "[cli][compare]") {
  TempDir dir("gemma-compare-cli");
  evaluate("--task piqa,social_iqa --limit 10", dir.path / "a");
  evaluate("--task piqa,social_iqa --limit 10", dir.path / "b");
  auto same = compare(dir.path / "a", dir.path / "b" / "results.json");
  INFO(same.output);
  CHECK(same.status == 0);
  CHECK(same.output.find("3 rows: 3 ok, 0 improved, 0 regressed, 0 incomparable") != std::string::npos);
  CHECK(same.output.find("| McNemar |") != std::string::npos);  // paired through the samples files

  evaluate("--task social_iqa --limit 10 --shots 1", dir.path / "one_shot");
  evaluate("--task social_iqa --limit 10 --shots 2", dir.path / "two_shot");
  auto shots = compare(dir.path / "one_shot", dir.path / "two_shot");
  INFO(shots.output);
  CHECK(shots.status == 0);
  CHECK(shots.output.find("incomparable: n-shot 1→2, first-prompt hash, all-prompts hash") != std::string::npos);
  CHECK(shots.output.find("0 ok, 0 improved, 0 regressed, 1 incomparable") != std::string::npos);
  CHECK(compare(dir.path / "one_shot", dir.path / "two_shot", "--fail-on-incomparable").status == 1);
}

TEST_CASE("compare: accuracy dropped on many docs is regressed and exits 1", "[cli][compare]") {
  TempDir dir("gemma-compare-cli");
  evaluate("--task piqa --limit 30", dir.path / "base");
  fs::copy(dir.path / "base", dir.path / "new", fs::copy_options::recursive);

  // Hand-edit NEW: every doc the base got right is now wrong, in the samples and in results.json.
  const fs::path samples = dir.path / "new" / "samples_piqa.jsonl";
  std::string edited;
  size_t flipped = 0;
  for (auto line : read_lines(samples)) {
    if (line["scores"]["acc,none"] == 1.0) ++flipped;
    line["scores"]["acc,none"] = 0.0;
    edited += line.dump() + "\n";
  }
  REQUIRE(flipped >= 10);  // McNemar with 10 one-way discordant docs: p = 2/1024
  write_file_atomic(samples, edited);
  auto results = ordered_json::parse(read_file(dir.path / "new" / "results.json"));
  results["results"]["piqa"]["acc,none"] = 0.0;
  results["results"]["piqa"]["acc_stderr,none"] = 0.0;
  write_file_atomic(dir.path / "new" / "results.json", results.dump(2));

  auto run = compare(dir.path / "base", dir.path / "new");
  INFO(run.output);
  CHECK(run.status == 1);
  CHECK(run.output.find("| McNemar | regressed |") != std::string::npos);
  CHECK(run.output.find("row(s) regressed") != std::string::npos);
  // acc_norm was not touched: still ok.
  CHECK(run.output.find("2 rows: 1 ok, 0 improved, 1 regressed, 0 incomparable") != std::string::npos);
  // A drop smaller than --min-delta is not a failure.
  CHECK(compare(dir.path / "base", dir.path / "new", "--min-delta 1.0").status == 0);

  // Without the samples the same drop is still caught, by the unpaired z-test, and the output says so.
  fs::remove(samples);
  auto unpaired = compare(dir.path / "base", dir.path / "new");
  INFO(unpaired.output);
  CHECK(unpaired.status == 1);
  CHECK(unpaired.output.find("no samples_piqa.jsonl beside NEW") != std::string::npos);
  CHECK(unpaired.output.find("| z, unpaired | regressed |") != std::string::npos);

  auto missing = compare(dir.path / "base", dir.path / "nowhere");
  INFO(missing.output);
  CHECK(missing.status == 1);
  CHECK(missing.output.find("nowhere: no such file (expected a run's results.json or its folder)") !=
        std::string::npos);
}

TEST_CASE("history: add and show through the binary, a damaged file is named", "[cli][history]") {
  TempDir dir("gemma-history-cli");
  evaluate("--task boolq --limit 10", dir.path / "run1");
  evaluate("--task boolq,piqa --limit 10", dir.path / "run2");
  const std::string db = "--db " + quote(dir.path / "h.sqlite");
  auto first = run_cli("history add " + quote(dir.path / "run1") + " " + db);
  INFO(first.output);
  CHECK(first.status == 0);
  CHECK(first.output.find("as run #1 (1 metric rows)") != std::string::npos);
  CHECK(run_cli("history add " + quote(dir.path / "run2") + " " + db).status == 0);
  auto again = run_cli("history add " + quote(dir.path / "run1" / "results.json") + " " + db);
  CHECK(again.output.find("already run #1") != std::string::npos);

  auto show = run_cli("history show " + db);
  INFO(show.output);
  CHECK(show.status == 0);
  CHECK(show.output.find("2 of 2 run(s), oldest left") != std::string::npos);
  CHECK(show.output.find("| boolq | acc      | none   |") != std::string::npos);
  CHECK(show.output.find("tiny-gemma3") != std::string::npos);
  auto piqa = run_cli("history show --task piqa " + db);
  INFO(piqa.output);
  CHECK(piqa.output.find("1 of 1 run(s) with piqa") != std::string::npos);
  CHECK(piqa.output.find("boolq") == std::string::npos);

  write_file_atomic(dir.path / "bad.sqlite", std::string(4096, 'x'));
  auto bad = run_cli("history show --db " + quote(dir.path / "bad.sqlite"));
  CHECK(bad.status == 1);
  CHECK(bad.output.find((dir.path / "bad.sqlite").string() + ": not a gemma-eval history database") !=
        std::string::npos);
}
