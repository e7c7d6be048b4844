// `gemma-eval rescore RUN_DIR`: every metric recomputed from the run's samples alone. An untouched run
// rescores to the same results.json; edited generations score as the current scorers say; a run without
// samples, or with a damaged samples line, is a clear error that leaves the run as it was.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <fstream>

#include "../support/temp_dir.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<json> read_lines(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

void write_lines(const fs::path& path, const std::vector<json>& lines) {
  std::ofstream out(path);
  for (const auto& line : lines) out << line.dump() << "\n";
}

const std::string kRun =
    "run --task gsm8k,arc_challenge,mmlu_anatomy --limit 4 --shots 1 --log-samples --no-progress --no-cache";

}  // namespace

TEST_CASE("rescore reproduces a run's results from its samples", "[rescore][cli]") {
  TempDir dir("gemma-eval-rescore");
  const fs::path run = dir.path / "run";
  auto ran = run_cli_once(kRun, run);
  INFO(ran.output);
  REQUIRE(ran.status == 0);
  const json before = read_json(run / "results.json");

  auto rescored = run_cli("rescore " + quote(run) + " --output " + quote(dir.path / "again"));
  INFO(rescored.output);
  REQUIRE(rescored.status == 0);
  CHECK_THAT(rescored.output, Catch::Contains("0 task metric(s) changed"));
  const json after = read_json(dir.path / "again" / "results.json");
  CHECK(after["results"] == before["results"]);
  CHECK(after["groups"] == before["groups"]);
  CHECK(after["provenance"] == before["provenance"]);
  CHECK(after["config"]["rescored"]["from"] == run.string());

  SECTION("an edited generation is scored by the current extraction and metric") {
    auto lines = read_lines(run / "samples_gsm8k.jsonl");
    REQUIRE(lines.size() == 8);  // lm-eval's layout: strict-match's 4 lines, then flexible-extract's
    CHECK(lines[4]["doc_id"] == 0);
    const std::string target = lines[0]["target"].get<std::string>();
    const std::string answer = target.substr(target.rfind("#### ") + 5);
    // strict-match finds "#### <answer>"; every filter's line of the doc carries the same record.
    for (size_t i : {0, 4}) lines[i]["generated"] = " The total is 7.\n#### " + answer;
    for (auto& line : lines) line["scores"] = json::object();  // rescore must not rely on stored values
    write_lines(run / "samples_gsm8k.jsonl", lines);
    auto in_place = run_cli("rescore " + quote(run));
    INFO(in_place.output);
    REQUIRE(in_place.status == 0);
    const json rescored_json = read_json(run / "results.json");
    const double strict_before = before["results"]["gsm8k"]["exact_match,strict-match"].get<double>();
    CHECK(rescored_json["results"]["gsm8k"]["exact_match,strict-match"].get<double>() == Approx(strict_before + 0.25));
    CHECK(rescored_json["results"]["arc_challenge"] == before["results"]["arc_challenge"]);
    auto rewritten = read_lines(run / "samples_gsm8k.jsonl");
    REQUIRE(rewritten.size() == 8);
    CHECK(rewritten[0]["extracted"]["strict-match"] == answer);
    CHECK(rewritten[0]["scores"]["exact_match,strict-match"] == 1.0);
    CHECK(rewritten[0]["exact_match"] == 1.0);
  }
  SECTION("an edit on one filter's line only is refused: the doc's lines would disagree") {
    auto lines = read_lines(run / "samples_gsm8k.jsonl");
    lines[4]["generated"] = " #### 1";
    write_lines(run / "samples_gsm8k.jsonl", lines);
    auto refused = run_cli("rescore " + quote(run));
    CHECK(refused.status != 0);
    CHECK_THAT(refused.output, Catch::Contains("samples_gsm8k.jsonl:5") && Catch::Contains("\"generated\""));
    CHECK(read_json(run / "results.json") == before);
  }
  SECTION("samples written before lm-eval's layout (one line per doc) rescore to the same results") {
    auto lines = read_lines(run / "samples_gsm8k.jsonl");
    lines.resize(4);  // the first filter's lines: what one line per doc held
    write_lines(run / "samples_gsm8k.jsonl", lines);
    auto again = run_cli("rescore " + quote(run) + " --output " + quote(dir.path / "from-old"));
    INFO(again.output);
    REQUIRE(again.status == 0);
    CHECK(read_json(dir.path / "from-old" / "results.json")["results"] == before["results"]);
    CHECK(read_lines(dir.path / "from-old" / "samples_gsm8k.jsonl").size() == 8);
  }
  SECTION("loglikelihoods are rescored too: a doc whose gold becomes the likeliest choice turns correct") {
    auto lines = read_lines(run / "samples_mmlu_anatomy.jsonl");
    auto& doc = lines[0];
    const size_t gold = doc["gold"].get<size_t>();
    for (size_t i = 0; i < doc["loglikelihoods"].size(); ++i) doc["loglikelihoods"][i] = i == gold ? -0.5 : -50.0;
    const double acc_before = before["results"]["mmlu_anatomy"]["acc,none"].get<double>();
    const bool was_right = read_lines(run / "samples_mmlu_anatomy.jsonl")[0]["scores"]["acc,none"] == 1.0;
    write_lines(run / "samples_mmlu_anatomy.jsonl", lines);
    auto in_place = run_cli("rescore " + quote(run));
    REQUIRE(in_place.status == 0);
    CHECK(read_json(run / "results.json")["results"]["mmlu_anatomy"]["acc,none"].get<double>() ==
          Approx(acc_before + (was_right ? 0.0 : 0.25)));
  }
  SECTION("a damaged samples line names the file and line and leaves the run untouched") {
    std::ofstream(run / "samples_arc_challenge.jsonl", std::ios::app) << "{\"doc_id\": 9}\n";
    auto refused = run_cli("rescore " + quote(run));
    CHECK(refused.status != 0);
    CHECK_THAT(refused.output, Catch::Contains("samples_arc_challenge.jsonl:5"));
    CHECK(read_json(run / "results.json") == before);
  }
  SECTION("a run without samples is refused with the flag that writes them") {
    fs::remove(run / "samples_mmlu_anatomy.jsonl");
    auto refused = run_cli("rescore " + quote(run));
    CHECK(refused.status != 0);
    CHECK_THAT(refused.output, Catch::Contains("samples_mmlu_anatomy.jsonl") && Catch::Contains("--log-samples"));
  }
}
