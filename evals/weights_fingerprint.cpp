#include "evals/weights_fingerprint.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"

namespace gemma::evals {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kMemoFormat = "gemma-eval file digest memo";
constexpr int kMemoVersion = 1;
constexpr const char* kMemoFileName = "file-digests.json";
constexpr const char* kHashedAlgorithm = "xxh3-128";
constexpr const char* kHubAlgorithm = "sha256";

// What a memo entry is keyed by besides the path: the file as stat(2) sees it.
struct FileIdentity {
  uint64_t device = 0, inode = 0, size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileIdentity& other) const {
    return device == other.device && inode == other.inode && size == other.size && mtime_ns == other.mtime_ns;
  }
};

FileIdentity identity_of(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

bool is_lower_hex(const std::string& text, size_t length) {
  return text.size() == length &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

struct FdCloser {
  void operator()(const int* fd) const { ::close(*fd); }
};

// XXH3-128 of every byte; `identity` gets the file as it was while read (unchanged from start to end).
std::string hash_file(const fs::path& file, FileIdentity* identity) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot read weights file {}: {}", file.string(), std::strerror(errno));
  std::unique_ptr<const int, FdCloser> closer(&fd);
  struct stat before {};
  if (::fstat(fd, &before) != 0) fail("cannot stat weights file {}: {}", file.string(), std::strerror(errno));
  if (!S_ISREG(before.st_mode)) fail("weights file {} is not a regular file", file.string());
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);  // a hint only: its failure changes nothing

  std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> state(XXH3_createState(), XXH3_freeState);
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK) fail("xxHash: cannot start a hash for {}", file.string());
  std::vector<char> buffer(8 << 20);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("error while reading weights file {}: {}", file.string(), std::strerror(errno));
    if (n == 0) break;
    XXH3_128bits_update(state.get(), buffer.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  struct stat after {};
  if (::fstat(fd, &after) != 0) fail("cannot stat weights file {}: {}", file.string(), std::strerror(errno));
  const FileIdentity start = identity_of(before), end = identity_of(after);
  if (!(start == end) || total != start.size)
    fail(
        "weights file {} changed while it was being hashed ({} bytes read, {} then {} bytes on disk): "
        "rerun once it is no longer being written",
        file.string(), total, start.size, end.size);
  if (identity) *identity = start;
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state.get()));
  return lower_hex(std::string_view(reinterpret_cast<const char*>(canonical.digest), sizeof canonical.digest));
}

// A memo entry read from disk, checked field by field; "" when it is usable, else what is wrong.
std::string entry_problem(const json& entry) {
  if (!entry.is_object()) return "an entry is not an object";
  if (!entry.contains("path") || !entry["path"].is_string()) return "an entry has no path";
  for (const char* key : {"device", "inode", "size", "mtime_ns"})
    if (!entry.contains(key) || !entry[key].is_number_integer()) return fmt::format("an entry has no integer {}", key);
  if (entry.value("algorithm", "") != kHashedAlgorithm) return "an entry has an unknown algorithm";
  if (!entry.contains("digest") || !entry["digest"].is_string() ||
      !is_lower_hex(entry["digest"].get<std::string>(), 32))
    return "an entry's digest is not 32 hex digits";
  return "";
}

std::string entries_checksum(const json& entries) {
  return sha256_hex(entries.dump(-1, ' ', false, json::error_handler_t::replace));
}

bool entry_matches(const json& entry, const std::string& path, const FileIdentity& id) {
  return entry["path"] == path && entry["device"].get<uint64_t>() == id.device &&
         entry["inode"].get<uint64_t>() == id.inode && entry["size"].get<uint64_t>() == id.size &&
         entry["mtime_ns"].get<int64_t>() == id.mtime_ns;
}

// Whether the file an entry describes is still there, unchanged (else the entry can never be used).
bool entry_current(const json& entry) {
  struct stat st {};
  const std::string path = entry["path"].get<std::string>();
  return ::stat(path.c_str(), &st) == 0 && entry_matches(entry, path, identity_of(st));
}

}  // namespace

std::string xxh3_128_file_hex(const fs::path& file) { return hash_file(file, nullptr); }

std::string hub_blob_sha256(const fs::path& resolved) {
  const std::string name = resolved.filename().string();
  const fs::path blobs = resolved.parent_path();
  if (blobs.filename() != "blobs" || !is_lower_hex(name, 64)) return "";
  // Only the hub's model repositories: models--<org>--<name>/blobs/<sha256 of the content>.
  if (blobs.parent_path().filename().string().rfind("models--", 0) != 0) return "";
  return name;
}

fs::path default_digest_memo_path() {
  auto variable = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value ? value : "";
  };
  if (!variable("GEMMA_EVAL_CACHE_HOME").empty()) return fs::path(variable("GEMMA_EVAL_CACHE_HOME")) / kMemoFileName;
  if (!variable("XDG_CACHE_HOME").empty()) return fs::path(variable("XDG_CACHE_HOME")) / "gemma-eval" / kMemoFileName;
  if (!variable("HOME").empty()) return fs::path(variable("HOME")) / ".cache" / "gemma-eval" / kMemoFileName;
  return {};
}

FileDigestMemo::FileDigestMemo(fs::path memo_file, Warn warn) : path_(std::move(memo_file)), warn_(std::move(warn)) {
  if (!warn_)
    warn_ = [](const std::string& message) { std::fprintf(stderr, "gemma-eval: warning: %s\n", message.c_str()); };
  entries_ = load(true);
}

