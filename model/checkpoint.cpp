#include "model/checkpoint.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"

namespace gemma {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kSingleFileName = "model.safetensors";
constexpr const char* kIndexFileName = "model.safetensors.index.json";

bool is_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// weight_map: tensor name -> shard file name, grouped by (normalised) shard name.
using ShardContents = std::map<std::string, std::vector<std::string>>;

json read_index_json(const fs::path& index_path) {
  std::string text = read_file(index_path);
  json index;
  try {
    index = json::parse(text);
  } catch (const json::exception& e) {
    fail("shard index {} is not valid JSON: {}", index_path.string(), e.what());
  }
  return index;
}

// A shard name must stay inside the checkpoint directory: no absolute paths, no "..".
std::string checked_shard_name(const fs::path& index_path, const std::string& tensor, const std::string& shard) {
  fs::path relative = fs::path(shard).lexically_normal();
  bool escapes = shard.empty() || relative.is_absolute() || relative.empty() || *relative.begin() == "..";
  if (escapes)
    fail("shard index {} maps tensor '{}' to '{}', which is not a file inside the checkpoint directory",
         index_path.string(), tensor, shard);
  return relative.string();
}

ShardContents read_weight_map(const fs::path& index_path) {
  json index = read_index_json(index_path);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    fail("shard index {} has no \"weight_map\" object", index_path.string());
  ShardContents shards;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    if (!shard.is_string())
      fail("shard index {}: weight_map entry for tensor '{}' is a JSON {}, not a file name", index_path.string(),
           tensor, shard.type_name());
    shards[checked_shard_name(index_path, tensor, shard.get<std::string>())].push_back(tensor);
  }
  return shards;
}

std::shared_ptr<SafetensorsFile> open_shard(const fs::path& dir, const fs::path& index_path, const std::string& shard,
                                            const std::vector<std::string>& mapped_tensors) {
  fs::path shard_path = follow_link_stub(dir / shard);
  if (!is_file(shard_path))
    fail("shard index {} maps tensor '{}' to shard {}, which does not exist", index_path.string(),
         mapped_tensors.front(), (dir / shard).string());
  auto file = SafetensorsFile::open(shard_path);
  for (const std::string& tensor : mapped_tensors)
    if (!file->find(tensor))
      fail("shard index {} maps tensor '{}' to shard {}, but that shard has no such tensor", index_path.string(),
           tensor, shard_path.string());
  return file;
}

// Every tensor a shard holds must be listed in the index, for that very shard.
void check_shard_fully_indexed(const fs::path& index_path, const SafetensorsFile& file,
                               const std::vector<std::string>& mapped_tensors) {
  for (const TensorView& tensor : file.tensors())
    if (!std::binary_search(mapped_tensors.begin(), mapped_tensors.end(), tensor.name))
      fail("shard {} holds tensor '{}', which shard index {} does not map to it", file.path().string(), tensor.name,
           index_path.string());
}

}  // namespace

Checkpoint Checkpoint::open(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail("checkpoint directory {} does not exist or is not a directory", dir.string());
  Checkpoint checkpoint;
  checkpoint.dir_ = dir;

  fs::path single_file = follow_link_stub(dir / kSingleFileName);
  fs::path index_path = follow_link_stub(dir / kIndexFileName);
  if (is_file(single_file)) {
    checkpoint.add_file(SafetensorsFile::open(single_file));
    return checkpoint;
  }
  if (!is_file(index_path))
    fail("no checkpoint in {}: looked for {} and {}", dir.string(), (dir / kSingleFileName).string(),
         (dir / kIndexFileName).string());

  ShardContents shards = read_weight_map(index_path);
  std::vector<std::pair<std::shared_ptr<SafetensorsFile>, const std::vector<std::string>*>> opened;
  for (auto& [shard, mapped_tensors] : shards) {
    std::sort(mapped_tensors.begin(), mapped_tensors.end());
    opened.emplace_back(open_shard(dir, index_path, shard, mapped_tensors), &mapped_tensors);
  }
  // All shards first, so a tensor held by two shards is reported as such, whichever the index names.
  for (const auto& [file, mapped_tensors] : opened) checkpoint.add_file(file);
  for (const auto& [file, mapped_tensors] : opened) check_shard_fully_indexed(index_path, *file, *mapped_tensors);
  return checkpoint;
}

void Checkpoint::add_file(std::shared_ptr<SafetensorsFile> file) {
  for (const TensorView& tensor : file->tensors()) {
    auto [it, inserted] = tensors_by_name_.emplace(tensor.name, &tensor);
    if (!inserted)
      fail("checkpoint {}: tensor '{}' appears in two files, {} and {}", dir_.string(), tensor.name, it->second->file,
           tensor.file);
  }
  files_.push_back(std::move(file));
}

const TensorView* Checkpoint::find(std::string_view name) const {
  auto it = tensors_by_name_.find(name);
  return it == tensors_by_name_.end() ? nullptr : it->second;
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> names;
  names.reserve(tensors_by_name_.size());
  for (const auto& entry : tensors_by_name_) names.push_back(entry.first);
  return names;
}

const fs::path& Checkpoint::dir() const { return dir_; }

std::vector<fs::path> Checkpoint::files() const {
  std::vector<fs::path> paths;
  for (const auto& file : files_) paths.push_back(file->path());
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace gemma
