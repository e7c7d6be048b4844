#pragma once
// A checkpoint directory in Hugging Face layout: one model.safetensors, or shards listed by
// model.safetensors.index.json. Every file is mapped and validated at open, and the index is checked
// against the shards' own headers, so a name lookup never reaches a missing or ambiguous tensor.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/safetensors.h"

namespace gemma {

class Checkpoint {
 public:
  // Prefers model.safetensors (like transformers) and otherwise reads the shard index.
  // Error if neither file exists (says what was looked for), or if the index and the shards disagree.
  static Checkpoint open(const std::filesystem::path& dir);

  const TensorView* find(std::string_view name) const;  // across shards; nullptr if absent
  std::vector<std::string> tensor_names() const;        // sorted
  const std::filesystem::path& dir() const;
  std::vector<std::filesystem::path> files() const;  // the safetensors files, sorted

 private:
  void add_file(std::shared_ptr<SafetensorsFile> file);

  std::filesystem::path dir_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*, std::less<>> tensors_by_name_;
};

}  // namespace gemma
