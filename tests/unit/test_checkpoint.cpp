#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "model/checkpoint.h"

using namespace gemma;
using gemma::test::TempDir;
namespace fs = std::filesystem;
using Catch::Contains;
using nlohmann::json;

namespace {

const fs::path kReference = fs::path(GEMMA_TEST_SHARED_DIR) / "reference";

TensorToWrite small_tensor(const std::string& name) { return {name, DType::F32, {2}, std::string(8, '\0')}; }

void write_shard(const fs::path& path, const std::vector<std::string>& names) {
  std::vector<TensorToWrite> tensors;
  for (const auto& name : names) tensors.push_back(small_tensor(name));
  write_safetensors(path, tensors);
}

void write_index(const fs::path& dir, const json& weight_map) {
  json index = {{"metadata", {{"total_size", 16}, {"total_parameters", 4}}}, {"weight_map", weight_map}};
  write_file_atomic(dir / "model.safetensors.index.json", index.dump(2));
}

}  // namespace

TEST_CASE("the sharded tiny-text checkpoint opens through its index", "[checkpoint]") {
  Checkpoint checkpoint = Checkpoint::open(kReference / "tiny-text");
  CHECK(checkpoint.dir() == kReference / "tiny-text");
  CHECK(checkpoint.files() == std::vector<fs::path>{kReference / "tiny-text/model-00001-of-00002.safetensors",
                                                    kReference / "tiny-text/model-00002-of-00002.safetensors"});
  std::vector<std::string> names = checkpoint.tensor_names();
  // transformers models/gemma3/configuration_gemma3.py@008f5c8c: embedding, 13 per layer, final norm
  CHECK(names.size() == 1 + 13 * 7 + 1);
  CHECK(std::is_sorted(names.begin(), names.end()));

  const TensorView* embed = checkpoint.find("model.embed_tokens.weight");
  REQUIRE(embed);
  CHECK(embed->dtype == DType::Bf16);
  CHECK(embed->shape == std::vector<int64_t>{262144, 64});
  CHECK(embed->file == (kReference / "tiny-text/model-00001-of-00002.safetensors").string());

  const TensorView* last_norm = checkpoint.find("model.norm.weight");
  REQUIRE(last_norm);
  CHECK(last_norm->file == (kReference / "tiny-text/model-00002-of-00002.safetensors").string());
  CHECK(checkpoint.find("model.layers.6.mlp.down_proj.weight")->shape == std::vector<int64_t>{64, 128});
  CHECK(checkpoint.find("lm_head.weight") == nullptr);
}

TEST_CASE("the single-file tiny-vision checkpoint opens", "[checkpoint]") {
  Checkpoint checkpoint = Checkpoint::open(kReference / "tiny-vision");
  CHECK(checkpoint.files() == std::vector<fs::path>{kReference / "tiny-vision/model.safetensors"});
  CHECK(checkpoint.tensor_names().size() == 132);
  const TensorView* projector = checkpoint.find("model.multi_modal_projector.mm_input_projection_weight");
  REQUIRE(projector);
  CHECK(projector->shape == std::vector<int64_t>{32, 64});
  CHECK(checkpoint.find("model.language_model.embed_tokens.weight")->shape == std::vector<int64_t>{262208, 64});
}

