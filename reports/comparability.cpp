#include "reports/comparability.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "reports/run_record.h"

namespace gemma::reports {
using nlohmann::ordered_json;

namespace {

// The value at a path of keys, or null when any step is missing.
ordered_json at_path(const ordered_json& root, std::initializer_list<const char*> keys) {
  const ordered_json* node = &root;
  for (const char* key : keys) {
    if (!node->is_object()) return nullptr;
    auto found = node->find(key);
    if (found == node->end()) return nullptr;
    node = &*found;
  }
  return *node;
}

// results.json's per-task tables: root[table][key], or null.
ordered_json table_entry(const ordered_json& root, const char* table, const std::string& key) {
  auto found = root.find(table);
  if (found == root.end() || !found->is_object()) return nullptr;
  return found->value(key, ordered_json());
}

std::string shown(const ordered_json& value) {
  if (value.is_null()) return "none";
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// A setting both runs must record and agree on; `with_values` shows "a→b" (short values only).
void compare_setting(const ordered_json& base, const ordered_json& candidate, const std::string& label,
                     bool with_values, std::vector<std::string>& out) {
  if (base.is_null() && candidate.is_null()) {
    out.push_back(fmt::format("no {} in either run", label));
  } else if (base.is_null() || candidate.is_null()) {
    out.push_back(fmt::format("no {} in {}", label, base.is_null() ? "base" : "new"));
  } else if (base != candidate) {
    out.push_back(with_values ? fmt::format("{} {}→{}", label, shown(base), shown(candidate)) : label);
  }
}

// Settings that apply to every task of a run.
std::vector<std::string> run_differences(const ordered_json& base, const ordered_json& candidate) {
  std::vector<std::string> out;
  // Other weights are another model (a fine-tune saved with the same layout too: the fingerprint covers
  // every tensor byte), so a regression gate between them would compare two models, not two runs.
  // config.model_details, or config.model in results.json written before config.model was lm-eval's string.
  const ordered_json base_model = model_details_of_results(base);
  const ordered_json candidate_model = model_details_of_results(candidate);
  compare_setting(at_path(base_model, {"weights_fingerprint"}), at_path(candidate_model, {"weights_fingerprint"}),
                  "weights fingerprint", false, out);
  compare_setting(at_path(base_model, {"tokenizer", "sha256"}), at_path(candidate_model, {"tokenizer", "sha256"}),
                  "tokenizer hash", false, out);
  compare_setting(at_path(base, {"config", "profile"}), at_path(candidate, {"config", "profile"}), "profile", true,
                  out);
  return out;
}

// (sha256, file name) of the files one run read for a task; "" for a missing hash.
std::multiset<std::pair<std::string, std::string>> data_files(const ordered_json& provenance) {
  std::multiset<std::pair<std::string, std::string>> files;
  auto list = provenance.find("data_files");
  if (list == provenance.end() || !list->is_array()) return files;
  for (const auto& file : *list) {
    auto text = [&](const char* key) {
      return file.is_object() && file.contains(key) && file[key].is_string() ? file[key].get<std::string>() : "";
    };
    files.emplace(text("sha256"), std::filesystem::path(text("path")).filename().string());
  }
  return files;
}

void compare_data_files(const ordered_json& base, const ordered_json& candidate, std::vector<std::string>& out) {
  auto base_files = data_files(base), new_files = data_files(candidate);
  std::set<std::string> base_hashes, new_hashes, changed;
  for (const auto& [sha, name] : base_files) base_hashes.insert(sha);
  for (const auto& [sha, name] : new_files) new_hashes.insert(sha);
  for (const auto& [sha, name] : base_files)
    if (sha.empty() || !new_hashes.count(sha)) changed.insert(name);
  for (const auto& [sha, name] : new_files)
    if (sha.empty() || !base_hashes.count(sha)) changed.insert(name);
  if (base_files.size() != new_files.size() && changed.empty()) changed.insert("file count");
  if (changed.empty()) return;
  std::string names;
  for (const auto& name : changed) names += (names.empty() ? "" : ", ") + name;
  out.push_back(fmt::format("data hash ({})", names));
}

// The task's own settings (not the run-wide ones).
std::vector<std::string> task_differences(const ordered_json& base, const ordered_json& candidate,
                                          const std::string& task) {
  std::vector<std::string> out;
  // A version or n-shot missing from one file is not itself a reason (lm-eval writes no version for
  // some entries): the prompt hashes below decide.
  for (const char* table : {"versions", "n-shot"}) {
    const auto base_value = table_entry(base, table, task), new_value = table_entry(candidate, table, task);
    if (!base_value.is_null() && !new_value.is_null() && base_value != new_value)
      out.push_back(fmt::format("{} {}→{}", table == std::string("versions") ? "version" : table, shown(base_value),
                                shown(new_value)));
  }
  const auto base_prov = table_entry(base, "provenance", task), new_prov = table_entry(candidate, "provenance", task);
  if (!base_prov.is_object() || !new_prov.is_object()) {
    if (!base_prov.is_object()) out.push_back("no provenance in base");
    if (!new_prov.is_object()) out.push_back("no provenance in new");
    return out;
  }
  compare_setting(base_prov.value("first_prompt_sha256", ordered_json()),
                  new_prov.value("first_prompt_sha256", ordered_json()), "first-prompt hash", false, out);
  compare_setting(base_prov.value("all_prompts_sha256", ordered_json()),
                  new_prov.value("all_prompts_sha256", ordered_json()), "all-prompts hash", false, out);
  compare_data_files(base_prov, new_prov, out);
  const auto base_ids = base_prov.value("doc_ids", ordered_json()), new_ids = new_prov.value("doc_ids", ordered_json());
  if (base_ids != new_ids) {
    if (base_ids.is_array() && new_ids.is_array() && base_ids.size() != new_ids.size())
      out.push_back(fmt::format("doc ids ({}→{} docs)", base_ids.size(), new_ids.size()));
    else
      out.push_back("doc ids");
  }
  return out;
}

std::vector<std::string> group_differences(const ordered_json& base, const ordered_json& candidate,
                                           const std::string& group) {
  std::vector<std::string> out;
  auto base_members = leaf_tasks(base, group), new_members = leaf_tasks(candidate, group);
  std::sort(base_members.begin(), base_members.end());
  std::sort(new_members.begin(), new_members.end());
  if (base_members != new_members) out.push_back("member tasks differ");
  const auto base_shots = table_entry(base, "n-shot", group), new_shots = table_entry(candidate, "n-shot", group);
  if (base_shots != new_shots) out.push_back(fmt::format("n-shot {}→{}", shown(base_shots), shown(new_shots)));

  std::vector<std::string> differing;
  std::string first_detail;
  for (const auto& member : base_members) {
    if (!std::binary_search(new_members.begin(), new_members.end(), member)) continue;
    auto member_out = task_differences(base, candidate, member);
    if (member_out.empty()) continue;
    if (differing.empty()) {
      for (const auto& reason : member_out) first_detail += (first_detail.empty() ? "" : ", ") + reason;
    }
    differing.push_back(member);
  }
  if (differing.size() == 1) {
    out.push_back(differing.front() + ": " + first_detail);
  } else if (!differing.empty()) {
    std::string names;
    for (size_t i = 0; i < differing.size() && i < 3; ++i) names += (i ? ", " : "") + differing[i];
    if (differing.size() > 3) names += ", ...";
    out.push_back(fmt::format("{} member tasks differ ({})", differing.size(), names));
  }
  return out;
}

}  // namespace

std::vector<std::string> comparability_differences(const ordered_json& base, const ordered_json& candidate,
                                                   const std::string& name) {
  std::vector<std::string> out = run_differences(base, candidate);
  const bool group = is_group(base, name) || is_group(candidate, name);
  if (group && is_group(base, name) != is_group(candidate, name)) {
    out.push_back("a group in one run, a task in the other");
    return out;
  }
  auto own = group ? group_differences(base, candidate, name) : task_differences(base, candidate, name);
  out.insert(out.end(), own.begin(), own.end());
  return out;
}

}  // namespace gemma::reports
