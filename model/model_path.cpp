#include "model/model_path.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/files.h"

namespace gemma {
namespace fs = std::filesystem;

namespace {

// The cache folder and the reason it was chosen, for messages.
struct CacheDir {
  fs::path path;
  std::string chosen_by;
};

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

// huggingface_hub expands "~" in these variables.
fs::path expand_home(const std::string& value) {
  if (value == "~" || value.rfind("~/", 0) == 0)
    return fs::path(env_or_empty("HOME")) / value.substr(value.size() > 1 ? 2 : 1);
  return fs::path(value);
}

CacheDir find_cache_dir() {
  // HUGGINGFACE_HUB_CACHE is the older spelling of HF_HUB_CACHE; huggingface_hub still honours it.
  for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"})
    if (std::string value = env_or_empty(name); !value.empty()) return {expand_home(value), fmt::format("${}", name)};
  if (std::string hf_home = env_or_empty("HF_HOME"); !hf_home.empty())
    return {expand_home(hf_home) / "hub", "$HF_HOME/hub"};
  if (std::string xdg = env_or_empty("XDG_CACHE_HOME"); !xdg.empty())
    return {expand_home(xdg) / "huggingface" / "hub", "$XDG_CACHE_HOME/huggingface/hub"};
  return {expand_home("~/.cache/huggingface/hub"), "the default ~/.cache/huggingface/hub"};
}

bool is_dir(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

bool has_config_json(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(follow_link_stub(dir / "config.json"), ec);
}

// Hub repo names: letters, digits, '-', '_', '.'; "." and ".." are never names.
bool is_hub_name_part(const std::string& part) {
  if (part.empty() || part == "." || part == "..") return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// A revision is a ref name ("main", "refs/pr/1" style names with '/') or a commit hash; never a path escape.
bool is_safe_revision(const std::string& revision) {
  if (revision.empty() || revision.front() == '/') return false;
  for (const auto& part : fs::path(revision))
    if (part == ".." || part == ".") return false;
  return std::all_of(revision.begin(), revision.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

struct HubId {
  std::string org, name, revision;  // revision empty: use refs/main
};

std::optional<HubId> parse_hub_id(const std::string& arg) {
  size_t at = arg.find('@');
  std::string repo = arg.substr(0, at);
  HubId id;
  if (at != std::string::npos) {
    id.revision = arg.substr(at + 1);
    if (!is_safe_revision(id.revision)) return std::nullopt;
  }
  size_t slash = repo.find('/');
  if (slash == std::string::npos) return std::nullopt;
  id.org = repo.substr(0, slash);
  id.name = repo.substr(slash + 1);
  if (!is_hub_name_part(id.org) || !is_hub_name_part(id.name)) return std::nullopt;
  return id;
}

std::string read_ref(const fs::path& ref_file) {
  std::string commit = read_file(ref_file);
  while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back()))) commit.pop_back();
  return commit;
}

std::vector<std::string> list_snapshots(const fs::path& snapshots_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(snapshots_dir, ec))
    if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Collects what was tried, so a failure can show the user every place looked.
class SearchLog {
 public:
  explicit SearchLog(std::string model_arg) : model_arg_(std::move(model_arg)) {}
  void add(const fs::path& place, const std::string& finding) {
    lines_.push_back(fmt::format("  - {}: {}", place.string(), finding));
  }
  [[noreturn]] void fail_not_found() const {
    fail(
        "cannot find model '{}' (neither a model directory nor a Hub id in the local Hugging Face cache). "
        "Looked at:\n{}",
        model_arg_, fmt::join(lines_, "\n"));
  }

 private:
  std::string model_arg_;
  std::vector<std::string> lines_;
};

fs::path resolve_local_directory(const fs::path& dir) {
  if (!is_dir(dir)) fail("--model {}: this is a file; expected a model directory or a Hub id org/name", dir.string());
  if (!has_config_json(dir)) fail("model directory {} has no config.json", dir.string());
  return dir;
}

// The snapshot folder name for the requested revision, or "" (with the reason logged) if none fits.
std::string choose_snapshot(const fs::path& repo_dir, const HubId& id, SearchLog& log) {
  fs::path snapshots_dir = repo_dir / "snapshots";
  std::string ref = id.revision.empty() ? "main" : id.revision;
  fs::path ref_file = repo_dir / "refs" / ref;
  std::error_code ec;
  if (fs::is_regular_file(ref_file, ec)) {
    std::string commit = read_ref(ref_file);
    if (!is_safe_revision(commit)) {
      log.add(ref_file, fmt::format("does not hold a commit hash ('{}')", commit));
      return "";
    }
    log.add(ref_file, fmt::format("names commit '{}'", commit));
    return commit;
  }
  log.add(ref_file, "missing");
  if (!id.revision.empty()) return id.revision;  // not a ref name, so it may be a commit hash
  std::vector<std::string> snapshots = list_snapshots(snapshots_dir);
  if (snapshots.size() == 1) return snapshots.front();
  log.add(snapshots_dir, snapshots.empty()
                             ? std::string("no snapshots")
                             : fmt::format("{} snapshots ({}) and no refs/main to choose one; pass {}/{}@<revision>",
                                           snapshots.size(), fmt::join(snapshots, ", "), id.org, id.name));
  return "";
}

}  // namespace

fs::path hf_hub_cache_dir() { return find_cache_dir().path; }

fs::path resolve_model_path(const std::string& model_arg) {
  if (model_arg.empty()) fail("--model is empty: give a model directory or a Hub id org/name");
  std::error_code ec;
  if (fs::exists(model_arg, ec)) return resolve_local_directory(model_arg);

  SearchLog log(model_arg);
  log.add(model_arg, "no such local directory");
  std::optional<HubId> id = parse_hub_id(model_arg);
  if (!id) {
    log.add("(Hub cache)", "not searched: the name is not a Hub id of the form org/name[@revision]");
    log.fail_not_found();
  }
  CacheDir cache = find_cache_dir();
  fs::path repo_dir = cache.path / fmt::format("models--{}--{}", id->org, id->name);
  if (!is_dir(repo_dir)) {
    log.add(repo_dir, fmt::format("missing (Hugging Face cache chosen by {})", cache.chosen_by));
    log.fail_not_found();
  }
  std::string snapshot = choose_snapshot(repo_dir, *id, log);
  if (snapshot.empty()) log.fail_not_found();
  fs::path snapshot_dir = repo_dir / "snapshots" / snapshot;
  if (!is_dir(snapshot_dir)) {
    log.add(snapshot_dir, "missing");
    log.fail_not_found();
  }
  if (!has_config_json(snapshot_dir)) {
    log.add(snapshot_dir, "has no config.json (incomplete download?)");
    log.fail_not_found();
  }
  return snapshot_dir;
}

}  // namespace gemma
