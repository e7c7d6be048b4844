#pragma once
// Whole files as bytes, for the tests that write inputs and read back what gemma-eval wrote.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace gemma::test {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace gemma::test
