// `gemma-eval score` with the vision benchmarks' metrics (anls, vqa, relaxed, cider, bleu), as a
// user calls it: variants recorded in the output, corpus metrics over the whole files, and bad input
// refused with the file, line and id named.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <fstream>
#include <sstream>

#include "../support/temp_dir.h"

using namespace gemma::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

json last_json_line(const CliRun& cli) {
  std::stringstream in(cli.output);
  json found;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.front() == '{') found = json::parse(line);
  if (found.is_null()) FAIL("no JSON line in: " << cli.output);
  return found;
}

CliRun score(const std::string& metric, const fs::path& predictions, const fs::path& references) {
  return run_cli("score --metric " + quote(metric) + " --predictions " + quote(predictions) + " --references " +
                 quote(references));
}

}  // namespace

TEST_CASE("gemma-eval score: per-question vision metrics record their variant", "[score][vision-scorers]") {
  TempDir dir("gemma-eval-score-vision");
  const fs::path predictions = dir.path / "p.jsonl", references = dir.path / "r.jsonl";
  write_file(predictions,
             "{\"id\": 1, \"prediction\": \"two\"}\n"
             "{\"id\": \"q2\", \"prediction\": \"Yes\"}\n");
  write_file(references,
             "{\"id\": \"q2\", \"references\": "
             "[\"yes\",\"yes\",\"yes\",\"yes\",\"yes\",\"yes\",\"yes\",\"yes\",\"yes\",\"yes\"]}\n"
             "{\"id\": 1, \"references\": [\"2\",\"2\",\"2\",\"2\",\"2\",\"2\",\"2\",\"2\",\"2\",\"2\"]}\n");

  // lmms-eval normalises the predictions; the official evaluator does not when the answers agree.
  auto lmms = score("vqa", predictions, references);
  INFO(lmms.output);
  REQUIRE(lmms.status == 0);
  auto out = last_json_line(lmms);
  CHECK(out["metric"] == "vqa");
  CHECK(out["variant"] == "lmms_vqav2");
  CHECK(out["score"].get<double>() == Approx(1.0));
  CHECK(out["n"] == 2);
  auto official = score("vqa:official", predictions, references);
  INFO(official.output);
  REQUIRE(official.status == 0);
  out = last_json_line(official);
  CHECK(out["variant"] == "official");
  CHECK(out["score"].get<double>() == Approx(0.0));

  write_file(predictions, "{\"id\": 1, \"prediction\": \"ITC Ltd\"}\n{\"id\": \"q2\", \"prediction\": \"12%\"}\n");
  write_file(references,
             "{\"id\": 1, \"references\": [\"  ITC Limited  \"]}\n{\"id\": \"q2\", \"references\": [\"0.12\"]}\n");
  auto anls = score("anls", predictions, references);
  INFO(anls.output);
  REQUIRE(anls.status == 0);
  out = last_json_line(anls);
  CHECK(out["variant"] == "lmms");
  CHECK(out["score"].get<double>() == Approx((0.7333333333333334 + 0.0) / 2));
  out = last_json_line(score("anls:official", predictions, references));
  CHECK(out["score"].get<double>() == Approx(0.6363636363636364 / 2));
  auto relaxed = score("relaxed", predictions, references);
  INFO(relaxed.output);
  REQUIRE(relaxed.status == 0);
  out = last_json_line(relaxed);
  CHECK(out["metric"] == "relaxed");
  CHECK(out["score"].get<double>() == Approx(0.5));  // "12%" is 0.12; "ITC Ltd" is not "  ITC Limited  "
}