json FileDigestMemo::load(bool warn_if_corrupt) const {
  if (path_.empty()) return json::array();
  std::error_code ec;
  if (!fs::exists(path_, ec)) return json::array();
  std::string problem;
  try {
    const json memo = json::parse(read_file(path_));
    if (!memo.is_object() || memo.value("format", "") != kMemoFormat) {
      problem = "not a gemma-eval file digest memo";
    } else if (memo.value("version", 0) != kMemoVersion) {
      problem = "another memo version";
    } else if (!memo.contains("entries") || !memo["entries"].is_array()) {
      problem = "no entries list";
    } else if (memo.value("entries_sha256", "") != entries_checksum(memo["entries"])) {
      problem = "its checksum does not match its entries";
    } else {
      for (const auto& entry : memo["entries"])
        if (problem.empty()) problem = entry_problem(entry);
      if (problem.empty()) return memo["entries"];
    }
  } catch (const std::exception& e) {  // unreadable or not JSON
    problem = e.what();
  }
  if (warn_if_corrupt)
    warn_(fmt::format("ignoring the file digest memo {} ({}); weights are hashed again and the memo rewritten",
                      path_.string(), problem));
  return json::array();
}

void FileDigestMemo::save() {
  if (path_.empty() || save_failed_) return;
  // What another process saved since we loaded, then ours over it (ours are the latest for their
  // paths); entries whose file changed or vanished can never match again and are dropped.
  json merged = json::array();
  auto add = [&](const json& entry) {
    for (auto& existing : merged)
      if (existing["path"] == entry["path"]) return void(existing = entry);
    merged.push_back(entry);
  };
  for (const auto& entry : load(false)) add(entry);
  for (const auto& entry : entries_) add(entry);
  json kept = json::array();
  for (const auto& entry : merged)
    if (entry_current(entry)) kept.push_back(entry);
  entries_ = kept;
  nlohmann::ordered_json memo = {{"format", kMemoFormat},
                                 {"version", kMemoVersion},
                                 {"entries", kept},
                                 {"entries_sha256", entries_checksum(kept)}};
  try {
    std::error_code ec;
    fs::create_directories(path_.parent_path(), ec);
    write_file_atomic(path_, memo.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  } catch (const std::exception& e) {
    save_failed_ = true;  // warn once; every digest is still computed exactly
    warn_(fmt::format("cannot remember weight digests ({}): the next run hashes the weights again", e.what()));
  }
}

FileDigest FileDigestMemo::digest(const fs::path& file) {
  const fs::path target = follow_link_stub(file);
  std::error_code ec;
  const fs::path resolved = fs::canonical(target, ec);
  if (ec) fail("cannot read weights file {}: {}", file.string(), ec.message());
  struct stat st {};
  if (::stat(resolved.c_str(), &st) != 0)
    fail("cannot stat weights file {}: {}", resolved.string(), std::strerror(errno));
  const FileIdentity current = identity_of(st);

  if (std::string sha256 = hub_blob_sha256(resolved); !sha256.empty()) {
    ++stats_.hub_names;
    return {kHubAlgorithm, sha256, current.size};
  }
  for (const auto& entry : entries_)
    if (entry_matches(entry, resolved.string(), current)) {
      ++stats_.memo_hits;
      return {kHashedAlgorithm, entry["digest"].get<std::string>(), current.size};
    }

  FileIdentity read{};
  std::string hex = hash_file(resolved, &read);
  ++stats_.files_hashed;
  stats_.bytes_hashed += read.size;
  json entry = {
      {"path", resolved.string()}, {"device", read.device},         {"inode", read.inode}, {"size", read.size},
      {"mtime_ns", read.mtime_ns}, {"algorithm", kHashedAlgorithm}, {"digest", hex}};
  entries_.erase(
      std::remove_if(entries_.begin(), entries_.end(), [&](const json& e) { return e["path"] == entry["path"]; }),
      entries_.end());
  entries_.push_back(entry);
  save();
  return {kHashedAlgorithm, hex, read.size};
}

const char* const kWeightsFingerprintRule =
    "v2: SHA-256 of \"gemma-eval weights fingerprint v2\\n\" followed by weights_files as compact JSON; a file's "
    "digest is XXH3-128 of all its bytes (as xxh128sum prints it), or, for a Hugging Face cache blob, the sha256 "
    "the hub names it by";

WeightsFingerprint weights_fingerprint(const std::vector<fs::path>& files, FileDigestMemo& memo) {
  if (files.empty()) fail("weights fingerprint: the checkpoint has no safetensors files");
  std::vector<fs::path> ordered = files;
  std::sort(ordered.begin(), ordered.end(), [](const fs::path& a, const fs::path& b) {
    return std::make_pair(a.filename().string(), a.string()) < std::make_pair(b.filename().string(), b.string());
  });
  WeightsFingerprint result;
  result.files = nlohmann::ordered_json::array();
  for (const auto& file : ordered) {
    const FileDigest digest = memo.digest(file);
    result.files.push_back({{"file", file.filename().string()},
                            {"bytes", digest.bytes},
                            {digest.algorithm == kHubAlgorithm ? "sha256" : "xxh3_128", digest.hex}});
  }
  result.value =
      "v2:" + sha256_hex("gemma-eval weights fingerprint v2\n" +
                         result.files.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  return result;
}

}  // namespace gemma::evals
