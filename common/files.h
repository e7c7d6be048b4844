#pragma once
// Small file helpers shared by every layer: whole-file reads with clear errors, and atomic writes
// (temp file in the same folder + rename), so a failed run never leaves a half-written output.
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace gemma {

// Reads a whole file; throws gemma::Error naming the path when it is missing or unreadable.
std::string read_file(const std::filesystem::path& path);

// Writes `bytes` to `path` atomically: a temp file beside it, flushed, then renamed over `path`.
// Throws gemma::Error naming the path on any failure and removes the temp file.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Folders created for a command's outputs, removed again (innermost first, and only while empty) when
// the object goes away before keep(): a command that fails leaves no empty folder behind.
class CreatedFolders {
 public:
  CreatedFolders() = default;
  CreatedFolders(const CreatedFolders&) = delete;
  CreatedFolders& operator=(const CreatedFolders&) = delete;
  ~CreatedFolders();

  // Creates `dir` and its missing parents, remembering which did not exist; `ec` is set on failure.
  void create(const std::filesystem::path& dir, std::error_code& ec);
  void keep() { keep_ = true; }

 private:
  std::vector<std::filesystem::path> created_;  // outermost first
  bool keep_ = false;
};

// Replaces a set of files in an output folder as one unit, so a reader never finds new files beside
// old ones after a failure. add() writes each file (flushed to disk) into a fresh staging folder inside
// `dir` (the same filesystem, so rename(2) can move it); nothing in `dir` changes until commit(), which
// renames the staged files over the old ones in the order they were added (the caller adds the file
// that marks the set complete, results.json, last), then deletes the old files `is_stale` selects that
// the new set does not hold. A rename failing part way puts back the files already replaced (from
// hard-link backups). Without commit() (an error, an exception) the staging folder is removed, and so
// is `dir` when this object created it and it is still empty. Errors are gemma::Error naming the path.
class OutputFolderWriter {
 public:
  explicit OutputFolderWriter(std::filesystem::path dir);
  OutputFolderWriter(const OutputFolderWriter&) = delete;
  OutputFolderWriter& operator=(const OutputFolderWriter&) = delete;
  ~OutputFolderWriter();

  void add(const std::string& name, std::string_view bytes);
  // For a file that a writer produces at a path (an .npy file): `write` writes it into the staging folder.
  void add_written(const std::string& name, const std::function<void(const std::filesystem::path&)>& write);
  void commit(const std::function<bool(const std::string& name)>& is_stale);

 private:
  std::filesystem::path dir_, staging_;
  std::vector<std::string> names_;
  CreatedFolders created_;
};

// A random 128-bit identifier as 32 lowercase hex digits (run ids).
std::string random_hex_id();

// Some checkouts store a symbolic link as a small text file holding the link target (git with
// core.symlinks=false). If `path` is such a stub and the target exists, returns the target.
std::filesystem::path follow_link_stub(const std::filesystem::path& path);

}  // namespace gemma