TEST_CASE("gemma-eval score: CIDEr-D and BLEU are corpus-level over PTB-tokenised captions",
          "[score][vision-scorers]") {
  TempDir dir("gemma-eval-score-coco");
  const fs::path predictions = dir.path / "p.jsonl", references = dir.path / "r.jsonl";
  // CIDEr vector A (from running pycocoevalcap cider/cider_scorer.py), with the capitals and punctuation the PTB
  // tokenizer removes.
  write_file(predictions,
             "{\"id\": 1, \"prediction\": \"A man riding a horse on the beach.\"}\n"
             "{\"id\": 2, \"prediction\": \"Two dogs, playing in the snow!\"}\n");
  write_file(
      references,
      "{\"id\": 2, \"references\": [\"two dogs playing in the snow\", \"A couple of dogs run through snow.\", "
      "\"dogs playing outside in winter snow\"]}\n"
      "{\"id\": 1, \"references\": [\"a man riding a horse on a beach\", \"a person rides a horse along the shore\", "
      "\"Man on horseback at the beach.\"]}\n");
  auto cider = score("cider", predictions, references);
  INFO(cider.output);
  REQUIRE(cider.status == 0);
  auto out = last_json_line(cider);
  CHECK(out["metric"] == "cider");
  CHECK(out["variant"] == "ptb");
  CHECK(out["score"].get<double>() == Approx(3.8923709188715745).epsilon(1e-10));
  CHECK(out["n"] == 2);
  // Without tokenisation "beach." and "beach" are different words.
  out = last_json_line(score("cider:tokenized", predictions, references));
  CHECK(out["variant"] == "tokenized");
  CHECK(out["score"].get<double>() < 3.8);

  auto bleu = score("bleu", predictions, references);
  INFO(bleu.output);
  REQUIRE(bleu.status == 0);
  out = last_json_line(bleu);
  CHECK(out["metric"] == "bleu");
  CHECK(out["score"].get<double>() == Approx(0.8611735298200948).epsilon(1e-10));
  CHECK(out["components"]["Bleu_1"].get<double>() == Approx(0.9999999998571432).epsilon(1e-10));
  CHECK(out["components"]["testlen"].get<double>() == 14);
  CHECK(out["components"]["reflen"].get<double>() == 14);
}

TEST_CASE("gemma-eval score: bad input to the vision metrics is refused by file, line and id",
          "[score][vision-scorers]") {
  TempDir dir("gemma-eval-score-bad");
  const fs::path predictions = dir.path / "p.jsonl", references = dir.path / "r.jsonl";
  write_file(references, "{\"id\": 1, \"references\": [\"x\"]}\n{\"id\": 2, \"references\": [\"y\"]}\n");

  SECTION("a prediction that is not a string") {
    write_file(predictions, "{\"id\": 1, \"prediction\": \"x\"}\n{\"id\": 2, \"prediction\": 5}\n");
    auto cli = score("anls", predictions, references);
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Catch::Contains(predictions.string() + ":2:"));
    CHECK_THAT(cli.output, Catch::Contains("\"2\""));
    CHECK_THAT(cli.output, Catch::Contains("must be a string"));
  }
  SECTION("an empty reference list") {
    write_file(predictions, "{\"id\": 1, \"prediction\": \"x\"}\n{\"id\": 2, \"prediction\": \"y\"}\n");
    write_file(references, "{\"id\": 1, \"references\": [\"x\"]}\n{\"id\": 2, \"references\": []}\n");
    auto cli = score("cider", predictions, references);
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Catch::Contains(references.string() + ":2:"));
    CHECK_THAT(cli.output, Catch::Contains("non-empty"));
  }
  SECTION("a reference that is not a string") {
    write_file(predictions, "{\"id\": 1, \"prediction\": \"x\"}\n{\"id\": 2, \"prediction\": \"y\"}\n");
    write_file(references, "{\"id\": 1, \"references\": [\"x\"]}\n{\"id\": 2, \"references\": [\"y\", null]}\n");
    auto cli = score("vqa", predictions, references);
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Catch::Contains(references.string() + ":2:"));
  }
  SECTION("unknown variants and metrics") {
    write_file(predictions, "{\"id\": 1, \"prediction\": \"x\"}\n{\"id\": 2, \"prediction\": \"y\"}\n");
    auto cli = score("anls:qwen", predictions, references);
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Catch::Contains("unknown variant \"qwen\""));
    CHECK_THAT(cli.output, Catch::Contains("official"));
    cli = score("meteor", predictions, references);
    INFO(cli.output);
    CHECK(cli.status != 0);
    CHECK_THAT(cli.output, Catch::Contains("--metric meteor"));
    CHECK_THAT(cli.output, Catch::Contains("cider"));
    CHECK_THAT(cli.output, Catch::Contains("exact_match"));
  }
}
