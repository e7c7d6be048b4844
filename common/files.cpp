#include "common/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>

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

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::random_device rd;
  fs::path tmp = dir / fmt::format(".{}.tmp-{}-{:x}", path.filename().string(), ::getpid(), rd());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail("cannot write {}: {}", path.string(), std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  int saved_errno = errno;
  ok = (std::fflush(f) == 0) && ok;
  if (ok) ok = ::fsync(::fileno(f)) == 0 || errno == EINVAL;
  if (!ok) saved_errno = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    fail("cannot write {}: {}", path.string(), std::strerror(saved_errno ? saved_errno : EIO));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail("cannot write {}: {}", path.string(), ec.message());
  }
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
