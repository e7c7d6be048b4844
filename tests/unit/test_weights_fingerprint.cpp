// The weights fingerprint: every byte of every file (a change anywhere in a tensor changes it, also
// where the earlier rule only sampled 64 KiB every 64 MiB), hashed once per file and remembered by
// (path, device, inode, size, mtime), a damaged memo never trusted, and a Hugging Face blob named by
// its sha256 used by that name.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "evals/weights_fingerprint.h"
#include "tests/support/temp_dir.h"

using namespace gemma;
using namespace gemma::evals;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Deterministic non-constant bytes, so a flipped byte anywhere is a real change.
std::string pattern_bytes(size_t n, unsigned seed) {
  std::string bytes(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : bytes) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = static_cast<char>(x);
  }
  return bytes;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

struct timespec mtime_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mtim;
}

void set_mtime(const fs::path& path, struct timespec mtime) {
  struct timespec times[2] = {mtime, mtime};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

// A memo that records its warnings instead of printing them.
struct QuietMemo {
  std::vector<std::string> warnings;
  FileDigestMemo memo;
  explicit QuietMemo(const fs::path& path)
      : memo(path, [this](const std::string& message) { warnings.push_back(message); }) {}
};

}  // namespace

TEST_CASE("xxh3_128_file_hex is XXH3-128 of every byte, as xxh128sum prints it", "[weights_fingerprint]") {
  test::TempDir dir("gemma-eval-fingerprint");
  write_bytes(dir.path / "empty", "");
  write_bytes(dir.path / "abc", "abc");
  // xxHash's own test vectors (XXH3_128bits: high64 then low64, big-endian).
  CHECK(xxh3_128_file_hex(dir.path / "empty") == "99aa06d3014798d86001c324468d497f");
  CHECK(xxh3_128_file_hex(dir.path / "abc") == "06b05ab6733a618578af5f94892f3950");
  CHECK_THAT(message_of([&] { xxh3_128_file_hex(dir.path / "missing"); }), Contains("missing"));
}

TEST_CASE("weights fingerprint: a byte changed in the middle of a tensor, far from the old sampled windows, changes it",
          "[weights_fingerprint]") {
  test::TempDir dir("gemma-eval-fingerprint");
  QuietMemo quiet(dir.path / "memo" / "file-digests.json");
  // Two shards; the first is 3 MiB, so its middle lies well outside the 64 KiB the old rule read.
  const std::string shard1 = pattern_bytes(3 << 20, 1), shard2 = pattern_bytes(100000, 2);
  fs::create_directories(dir.path / "a");
  write_bytes(dir.path / "a" / "model-00001-of-00002.safetensors", shard1);
  write_bytes(dir.path / "a" / "model-00002-of-00002.safetensors", shard2);
  fs::create_directories(dir.path / "b");
  std::string changed = shard1;
  changed[changed.size() / 2] ^= 0x01;  // one bit of one weight
  write_bytes(dir.path / "b" / "model-00001-of-00002.safetensors", changed);
  write_bytes(dir.path / "b" / "model-00002-of-00002.safetensors", shard2);

  auto files_in = [&](const char* name) {
    return std::vector<fs::path>{dir.path / name / "model-00002-of-00002.safetensors",
                                 dir.path / name / "model-00001-of-00002.safetensors"};
  };
  const WeightsFingerprint a = weights_fingerprint(files_in("a"), quiet.memo);
  const WeightsFingerprint b = weights_fingerprint(files_in("b"), quiet.memo);
  CHECK(a.value != b.value);
  // A new format: "v2:" and 64 hex digits, never equal to a fingerprint of the old rule (64 bare hex digits).
  CHECK(a.value.rfind("v2:", 0) == 0);
  CHECK(a.value.size() == 3 + 64);
  // The files in name order, whatever order they were given in, each with its size and digest.
  REQUIRE(a.files.size() == 2);
  CHECK(a.files[0]["file"] == "model-00001-of-00002.safetensors");
  CHECK(a.files[0]["bytes"] == shard1.size());
  CHECK(a.files[0]["xxh3_128"] == xxh3_128_file_hex(dir.path / "a" / "model-00001-of-00002.safetensors"));
  CHECK(a.files[1]["file"] == "model-00002-of-00002.safetensors");
  CHECK(a.files[0]["xxh3_128"] != b.files[0]["xxh3_128"]);
  CHECK(a.files[1] == b.files[1]);
  // The same bytes elsewhere give the same fingerprint (names, sizes and contents, not paths).
  fs::create_directories(dir.path / "c");
  fs::copy_file(dir.path / "a" / "model-00001-of-00002.safetensors",
                dir.path / "c" / "model-00001-of-00002.safetensors");
  fs::copy_file(dir.path / "a" / "model-00002-of-00002.safetensors",
                dir.path / "c" / "model-00002-of-00002.safetensors");
  CHECK(weights_fingerprint(files_in("c"), quiet.memo).value == a.value);
  CHECK(quiet.warnings.empty());
  CHECK_THAT(message_of([&] { weights_fingerprint({}, quiet.memo); }), Contains("no safetensors files"));
}

