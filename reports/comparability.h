#pragma once
// Whether two runs measured the same thing: a score only means something next to another score
// computed from the same prompts, data, docs and tokenizer (docs/design.md; docs/cli.md). Used by
// `compare` (incomparable rows) and `history show` (marks where a task's setup changed). Torch-free.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gemma::reports {

// What differs between two results.json for `name` (a task or a group), each item short enough for
// a table cell: "tokenizer hash", "weights fingerprint", "profile pt→it", "version 1→2", "n-shot 0→5", "first-prompt
// hash", "all-prompts hash", "data hash (ARC-Easy-Test.jsonl)", "doc ids (10→20 docs)", "no provenance in base". A
// group differs when the run-wide settings, its n-shot or its member tasks differ, or when any member task differs
// ("mmlu_anatomy: all-prompts hash", or "3 member tasks differ (a, b, c)"). Empty = comparable. Data files are matched
// by sha256, not path, so runs from different checkouts or
// --data-dir locations of the same files compare; a missing hash is a difference, never a pass.
std::vector<std::string> comparability_differences(const nlohmann::ordered_json& base,
                                                   const nlohmann::ordered_json& candidate, const std::string& name);

}  // namespace gemma::reports
