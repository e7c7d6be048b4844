// Atomic writes when the disk fills up: simulated with a file-size limit (RLIMIT_FSIZE) in a child
// process, the write must fail with an error naming the file and leave neither the target nor a
// temp file behind — the guarantee every results/samples writer relies on; and an output folder replaced
// as one unit (OutputFolderWriter), whose previous files survive a failure byte for byte.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;

namespace {

// Runs write_file_atomic in a child limited to `limit_bytes` per file; returns the child's exit code:
// 0 = written, 1 = gemma::Error whose message names the file, 2 = anything else.
int write_with_file_size_limit(const fs::path& target, size_t bytes, rlim_t limit_bytes) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // exceed the limit -> EFBIG from write(), not a signal death
    struct rlimit limit = {limit_bytes, limit_bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      gemma::write_file_atomic(target, std::string(bytes, 'x'));
      ::_exit(0);
    } catch (const gemma::Error& e) {
      ::_exit(std::string(e.what()).find(target.filename().string()) != std::string::npos ? 1 : 2);
    } catch (...) {
      ::_exit(2);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

}  // namespace

TEST_CASE("a write that hits a full disk fails cleanly and leaves no file", "[files][errors]") {
  gemma::test::TempDir dir("gemma-eval-files");
  const fs::path target = dir.path / "results.json";
  CHECK(write_with_file_size_limit(target, 64 * 1024, 4096) == 1);
  CHECK_FALSE(fs::exists(target));
  CHECK(fs::is_empty(dir.path));  // no temp file left behind either

  // An earlier complete file survives a failed rewrite untouched.
  gemma::write_file_atomic(target, "{\"complete\": true}\n");
  CHECK(write_with_file_size_limit(target, 64 * 1024, 4096) == 1);
  CHECK(gemma::read_file(target) == "{\"complete\": true}\n");

  // Within the limit the same code writes normally.
  CHECK(write_with_file_size_limit(dir.path / "small.json", 100, 4096) == 0);
  CHECK(gemma::read_file(dir.path / "small.json") == std::string(100, 'x'));
}

namespace {

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool is_samples(const std::string& name) { return name.rfind("samples_", 0) == 0; }

}  // namespace

TEST_CASE("an output folder is replaced as one unit; a full disk part way leaves the previous files as they were",
          "[files][errors][output]") {
  gemma::test::TempDir dir("gemma-eval-output-unit");
  {
    gemma::OutputFolderWriter previous(dir.path);
    previous.add("samples_a.jsonl", "old a\n");
    previous.add("samples_b.jsonl", "old b\n");
    previous.add("results.json", "{\"old\": true}\n");
    previous.commit(is_samples);
  }
  REQUIRE(names_in(dir.path) == std::vector<std::string>{"results.json", "samples_a.jsonl", "samples_b.jsonl"});

  // A child limited to 4 KiB per file: samples_a fits, samples_b does not (EFBIG, as on a full disk).
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      gemma::OutputFolderWriter next(dir.path);
      next.add("samples_a.jsonl", "new a\n");
      next.add("samples_b.jsonl", std::string(64 * 1024, 'b'));
      next.add("results.json", "{\"new\": true}\n");
      next.commit(is_samples);
      ::_exit(0);
    } catch (const gemma::Error& e) {
      ::_exit(std::string(e.what()).find((dir.path / "samples_b.jsonl").string()) != std::string::npos ? 1 : 2);
    } catch (...) {
      ::_exit(2);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);  // failed, naming the file
  CHECK(names_in(dir.path) == std::vector<std::string>{"results.json", "samples_a.jsonl", "samples_b.jsonl"});
  CHECK(gemma::read_file(dir.path / "samples_a.jsonl") == "old a\n");
  CHECK(gemma::read_file(dir.path / "samples_b.jsonl") == "old b\n");
  CHECK(gemma::read_file(dir.path / "results.json") == "{\"old\": true}\n");

  // A commit replaces the set and deletes the old files it selects as stale, nothing else.
  gemma::write_file_atomic(dir.path / "notes.txt", "mine\n");
  {
    gemma::OutputFolderWriter next(dir.path);
    next.add("samples_a.jsonl", "new a\n");
    next.add("results.json", "{\"new\": true}\n");
    CHECK(gemma::read_file(dir.path / "samples_a.jsonl") == "old a\n");  // nothing moves before commit()
    next.commit(is_samples);
  }
  CHECK(names_in(dir.path) == std::vector<std::string>{"notes.txt", "results.json", "samples_a.jsonl"});
  CHECK(gemma::read_file(dir.path / "samples_a.jsonl") == "new a\n");
  CHECK(gemma::read_file(dir.path / "results.json") == "{\"new\": true}\n");
}

TEST_CASE("folders created for a failed command are removed again, only while empty", "[files][output]") {
  gemma::test::TempDir dir("gemma-eval-created-folders");
  const fs::path deep = dir.path / "a" / "b" / "c";
  {
    gemma::CreatedFolders created;
    std::error_code ec;
    created.create(deep, ec);
    CHECK_FALSE(ec);
    CHECK(fs::is_directory(deep));
  }
  CHECK(fs::is_empty(dir.path));  // all three removed
  {
    gemma::CreatedFolders created;
    std::error_code ec;
    created.create(deep, ec);
    gemma::write_file_atomic(dir.path / "a" / "b" / "kept.txt", "x");
  }
  CHECK(fs::exists(dir.path / "a" / "b" / "kept.txt"));  // c removed, b and a hold a file
  CHECK_FALSE(fs::exists(deep));
  {
    gemma::CreatedFolders created;
    std::error_code ec;
    created.create(deep, ec);
    created.keep();
  }
  CHECK(fs::is_directory(deep));
  {
    // An output folder that a writer created and never committed to is removed again.
    const fs::path out = dir.path / "new-output";
    {
      gemma::OutputFolderWriter writer(out);
      writer.add("results.json", "{}");
    }
    CHECK_FALSE(fs::exists(out));
  }
}
