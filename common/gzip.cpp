#include "common/gzip.h"

#include <zlib.h>

#include "common/error.h"

namespace gemma {

std::string gunzip(std::string_view bytes, const std::string& path) {
  z_stream stream{};
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) fail("{}: inflateInit2 failed", path);
  std::string text;
  char chunk[65536];
  int code = Z_OK;
  while (code != Z_STREAM_END || stream.avail_in > 0) {
    if (code == Z_STREAM_END) inflateReset(&stream);  // another gzip member follows
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof chunk;
    code = inflate(&stream, Z_NO_FLUSH);
    text.append(chunk, sizeof chunk - stream.avail_out);
    if (code != Z_OK && code != Z_STREAM_END) {
      const std::string why =
          code == Z_BUF_ERROR ? "truncated" : (stream.msg ? stream.msg : "error " + std::to_string(code));
      inflateEnd(&stream);
      fail("{}: not a valid gzip file: {}", path, why);
    }
  }
  inflateEnd(&stream);
  return text;
}

}  // namespace gemma
