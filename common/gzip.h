#pragma once
// gzip-compressed data files (HumanEval ships as HumanEval.jsonl.gz): zlib's inflate, every member of a
// multi-member file as `gzip -d` reads them. Torch-free.
#include <string>
#include <string_view>

namespace gemma {

// The decompressed bytes; a truncated or corrupt stream is a gemma::Error naming `path`.
std::string gunzip(std::string_view bytes, const std::string& path);

}  // namespace gemma
