#pragma once
// Small file helpers shared by every layer: whole-file reads with clear errors, and atomic writes
// (temp file in the same folder + rename), so a failed run never leaves a half-written output.
#include <filesystem>
#include <string>
#include <string_view>

namespace gemma {

// Reads a whole file; throws gemma::Error naming the path when it is missing or unreadable.
std::string read_file(const std::filesystem::path& path);

// Writes `bytes` to `path` atomically: a temp file beside it, flushed, then renamed over `path`.
// Throws gemma::Error naming the path on any failure and removes the temp file.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Some checkouts store a symbolic link as a small text file holding the link target (git with
// core.symlinks=false). If `path` is such a stub and the target exists, returns the target.
std::filesystem::path follow_link_stub(const std::filesystem::path& path);

}  // namespace gemma
