#pragma once
// Runs the built gemma-eval binary as a user would and captures what it prints.
#include "model_fixtures.h"  // first: see the note there

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "../support/temp_dir.h"

namespace gemma::test {

struct CliRun {
  int status = -1;
  std::string output;  // stdout and stderr together
};

// A shell word: single-quoted, with embedded quotes escaped.
inline std::string quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}
inline std::string quote(const std::filesystem::path& path) { return quote(path.string()); }

// `virtual_memory_kb` > 0 runs the binary under `ulimit -v` (its address space capped): the way to
// make an allocation fail on a machine with plenty of memory.
inline CliRun run_cli(const std::string& args, long virtual_memory_kb = 0) {
  std::string command = std::string(GEMMA_TEST_BINARY_DIR) + "/gemma-eval " + args + " 2>&1";
  if (virtual_memory_kb > 0) command = "(ulimit -v " + std::to_string(virtual_memory_kb) + "; " + command + ")";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  std::array<char, 4096> buffer{};
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// `gemma-eval ARGS --output DIR` run once per test process, DIR then copied to `into` (which must not
// exist). Catch reruns a TEST_CASE from its top for every SECTION: a set-up run made this way happens
// once, and each section still gets a folder of its own to change. `ARGS` and `into`'s name are the key,
// so two runs of one command (twins with their own run ids) stay two runs.
inline CliRun run_cli_once(const std::string& args, const std::filesystem::path& into) {
  struct Made {
    TempDir dir{"gemma-eval-run-once"};
    CliRun run;
  };
  static std::map<std::string, std::unique_ptr<Made>> made;
  auto& entry = made[args + "\n" + into.filename().string()];
  if (!entry) {
    entry = std::make_unique<Made>();
    entry->run = run_cli(args + " --output " + quote(entry->dir.path / "out"));
  }
  if (entry->run.status == 0)
    std::filesystem::copy(entry->dir.path / "out", into, std::filesystem::copy_options::recursive);
  return entry->run;
}

}  // namespace gemma::test
