#pragma once
// The identity of a checkpoint's weights: a digest of every byte of every safetensors file, remembered
// per file so a rerun does not read 50 GB again. Torch-free.
//
// Per file: XXH3-128 (libxxhash) of all its bytes, written as `xxh128sum` prints it; hashed once and
// remembered in a small memo file keyed by (path, device, inode, size, mtime in ns). A file inside a
// Hugging Face hub cache whose resolved path is models--*/blobs/<64 hex> is named by its SHA-256 (the
// hub stores LFS files under their sha256): that name is used instead of hashing. This trusts the
// hub's naming; a blob edited in place through its snapshot link keeps its name and so its digest.
// The fingerprint is SHA-256 over "gemma-eval weights fingerprint v2" and, per file in name order,
// its name, size and digest; it is written "v2:<64 hex>", so a fingerprint of the earlier sampled rule
// (64 bare hex digits) never equals a new one: caches and comparisons see a different model.
// The same bytes read from a hub cache (sha256) and from a copy elsewhere (xxh3-128) get different
// fingerprints: a cache miss or an "incomparable" more, never a wrong equality.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gemma::evals {

// XXH3-128 of every byte of `file`, as 32 lower-case hex digits in xxHash's canonical (big-endian)
// form, i.e. what `xxh128sum FILE` prints. Throws gemma::Error naming the file when it cannot be read
// or changes (size or mtime) while it is read.
std::string xxh3_128_file_hex(const std::filesystem::path& file);

// The SHA-256 a Hugging Face hub cache names the file by, when `resolved` (symlinks already followed)
// is <cache>/models--<org>--<name>/blobs/<64 lower-case hex>; "" otherwise.
std::string hub_blob_sha256(const std::filesystem::path& resolved);

struct FileDigest {
  std::string algorithm;  // "xxh3-128" (hashed here) or "sha256" (the hub blob's name)
  std::string hex;
  uint64_t bytes = 0;  // the file's size
};

// Where digests are remembered unless told otherwise: $GEMMA_EVAL_CACHE_HOME/file-digests.json, else
// $XDG_CACHE_HOME/gemma-eval/file-digests.json, else ~/.cache/gemma-eval/file-digests.json; empty
// when none of these variables is set (then nothing is remembered).
std::filesystem::path default_digest_memo_path();

// File digests remembered across runs in one JSON file. The file carries a SHA-256 of its entries: a
// file that does not parse, is of another format or fails that check is ignored with a warning and
// rewritten at the next save, never trusted. An entry is used only while the file's path, device,
// inode, size and mtime (ns) are all unchanged; a writer that restores the mtime of a file it changed
// in place with the same size defeats this (as it defeats make and rsync). Saves are atomic (temp file
// + rename) and merge with what another process saved meanwhile; a memo that cannot be written is a
// warning, not an error (the digest itself is still exact).
class FileDigestMemo {
 public:
  struct Stats {
    size_t memo_hits = 0;     // digests taken from the memo
    size_t files_hashed = 0;  // files read and hashed
    uint64_t bytes_hashed = 0;
    size_t hub_names = 0;  // digests taken from a hub blob's name
  };
  using Warn = std::function<void(const std::string&)>;

  // `memo_file` empty: nothing is remembered beyond this object. `warn` defaults to "gemma-eval: warning: ..." on
  // stderr.
  explicit FileDigestMemo(std::filesystem::path memo_file, Warn warn = nullptr);

  // The digest of `file` (a link stub is followed, then symlinks are resolved).
  FileDigest digest(const std::filesystem::path& file);

  const Stats& stats() const { return stats_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  nlohmann::json load(bool warn_if_corrupt) const;  // the entries array ([] when none or unusable)
  void save();

  std::filesystem::path path_;
  Warn warn_;
  nlohmann::json entries_ = nlohmann::json::array();
  bool save_failed_ = false;
  Stats stats_;
};

struct WeightsFingerprint {
  std::string value;             // "v2:<64 hex>"
  nlohmann::ordered_json files;  // [{"file", "bytes", "xxh3_128" or "sha256"}], in name order
};

// The fingerprint of a checkpoint made of `files` (every safetensors file of it, any order).
WeightsFingerprint weights_fingerprint(const std::vector<std::filesystem::path>& files, FileDigestMemo& memo);

// How the fingerprint is computed, as results.json records it.
extern const char* const kWeightsFingerprintRule;

}  // namespace gemma::evals
