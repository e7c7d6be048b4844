// `gemma-eval run --shard K/N` and `gemma-eval merge`: the merged shards give the results.json
// (metrics, stderr, groups, provenance) and samples of one unsharded run; mismatched shards fail clearly.
#include "cli_runner.h"  // first: it includes model_fixtures.h (see the note there)

#include <cmath>
#include <fstream>

#include "../support/temp_dir.h"

using namespace gemma;
using namespace gemma::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// --batch-size 1 --no-prefix-sharing: otherwise a doc's loglikelihoods depend (in the last float bits) on which
// docs share its batch, which sharding changes; metrics agree either way, samples byte-for-byte only so.
const std::string kArgs =
    "--task arc_challenge,mmlu_anatomy,gsm8k --limit 5 --shots 2 --no-progress --no-cache --batch-size 1 "
    "--no-prefix-sharing";

json results_of(const fs::path& dir) {
  std::ifstream in(dir / "results.json");
  REQUIRE(in.good());
  return json::parse(in);
}

// Each line without its "run_id" (the merged output is a run of its own), otherwise byte for byte.
std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    auto row = nlohmann::ordered_json::parse(line);
    REQUIRE(row.contains("run_id"));
    row.erase("run_id");
    lines.push_back(row.dump());
  }
  return lines;
}

void require_close(const json& a, const json& b, const std::string& where) {
  INFO(where);
  if (a.is_number() && b.is_number()) {
    REQUIRE(std::abs(a.get<double>() - b.get<double>()) <= 1e-12);
  } else if (a.is_object() && b.is_object()) {
    REQUIRE(a.size() == b.size());
    for (const auto& [key, value] : a.items()) {
      REQUIRE(b.contains(key));
      require_close(value, b[key], where + "." + key);
    }
  } else {
    REQUIRE(a == b);
  }
}

}  // namespace

TEST_CASE("merging --shard 0/2 and 1/2 reproduces the unsharded run") {
  TempDir tmp;
  const fs::path whole = tmp.path / "whole", s0 = tmp.path / "s0", s1 = tmp.path / "s1", merged = tmp.path / "merged",
                 bad = tmp.path / "bad";
  auto r = run_cli("run " + kArgs + " --log-samples --output " + quote(whole));
  REQUIRE(r.status == 0);
  r = run_cli("run " + kArgs + " --shard 0/2 --output " + quote(s0));
  INFO(r.output);
  REQUIRE(r.status == 0);
  r = run_cli("run " + kArgs + " --shard 1/2 --output " + quote(s1));
  REQUIRE(r.status == 0);
  r = run_cli("merge " + quote(s0) + " " + quote(s1) + " --output " + quote(merged) + " --log-samples");
  INFO(r.output);
  REQUIRE(r.status == 0);

  const json a = results_of(whole), b = results_of(merged), shard0 = results_of(s0);
  REQUIRE(shard0["config"]["shard"] == json({{"index", 0}, {"count", 2}}));
  REQUIRE(shard0["provenance"]["arc_challenge"]["doc_ids"] == json({0, 2, 4}));
  REQUIRE(shard0["provenance"]["arc_challenge"]["shard"]["count"] == 2);
  require_close(a["results"], b["results"], "results");
  require_close(a["groups"], b["groups"], "groups");
  REQUIRE(a["n-samples"] == b["n-samples"]);
  REQUIRE(a["n-shot"] == b["n-shot"]);
  REQUIRE(a["configs"] == b["configs"]);
  for (const std::string task : {"arc_challenge", "mmlu_anatomy", "gsm8k"}) {
    INFO(task);
    for (const char* key : {"first_prompt_sha256", "all_prompts_sha256", "doc_ids", "data_files", "truncated_requests",
                            "max_token_hits", "invalid"})
      REQUIRE(a["provenance"][task][key] == b["provenance"][task][key]);
    REQUIRE(lines_of(whole / ("samples_" + task + ".jsonl")) == lines_of(merged / ("samples_" + task + ".jsonl")));
  }

  // Mismatched shards, checked in one pass: a Catch SECTION would rerun the three runs above for each.
  {
    INFO("the same shard twice");
    r = run_cli("merge " + quote(s0) + " " + quote(s0) + " --output " + quote(bad));
    REQUIRE(r.status == 1);
    REQUIRE(r.output.find("are both shard 0/2") != std::string::npos);
  }
  {
    INFO("a missing shard");
    r = run_cli("merge " + quote(s1) + " --output " + quote(bad));
    REQUIRE(r.status == 1);
    REQUIRE(r.output.find("missing 0/2") != std::string::npos);
  }
  {
    INFO("shards of different tasks");
    const fs::path other = tmp.path / "other";
    r = run_cli("run --task arc_challenge --limit 5 --shots 2 --no-progress --no-cache --shard 1/2 --output " +
                quote(other));
    REQUIRE(r.status == 0);
    r = run_cli("merge " + quote(s0) + " " + quote(other) + " --output " + quote(bad));
    REQUIRE(r.status == 1);
    REQUIRE(r.output.find("do not belong to one run") != std::string::npos);
  }
  REQUIRE_FALSE(fs::exists(bad / "results.json"));
}