TEST_CASE("weights fingerprint: a rerun takes each digest from the memo until the file's size or mtime changes",
          "[weights_fingerprint][memo]") {
  test::TempDir dir("gemma-eval-fingerprint");
  const fs::path memo_path = dir.path / "cache" / "file-digests.json";
  const fs::path weights = dir.path / "model.safetensors";
  const std::string original = pattern_bytes(1 << 20, 3);
  write_bytes(weights, original);
  std::string first;
  {
    QuietMemo run1(memo_path);
    first = run1.memo.digest(weights).hex;
    CHECK(run1.memo.stats().files_hashed == 1);
    CHECK(run1.memo.stats().bytes_hashed == original.size());
    CHECK(run1.memo.digest(weights).hex == first);  // within the run too
    CHECK(run1.memo.stats().files_hashed == 1);
    CHECK(run1.warnings.empty());
  }
  REQUIRE(fs::exists(memo_path));

  // A second run (a new memo object reading the file) does not read the weights again.
  QuietMemo run2(memo_path);
  CHECK(run2.memo.digest(weights).hex == first);
  CHECK(run2.memo.stats().memo_hits == 1);
  CHECK(run2.memo.stats().files_hashed == 0);

  // Proof that the memo, not the bytes, answered: other bytes of the same size with the mtime put
  // back give the remembered digest...
  const auto mtime = mtime_of(weights);
  std::string edited = original;
  edited[edited.size() / 2] ^= 0x40;
  write_bytes(weights, edited);
  set_mtime(weights, mtime);
  QuietMemo run3(memo_path);
  CHECK(run3.memo.digest(weights).hex == first);
  CHECK(run3.memo.stats().files_hashed == 0);

  // ...and a new mtime (touch) makes it hash again and see the change.
  struct timespec later = mtime;
  later.tv_sec += 10;
  set_mtime(weights, later);
  QuietMemo run4(memo_path);
  const std::string rehashed = run4.memo.digest(weights).hex;
  CHECK(run4.memo.stats().files_hashed == 1);
  CHECK(rehashed != first);
  CHECK(rehashed == xxh3_128_file_hex(weights));

  // Another size: hashed again too.
  write_bytes(weights, original + "x");
  set_mtime(weights, later);
  QuietMemo run5(memo_path);
  CHECK(run5.memo.digest(weights).hex == xxh3_128_file_hex(weights));
  CHECK(run5.memo.stats().files_hashed == 1);

  // The memo keeps one entry per file (the stale one replaced), under the resolved path.
  const auto memo = nlohmann::json::parse(read_file(memo_path));
  REQUIRE(memo["entries"].size() == 1);
  CHECK(memo["entries"][0]["path"] == fs::canonical(weights).string());
}

TEST_CASE("weights fingerprint: a damaged memo is ignored with a warning and rewritten, never trusted",
          "[weights_fingerprint][memo]") {
  test::TempDir dir("gemma-eval-fingerprint");
  const fs::path memo_path = dir.path / "file-digests.json";
  const fs::path weights = dir.path / "model.safetensors";
  write_bytes(weights, pattern_bytes(300000, 4));
  const std::string truth = xxh3_128_file_hex(weights);
  {
    QuietMemo setup(memo_path);
    setup.memo.digest(weights);
  }
  const std::string good_memo = read_file(memo_path);

  auto check_ignored_then_rewritten = [&](const std::string& damaged, const std::string& why) {
    write_file_atomic(memo_path, damaged);
    QuietMemo run(memo_path);
    CHECK(run.memo.digest(weights).hex == truth);
    CHECK(run.memo.stats().files_hashed == 1);  // hashed, not taken from the damaged memo
    REQUIRE(run.warnings.size() == 1);
    CHECK_THAT(run.warnings[0], Contains(memo_path.string()) && Contains(why));
    QuietMemo next(memo_path);  // rewritten: usable again
    CHECK(next.memo.digest(weights).hex == truth);
    CHECK(next.memo.stats().memo_hits == 1);
    CHECK(next.warnings.empty());
  };
  SECTION("truncated") { check_ignored_then_rewritten(good_memo.substr(0, good_memo.size() / 2), "parse"); }
  SECTION("not a memo") { check_ignored_then_rewritten("{\"entries\": []}", "not a gemma-eval file digest memo"); }
  SECTION("a digest altered: the checksum catches it") {
    auto memo = nlohmann::ordered_json::parse(good_memo);
    memo["entries"][0]["digest"] = std::string(32, '0');
    check_ignored_then_rewritten(memo.dump(), "checksum");
  }
  SECTION("an entry of the wrong shape, checksum recomputed") {
    auto memo = nlohmann::ordered_json::parse(good_memo);
    memo["entries"][0]["digest"] = "not hex";
    memo["entries_sha256"] = sha256_hex(memo["entries"].dump());
    check_ignored_then_rewritten(memo.dump(), "digest");
  }
}

