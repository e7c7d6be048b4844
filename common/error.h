#pragma once
// One exception type for every user-facing failure: bad files, bad flags, bad rows.
// The message must say what was wrong and where (file, tensor, field, line), because the CLI prints
// it as-is and exits non-zero.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace gemma {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace gemma
