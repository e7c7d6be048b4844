// The remaining text benchmarks end to end through `gemma-eval run` on the real data in ../shared/data
// (tiny random model: the numbers are chance, the plumbing is what is checked): every family loads,
// renders, generates or scores and reports its metrics with invalid_rate beside extraction-based ones;
// code tasks are refused without --allow-code-execution and run sandboxed with it.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include "../support/temp_dir.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string data_dir() { return quote(fs::path(GEMMA_TEST_SHARED_DIR) / "data"); }

}  // namespace

TEST_CASE("text benchmark families run end to end on the shared data", "[run][text-benchmarks]") {
  TempDir dir("gemma-eval-text-benchmarks");
  const std::string tasks =
      "bbh_cot_fewshot_boolean_expressions,minerva_math_algebra,mgsm_native_cot_de,agieval_aqua_rat,agieval_jec_qa_kd,"
      "xquad_de,"
      "wmt24pp_en-ja_JP,flores_en-fr";
  auto cli = run_cli("run --data-dir " + data_dir() + " --task " + tasks +
                     " --limit 2 --no-progress --no-cache --log-samples --output " + quote(dir.path / "out"));
  INFO(cli.output);
  REQUIRE(cli.status == 0);
  const json results = read_json(dir.path / "out" / "results.json")["results"];
  CHECK(results["bbh_cot_fewshot_boolean_expressions"].contains("exact_match,get-answer"));
  CHECK(results["bbh_cot_fewshot_boolean_expressions"].contains("invalid_rate,get-answer"));
  CHECK(results["minerva_math_algebra"].contains("exact_match,none"));
  CHECK(results["mgsm_native_cot_de"].contains("exact_match,strict-match"));
  CHECK(results["mgsm_native_cot_de"].contains("invalid_rate,flexible-extract"));
  CHECK(results["agieval_aqua_rat"].contains("acc,none"));
  CHECK(results["agieval_jec_qa_kd"].contains("acc,none"));
  CHECK(results["xquad_de"].contains("f1,none"));
  CHECK(results["wmt24pp_en-ja_JP"].contains("chrf,strip"));
  CHECK(results["flores_en-fr"].contains("chrf,strip"));
  CHECK_FALSE(results["flores_en-fr"].contains("invalid_rate,strip"));  // nothing to extract: no rate
  const json higher = read_json(dir.path / "out" / "results.json")["higher_is_better"]["minerva_math_algebra"];
  CHECK(higher["invalid_rate"] == false);

  auto rescored = run_cli("rescore " + quote(dir.path / "out") + " --output " + quote(dir.path / "again"));
  INFO(rescored.output);
  REQUIRE(rescored.status == 0);
  CHECK(read_json(dir.path / "again" / "results.json")["results"] ==
        read_json(dir.path / "out" / "results.json")["results"]);
}

TEST_CASE("code tasks need --allow-code-execution and then run sandboxed", "[run][code][sandbox]") {
  TempDir dir("gemma-eval-code-run");
  const std::string args =
      "run --data-dir " + data_dir() + " --task humaneval,mbpp --limit 2 --no-progress --no-cache --log-samples";
  auto refused = run_cli(args + " --output " + quote(dir.path / "refused"));
  CHECK(refused.status != 0);
  CHECK_THAT(refused.output, Catch::Contains("humaneval") && Catch::Contains("--allow-code-execution"));
  CHECK_FALSE(fs::exists(dir.path / "refused"));

  auto ran = run_cli(args + " --allow-code-execution --output " + quote(dir.path / "out"));
  INFO(ran.output);
  REQUIRE(ran.status == 0);
  const json results = read_json(dir.path / "out" / "results.json")["results"];
  // A random model's few tokens are not a solution: the programs ran and failed.
  CHECK(results["humaneval"]["pass@1,create_test"] == 0.0);
  CHECK(results["mbpp"]["pass_at_1,none"] == 0.0);

  auto no_flag = run_cli("rescore " + quote(dir.path / "out"));
  CHECK(no_flag.status != 0);
  CHECK_THAT(no_flag.output, Catch::Contains("--allow-code-execution"));
}
