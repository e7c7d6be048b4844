#pragma once
// NumPy .npy files (format 1.0; 2.0/3.0 headers are read too): the expected outputs of the reference
// fixtures, and the arrays the harness dumps for comparison. Little-endian, C order only.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gemma {

struct NpyArray {
  std::string descr;  // "<f4", "<f8", "<i4", "<i8", "|u1", "|b1"
  std::vector<int64_t> shape;
  std::string data;    // raw bytes, numel * item size
  std::string source;  // the file it was read from, for messages ("" if built in memory)

  // Each conversion accepts the descrs that convert without surprise and throws gemma::Error otherwise:
  std::vector<float> to_float32() const;  // <f4, <f8 (rounded)
  std::vector<int32_t> to_int32() const;  // <i4, <i8 (range-checked), |u1, |b1
  std::vector<uint8_t> to_bool() const;   // |b1, |u1 (non-zero -> 1)
  int64_t numel() const;                  // 1 for a scalar (shape ())
};

// Supports <f4 <f8 <i4 <i8 |u1 |b1; fortran_order True, big-endian or other types -> Error naming the file.
NpyArray read_npy(const std::filesystem::path& path);

// Standard header (v1.0, padded with spaces to a multiple of 64 bytes including the trailing \n), written atomically.
void write_npy_float32(const std::filesystem::path& path, const float* data, const std::vector<int64_t>& shape);

}  // namespace gemma
