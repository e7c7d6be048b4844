#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "common/error.h"

namespace gemma {
namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("file not found: {}", path.string());
  if (fs::is_directory(path, ec)) fail("expected a file but found a directory: {}", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open {}: {}", path.string(), std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail("error while reading {}", path.string());
  return buffer.str();
}

namespace {

// Writes `bytes` to `file` and flushes it to disk; on failure removes `file` and throws naming `shown`
// (the path the user asked for, not the temporary one).
void write_synced(const fs::path& file, std::string_view bytes, const fs::path& shown) {
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (!f) fail("cannot write {}: {}", shown.string(), std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  int saved_errno = errno;
  ok = (std::fflush(f) == 0) && ok;
  if (ok) ok = ::fsync(::fileno(f)) == 0 || errno == EINVAL;
  if (!ok) saved_errno = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(file.c_str());
    fail("cannot write {}: {}", shown.string(), std::strerror(saved_errno ? saved_errno : EIO));
  }
}

// A name unlikely to meet another process's: pid and 32 random bits.
std::string unique_suffix() {
  std::random_device rd;
  return fmt::format("{}-{:x}", ::getpid(), rd());
}

// Makes renames inside `dir` durable (best effort: some filesystems refuse fsync on a folder).
void sync_folder(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  fs::path tmp = dir / fmt::format(".{}.tmp-{}", path.filename().string(), unique_suffix());
  write_synced(tmp, bytes, path);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail("cannot write {}: {}", path.string(), ec.message());
  }
}

CreatedFolders::~CreatedFolders() {
  if (keep_) return;
  std::error_code ec;
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) fs::remove(*it, ec);  // fails while not empty
}

void CreatedFolders::create(const fs::path& dir, std::error_code& ec) {
  fs::path normal = dir.lexically_normal();
  if (normal.has_parent_path() && normal.filename().empty()) normal = normal.parent_path();  // "out/" -> "out"
  std::vector<fs::path> missing;
  for (fs::path p = normal; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  ec.clear();
  fs::create_directories(normal, ec);
  created_.insert(created_.end(), missing.rbegin(), missing.rend());
}

OutputFolderWriter::OutputFolderWriter(fs::path dir) : dir_(dir.empty() ? fs::path(".") : std::move(dir)) {
  std::error_code ec;
  created_.create(dir_, ec);
  if (ec) fail("cannot create the output folder {}: {}", dir_.string(), ec.message());
  if (!fs::is_directory(dir_, ec))
    fail("cannot use the output folder {}: it exists and is not a folder", dir_.string());
  staging_ = dir_ / (".gemma-eval-staging-" + unique_suffix());
  if (!fs::create_directory(staging_, ec) || ec)
    fail("cannot write into the output folder {}: {}", dir_.string(), ec ? ec.message() : "the staging folder exists");
}

OutputFolderWriter::~OutputFolderWriter() {
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

void OutputFolderWriter::add(const std::string& name, std::string_view bytes) {
  add_written(name, [&](const fs::path& staged) { write_synced(staged, bytes, dir_ / name); });
}

void OutputFolderWriter::add_written(const std::string& name, const std::function<void(const fs::path&)>& write) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    fail("internal error: output file name '{}' is not a plain file name", name);
  if (std::find(names_.begin(), names_.end(), name) != names_.end())
    fail("internal error: {} is written twice into {}", name, dir_.string());
  write(staging_ / name);
  names_.push_back(name);
}

void OutputFolderWriter::commit(const std::function<bool(const std::string& name)>& is_stale) {
  std::error_code ec;
  for (const auto& name : names_)
    if (fs::is_directory(fs::symlink_status(dir_ / name, ec)))
      fail("cannot write {}: a folder is in the way", (dir_ / name).string());

  // Hard links to the files about to be replaced, so a failed rename can put them back. A filesystem
  // without hard links gets no backup (renames within one folder fail only in unusual cases there).
  const fs::path previous = staging_ / ".previous";
  fs::create_directory(previous, ec);
  std::vector<bool> backed_up(names_.size(), false);
  for (size_t i = 0; i < names_.size() && !ec; ++i)
    backed_up[i] = ::link((dir_ / names_[i]).c_str(), (previous / names_[i]).c_str()) == 0;

  for (size_t i = 0; i < names_.size(); ++i) {
    if (::rename((staging_ / names_[i]).c_str(), (dir_ / names_[i]).c_str()) == 0) continue;
    const int saved_errno = errno;
    for (size_t j = 0; j < i; ++j) {
      if (backed_up[j])
        ::rename((previous / names_[j]).c_str(), (dir_ / names_[j]).c_str());
      else
        ::unlink((dir_ / names_[j]).c_str());
    }
    fail("cannot write {}: {} (the files already replaced were put back)", (dir_ / names_[i]).string(),
         std::strerror(saved_errno));
  }
  created_.keep();

  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && is_stale(name) && std::find(names_.begin(), names_.end(), name) == names_.end())
      stale.push_back(entry.path());
  }
  fs::remove_all(staging_, ec);
  for (const auto& path : stale) {
    fs::remove(path, ec);
    if (ec)
      fail("wrote the new files into {} but could not remove {} of the previous run: {}", dir_.string(), path.string(),
           ec.message());
  }
  sync_folder(dir_);
}

std::string random_hex_id() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

fs::path follow_link_stub(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return path;
  auto size = fs::file_size(path, ec);
  if (ec || size == 0 || size > 4096) return path;
  std::string text = read_file(path);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.find('\n') != std::string::npos || text.find('\0') != std::string::npos) return path;
  fs::path target = fs::path(text).is_absolute() ? fs::path(text) : path.parent_path() / text;
  if (fs::is_regular_file(target, ec)) return target;
  return path;
}

}  // namespace gemma
