// Atomic writes when the disk fills up: simulated with a file-size limit (RLIMIT_FSIZE) in a child
// process, the write must fail with an error naming the file and leave neither the target nor a
// temp file behind — the guarantee every results/samples writer relies on.
#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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
