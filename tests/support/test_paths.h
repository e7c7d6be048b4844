#pragma once
// Where the tests find the source tree and the build tree, resolved at run time rather than
// compiled in: the test objects then do not depend on the checkout's path, so a compiler cache
// (ccache) serves every clone and worktree of the same code. Force-included into every test
// translation unit by tests/CMakeLists.txt; GEMMA_TEST_SOURCE_DIR / GEMMA_TEST_BINARY_DIR expand
// to these calls.
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>

namespace gemma_test {

// The build folder: the test programs live in <build>/tests/.
inline std::string binary_dir() {
  static const std::string dir = [] {
    char path[4096];
    const ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
    if (length <= 0) throw std::runtime_error("test_paths: cannot read /proc/self/exe");
    std::string exe(path, static_cast<size_t>(length));
    for (int level = 0; level < 2; ++level) exe = exe.substr(0, exe.rfind('/'));
    return exe;
  }();
  return dir;
}

// A value CMake recorded in the build folder's cache (KEY:TYPE=value).
inline std::string cmake_cache_value(const std::string& key_and_type) {
  const std::string cache = binary_dir() + "/CMakeCache.txt";
  std::ifstream in(cache);
  const std::string key = key_and_type + "=";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  throw std::runtime_error("test_paths: no " + key_and_type + " in " + cache);
}

// The source folder.
inline std::string source_dir() {
  static const std::string dir = cmake_cache_value("CMAKE_HOME_DIRECTORY:INTERNAL");
  return dir;
}

// The shared fixtures and data (-DGEMMA_EVAL_SHARED_DIR, ../shared beside the checkout by default).
inline std::string shared_dir() {
  static const std::string dir = cmake_cache_value("GEMMA_EVAL_SHARED_DIR:PATH");
  return dir;
}

}  // namespace gemma_test
