#pragma once
// SHA-256 (FIPS 180-4), for prompt and data-file fingerprints in results.json. Self-contained so the
// torch-free evaluation core needs no crypto library.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gemma {

// Incremental hashing: update() any number of times, then hex_digest() once.
class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  // Finishes the hash and returns it as 64 lower-case hex digits; the object is spent afterwards.
  std::string hex_digest();

 private:
  void process_block(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
  bool finished_ = false;
};

std::string sha256_hex(std::string_view bytes);

// `bytes` as two lower-case hex digits each, as Python's bytes.hex() and hexdigest() write them.
std::string lower_hex(std::string_view bytes);

}  // namespace gemma