TEST_CASE("weights fingerprint: a memo that cannot be written is a warning; digests stay exact",
          "[weights_fingerprint][memo]") {
  test::TempDir dir("gemma-eval-fingerprint");
  write_bytes(dir.path / "not-a-folder", "x");
  const fs::path weights = dir.path / "model.safetensors";
  write_bytes(weights, pattern_bytes(5000, 5));
  QuietMemo run(dir.path / "not-a-folder" / "file-digests.json");
  CHECK(run.memo.digest(weights).hex == xxh3_128_file_hex(weights));
  REQUIRE(run.warnings.size() == 1);
  CHECK_THAT(run.warnings[0], Contains("cannot remember weight digests"));
  FileDigestMemo none(""), none_again("");  // no memo file: each object hashes the file itself
  none.digest(weights);
  none_again.digest(weights);
  CHECK(none.stats().files_hashed == 1);
  CHECK(none_again.stats().files_hashed == 1);
}

TEST_CASE("weights fingerprint: a Hugging Face cache blob is identified by its sha256 name, without reading it",
          "[weights_fingerprint][hub]") {
  test::TempDir dir("gemma-eval-fingerprint");
  const std::string sha = "3f2a" + std::string(60, 'b');
  const fs::path repo = dir.path / "hub" / "models--google--gemma-3-1b-pt";
  fs::create_directories(repo / "blobs");
  fs::create_directories(repo / "snapshots" / "abc123");
  write_bytes(repo / "blobs" / sha, pattern_bytes(70000, 6));
  const fs::path snapshot_file = repo / "snapshots" / "abc123" / "model.safetensors";
  fs::create_symlink("../../blobs/" + sha, snapshot_file);  // as huggingface_hub links them

  QuietMemo quiet(dir.path / "memo.json");
  const FileDigest digest = quiet.memo.digest(snapshot_file);
  CHECK(digest.algorithm == "sha256");
  CHECK(digest.hex == sha);
  CHECK(digest.bytes == 70000);
  CHECK(quiet.memo.stats().hub_names == 1);
  CHECK(quiet.memo.stats().files_hashed == 0);
  const auto fingerprint = weights_fingerprint({snapshot_file}, quiet.memo);
  CHECK(fingerprint.files[0]["file"] == "model.safetensors");
  CHECK(fingerprint.files[0]["sha256"] == sha);

  CHECK(hub_blob_sha256(repo / "blobs" / sha) == sha);
  // Not a hub blob: a git blob name (40 hex, small files), upper case, another folder, a dataset repo.
  CHECK(hub_blob_sha256(repo / "blobs" / std::string(40, 'a')).empty());
  CHECK(hub_blob_sha256(repo / "blobs" / std::string(64, 'A')).empty());
  CHECK(hub_blob_sha256(repo / "snapshots" / sha).empty());
  CHECK(hub_blob_sha256(dir.path / "hub" / "datasets--org--name" / "blobs" / sha).empty());
  // A 64-hex name outside a hub cache is hashed like any file.
  write_bytes(dir.path / sha, "weights");
  CHECK(quiet.memo.digest(dir.path / sha).algorithm == "xxh3-128");
}

TEST_CASE("weights fingerprint: a link stub is followed to the weights it names", "[weights_fingerprint]") {
  test::TempDir dir("gemma-eval-fingerprint");
  write_bytes(dir.path / "real.safetensors", pattern_bytes(10000, 7));
  write_bytes(dir.path / "model.safetensors", "real.safetensors\n");  // git with core.symlinks=false
  FileDigestMemo memo("");
  CHECK(memo.digest(dir.path / "model.safetensors").hex == xxh3_128_file_hex(dir.path / "real.safetensors"));
  CHECK(memo.digest(dir.path / "model.safetensors").bytes == 10000);
}

TEST_CASE("weights fingerprint: the memo lives in the user's cache folder, GEMMA_EVAL_CACHE_HOME first",
          "[weights_fingerprint][memo]") {
  struct SavedVariable {
    std::string name;
    bool set;
    std::string value;
    explicit SavedVariable(const char* n) : name(n), set(std::getenv(n) != nullptr), value(set ? std::getenv(n) : "") {}
    ~SavedVariable() { set ? ::setenv(name.c_str(), value.c_str(), 1) : ::unsetenv(name.c_str()); }
  } own("GEMMA_EVAL_CACHE_HOME"), xdg("XDG_CACHE_HOME"), home("HOME");
  ::setenv("HOME", "/home/u", 1);
  ::unsetenv("XDG_CACHE_HOME");
  ::unsetenv("GEMMA_EVAL_CACHE_HOME");
  CHECK(default_digest_memo_path() == fs::path("/home/u/.cache/gemma-eval/file-digests.json"));
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  CHECK(default_digest_memo_path() == fs::path("/xdg/gemma-eval/file-digests.json"));
  ::setenv("GEMMA_EVAL_CACHE_HOME", "/tmp/mine", 1);
  CHECK(default_digest_memo_path() == fs::path("/tmp/mine/file-digests.json"));
  ::unsetenv("GEMMA_EVAL_CACHE_HOME");
  ::unsetenv("XDG_CACHE_HOME");
  ::unsetenv("HOME");
  CHECK(default_digest_memo_path().empty());
}
