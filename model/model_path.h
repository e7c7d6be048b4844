#pragma once
// What --model accepts: a local model directory, or a Hugging Face Hub id already downloaded into the
// local Hugging Face cache (no network access: the harness never downloads).
#include <filesystem>
#include <string>

namespace gemma {

// A directory (returned as is, if it holds config.json), or a Hub id "org/name" resolved in the local
// Hugging Face cache: $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub (the huggingface_hub rule: one cache folder, chosen by the first variable set).
// In it: models--org--name/snapshots/<revision>, the revision read from refs/main, or "org/name@rev" for a
// ref name (refs/<rev>) or a commit hash. If refs/main is missing and exactly one snapshot exists, that one
// is used. Failure -> Error listing every place looked.
std::filesystem::path resolve_model_path(const std::string& model_arg);

// The Hugging Face hub cache folder that resolve_model_path searches, by the rule above.
std::filesystem::path hf_hub_cache_dir();

}  // namespace gemma