TEST_CASE("checkpoint directories that are not loadable are refused clearly", "[checkpoint]") {
  TempDir tmp;
  const fs::path index = tmp.path / "model.safetensors.index.json";

  SECTION("no weights at all: says what was looked for") {
    REQUIRE_THROWS_WITH(Checkpoint::open(tmp.path), Contains(tmp.path.string()) &&
                                                        Contains("model.safetensors.index.json") &&
                                                        Contains((tmp.path / "model.safetensors").string()));
  }
  SECTION("not a directory") {
    REQUIRE_THROWS_WITH(Checkpoint::open(tmp.path / "absent"), Contains((tmp.path / "absent").string()));
  }
  SECTION("a valid two-shard index, with unknown extra keys, opens") {
    write_shard(tmp.path / "s1.safetensors", {"a"});
    write_shard(tmp.path / "s2.safetensors", {"b", "c"});
    json index_json = {{"metadata", {{"total_size", 24}, {"something_new", true}}},
                       {"weight_map", {{"a", "s1.safetensors"}, {"b", "s2.safetensors"}, {"c", "./s2.safetensors"}}},
                       {"format_version", 7}};
    write_file_atomic(index, index_json.dump());
    Checkpoint checkpoint = Checkpoint::open(tmp.path);
    CHECK(checkpoint.tensor_names() == std::vector<std::string>{"a", "b", "c"});
    CHECK(checkpoint.files().size() == 2);
    CHECK(checkpoint.find("c")->file == (tmp.path / "s2.safetensors").string());
  }
  SECTION("index pointing to a missing shard") {
    write_shard(tmp.path / "s1.safetensors", {"a"});
    write_index(tmp.path, {{"a", "s1.safetensors"}, {"b", "s2.safetensors"}});
    REQUIRE_THROWS_WITH(Checkpoint::open(tmp.path), Contains(index.string()) && Contains("'b'") &&
                                                        Contains("s2.safetensors") && Contains("does not exist"));
  }
  SECTION("index naming a tensor the shard lacks") {
    write_shard(tmp.path / "s1.safetensors", {"a"});
    write_index(tmp.path, {{"a", "s1.safetensors"}, {"ghost", "s1.safetensors"}});
    REQUIRE_THROWS_WITH(Checkpoint::open(tmp.path), Contains("'ghost'") &&
                                                        Contains((tmp.path / "s1.safetensors").string()) &&
                                                        Contains("no such tensor"));
  }
  SECTION("a shard holding a tensor the index does not list") {
    write_shard(tmp.path / "s1.safetensors", {"a", "extra"});
    write_index(tmp.path, {{"a", "s1.safetensors"}});
    REQUIRE_THROWS_WITH(Checkpoint::open(tmp.path), Contains("'extra'") &&
                                                        Contains((tmp.path / "s1.safetensors").string()) &&
                                                        Contains(index.string()));
  }
  SECTION("the same tensor in two shards") {
    write_shard(tmp.path / "s1.safetensors", {"a"});
    write_shard(tmp.path / "s2.safetensors", {"a", "b"});
    write_index(tmp.path, {{"a", "s1.safetensors"}, {"b", "s2.safetensors"}});
    REQUIRE_THROWS_WITH(Checkpoint::open(tmp.path), Contains("'a'") && Contains("two files") &&
                                                        Contains((tmp.path / "s1.safetensors").string()) &&
                                                        Contains((tmp.path / "s2.safetensors").string()));
  }
  SECTION("a shard path escaping the directory") {
    fs::create_directories(tmp.path / "ckpt");
    write_shard(tmp.path / "outside.safetensors", {"a"});
    write_index(tmp.path / "ckpt", {{"a", "../outside.safetensors"}});
    REQUIRE_THROWS_WITH(Checkpoint::open(tmp.path / "ckpt"),
                        Contains("'a'") && Contains("../outside.safetensors") && Contains("not a file inside"));
  }
  SECTION("an absolute shard path") {
    write_shard(tmp.path / "s1.safetensors", {"a"});
    write_index(tmp.path, {{"a", (tmp.path / "s1.safetensors").string()}});
    REQUIRE_THROWS_WITH(Checkpoint::open(tmp.path), Contains("not a file inside"));
  }
  SECTION("an index without weight_map") {
    write_file_atomic(index, R"({"metadata": {}})");
    REQUIRE_THROWS_WITH(Checkpoint::open(tmp.path), Contains(index.string()) && Contains("weight_map"));
  }
  SECTION("an index that is not JSON") {
    write_file_atomic(index, "{");
    REQUIRE_THROWS_WITH(Checkpoint::open(tmp.path), Contains(index.string()) && Contains("not valid JSON"));
  }
  SECTION("model.safetensors wins over an index, as in transformers") {
    write_shard(tmp.path / "model.safetensors", {"single"});
    write_index(tmp.path, {{"a", "missing.safetensors"}});
    CHECK(Checkpoint::open(tmp.path).tensor_names() == std::vector<std::string>{"single"});
  }
}
