#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "model/model_path.h"

using namespace gemma;
using gemma::test::TempDir;
namespace fs = std::filesystem;
using Catch::Contains;

namespace {

// Sets (or unsets, with nullopt) the Hugging Face cache variables for one test and restores them after.
class CacheEnvironment {
 public:
  CacheEnvironment() {
    for (const char* name : kNames) {
      const char* value = std::getenv(name);
      saved_.push_back(value ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name);
    }
  }
  ~CacheEnvironment() {
    for (size_t i = 0; i < kNames.size(); ++i) {
      if (saved_[i])
        ::setenv(kNames[i], saved_[i]->c_str(), 1);
      else
        ::unsetenv(kNames[i]);
    }
  }
  void set(const char* name, const fs::path& value) { ::setenv(name, value.c_str(), 1); }

 private:
  static constexpr std::array<const char*, 5> kNames = {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME",
                                                        "XDG_CACHE_HOME", "HOME"};
  std::vector<std::optional<std::string>> saved_;
};

const std::string kMainCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kOtherCommit = "fedcba9876543210fedcba9876543210fedcba98";

// <cache>/models--google--gemma-3-1b-it/snapshots/<commit>/config.json, the layout huggingface_hub writes.
fs::path add_snapshot(const fs::path& cache, const std::string& commit) {
  fs::path snapshot = cache / "models--google--gemma-3-1b-it" / "snapshots" / commit;
  fs::create_directories(snapshot);
  write_file_atomic(snapshot / "config.json", "{}");
  return snapshot;
}

void add_ref(const fs::path& cache, const std::string& ref, const std::string& commit) {
  fs::path refs = cache / "models--google--gemma-3-1b-it" / "refs";
  fs::create_directories(refs / fs::path(ref).parent_path());
  write_file_atomic(refs / ref, commit);  // huggingface_hub writes no trailing newline
}

}  // namespace

TEST_CASE("a local model directory is returned as is", "[model_path]") {
  TempDir tmp;
  write_file_atomic(tmp.path / "config.json", "{}");
  CHECK(resolve_model_path(tmp.path.string()) == tmp.path);

  fs::path no_config = tmp.path / "empty";
  fs::create_directories(no_config);
  REQUIRE_THROWS_WITH(resolve_model_path(no_config.string()), Contains(no_config.string()) && Contains("config.json"));
  REQUIRE_THROWS_WITH(resolve_model_path((tmp.path / "config.json").string()), Contains("expected a model directory"));
}

TEST_CASE("a Hub id resolves through refs/main in HF_HUB_CACHE", "[model_path]") {
  TempDir tmp;
  CacheEnvironment env;
  env.set("HF_HUB_CACHE", tmp.path);
  fs::path main_snapshot = add_snapshot(tmp.path, kMainCommit);
  fs::path other_snapshot = add_snapshot(tmp.path, kOtherCommit);
  add_ref(tmp.path, "main", kMainCommit + "\n");
  add_ref(tmp.path, "v1", kOtherCommit);

  CHECK(resolve_model_path("google/gemma-3-1b-it") == main_snapshot);
  SECTION("@ref name") { CHECK(resolve_model_path("google/gemma-3-1b-it@v1") == other_snapshot); }
  SECTION("@commit hash") { CHECK(resolve_model_path("google/gemma-3-1b-it@" + kOtherCommit) == other_snapshot); }
  SECTION("@unknown revision lists the places looked") {
    REQUIRE_THROWS_WITH(resolve_model_path("google/gemma-3-1b-it@nope"),
                        Contains("refs/nope") && Contains("snapshots/nope") && Contains("missing"));
  }
  SECTION("two snapshots and refs/main removed: no guess") {
    fs::remove(tmp.path / "models--google--gemma-3-1b-it/refs/main");
    REQUIRE_THROWS_WITH(resolve_model_path("google/gemma-3-1b-it"), Contains("2 snapshots") && Contains(kMainCommit) &&
                                                                        Contains(kOtherCommit) &&
                                                                        Contains("@<revision>"));
  }
}

TEST_CASE("without refs/main a single snapshot is used", "[model_path]") {
  TempDir tmp;
  CacheEnvironment env;
  env.set("HF_HUB_CACHE", tmp.path);
  fs::path snapshot = add_snapshot(tmp.path, kOtherCommit);
  CHECK(resolve_model_path("google/gemma-3-1b-it") == snapshot);
}

TEST_CASE("the cache folder follows huggingface_hub's variables", "[model_path]") {
  TempDir tmp;
  CacheEnvironment env;
  SECTION("HF_HOME/hub") {
    env.set("HF_HOME", tmp.path / "hf");
    fs::path snapshot = add_snapshot(tmp.path / "hf/hub", kMainCommit);
    add_ref(tmp.path / "hf/hub", "main", kMainCommit);
    CHECK(hf_hub_cache_dir() == tmp.path / "hf/hub");
    CHECK(resolve_model_path("google/gemma-3-1b-it") == snapshot);
  }
  SECTION("HF_HUB_CACHE wins over HF_HOME") {
    env.set("HF_HOME", tmp.path / "hf");
    env.set("HF_HUB_CACHE", tmp.path / "direct");
    CHECK(hf_hub_cache_dir() == tmp.path / "direct");
  }
  SECTION("XDG_CACHE_HOME/huggingface/hub") {
    env.set("XDG_CACHE_HOME", tmp.path / "xdg");
    CHECK(hf_hub_cache_dir() == tmp.path / "xdg/huggingface/hub");
  }
  SECTION("~/.cache/huggingface/hub") {
    env.set("HOME", tmp.path / "home");
    fs::path snapshot = add_snapshot(tmp.path / "home/.cache/huggingface/hub", kMainCommit);
    CHECK(hf_hub_cache_dir() == tmp.path / "home/.cache/huggingface/hub");
    CHECK(resolve_model_path("google/gemma-3-1b-it") == snapshot);
  }
}

TEST_CASE("a model that is nowhere: the message lists every place looked", "[model_path]") {
  TempDir tmp;
  CacheEnvironment env;
  env.set("HF_HOME", tmp.path);
  SECTION("repo not in the cache") {
    REQUIRE_THROWS_WITH(resolve_model_path("google/gemma-3-4b-it"),
                        Contains("'google/gemma-3-4b-it'") && Contains("no such local directory") &&
                            Contains((tmp.path / "hub/models--google--gemma-3-4b-it").string()) &&
                            Contains("$HF_HOME/hub"));
  }
  SECTION("repo folder without snapshots") {
    fs::create_directories(tmp.path / "hub/models--google--gemma-3-1b-it/blobs");
    REQUIRE_THROWS_WITH(resolve_model_path("google/gemma-3-1b-it"), Contains("refs/main") && Contains("no snapshots"));
  }
  SECTION("snapshot without config.json") {
    fs::path snapshot = add_snapshot(tmp.path / "hub", kMainCommit);
    fs::remove(snapshot / "config.json");
    REQUIRE_THROWS_WITH(resolve_model_path("google/gemma-3-1b-it"),
                        Contains(snapshot.string()) && Contains("no config.json"));
  }
  SECTION("neither a directory nor a Hub id") {
    REQUIRE_THROWS_WITH(resolve_model_path("no/such/dir"),
                        Contains("no/such/dir") && Contains("not a Hub id of the form org/name"));
    REQUIRE_THROWS_WITH(resolve_model_path("google/../etc"), Contains("not a Hub id"));
    REQUIRE_THROWS_WITH(resolve_model_path("google/gemma@../../x"), Contains("not a Hub id"));
  }
}
