// The built-in perplexity task end to end: `gemma-eval run --task text_perplexity` on the bundled
// sample texts (datasets/samples/text_perplexity) with a --max-length that makes the longer texts take
// several rolling windows, then `rescore` from the samples alone.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <cmath>
#include <fstream>

#include "../support/temp_dir.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

TEST_CASE("text_perplexity runs on the sample texts and reports lm-eval's perplexity metrics", "[run][perplexity]") {
  TempDir dir("gemma-eval-perplexity");
  const fs::path run = dir.path / "run";
  auto ran = run_cli_once("run --task text_perplexity --max-length 32 --log-samples --no-progress --no-cache", run);
  INFO(ran.output);
  REQUIRE(ran.status == 0);
  const json results = read_json(run / "results.json");
  const json& task = results["results"]["text_perplexity"];
  for (const char* metric : {"word_perplexity", "byte_perplexity", "bits_per_byte"}) {
    INFO(metric);
    REQUIRE(task.contains(std::string(metric) + ",none"));
    CHECK(task[std::string(metric) + "_stderr,none"] == "N/A");  // lm-eval has no stderr for these
    CHECK(results["higher_is_better"]["text_perplexity"][metric] == false);
  }
  CHECK(results["n-shot"]["text_perplexity"] == 0);

  // The per-doc log-likelihoods in the samples give the reported numbers (lm-eval's aggregations).
  std::ifstream samples(run / "samples_text_perplexity.jsonl");
  double loglikelihood = 0, bytes = 0;
  size_t docs = 0;
  for (std::string line; std::getline(samples, line); ++docs) {
    const json sample = json::parse(line);
    REQUIRE(sample["loglikelihoods"].size() == 1);
    loglikelihood += sample["loglikelihoods"][0].get<double>();
    bytes += static_cast<double>(sample["prompt"].get<std::string>().size());
    CHECK(sample["scores"]["bits_per_byte,none"] == sample["loglikelihoods"][0]);
  }
  CHECK(docs == 3);
  CHECK(loglikelihood < 0);
  CHECK(task["bits_per_byte,none"].get<double>() == Approx(-loglikelihood / bytes / std::log(2.0)).epsilon(1e-12));
  CHECK(task["byte_perplexity,none"].get<double>() == Approx(std::exp(-loglikelihood / bytes)).epsilon(1e-12));

  // The markdown table shows them, lower is better.
  std::ifstream markdown_file(run / "results.md");
  const std::string markdown((std::istreambuf_iterator<char>(markdown_file)), {});
  CHECK_THAT(markdown, Catch::Contains("|word_perplexity|↓"));

  auto rescored = run_cli("rescore " + quote(run) + " --output " + quote(dir.path / "again"));
  INFO(rescored.output);
  REQUIRE(rescored.status == 0);
  CHECK(read_json(dir.path / "again" / "results.json")["results"] == results["results"]);
}
