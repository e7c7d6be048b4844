#pragma once
// The safetensors file format (huggingface/safetensors): an 8-byte little-endian header length N,
// a JSON header of N bytes, then the raw tensor bytes. Files are memory-mapped read-only and checked
// completely at open, with the same rules as the reference Rust reader, so every later access can
// trust the offsets. Torch-free: the model layer turns TensorViews into tensors.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gemma {

enum class DType { Bool, U8, I8, I16, U16, F16, Bf16, I32, U32, F32, F64, I64, U64, F8E4M3, F8E5M2 };

size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);  // as written in the header: "BF16", "F8_E4M3", ...
std::optional<DType> parse_dtype(std::string_view name);

// Product of the dims; 1 for a scalar (shape []).
int64_t shape_numel(const std::vector<int64_t>& shape);
// "[262144, 64]": how shapes appear in messages.
std::string shape_to_string(const std::vector<int64_t>& shape);

// A tensor inside a mapped file (no copy). Valid as long as its SafetensorsFile lives.
struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // not necessarily aligned: read it with memcpy
  size_t nbytes = 0;
  std::string file;  // path it lives in (for messages)
  int64_t numel() const;
};

// A memory-mapped (PROT_READ, MAP_PRIVATE) safetensors file, validated completely at open.
class SafetensorsFile {
 public:
  // Throws gemma::Error naming the file (and the tensor, where one is involved) for any malformed input.
  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);

  const std::vector<TensorView>& tensors() const;              // sorted by name
  const TensorView* find(std::string_view name) const;         // nullptr if absent
  const std::map<std::string, std::string>& metadata() const;  // the "__metadata__" object
  const std::filesystem::path& path() const;

  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();  // munmap

 private:
  SafetensorsFile() = default;

  std::filesystem::path path_;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Converts F32 / BF16 / F16 data to float32 into out[numel]; other dtypes -> Error naming tensor and file.
void convert_to_float32(const TensorView& tensor, float* out);

struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::string bytes;  // little-endian, C order, exactly numel * dtype_size bytes
};

// Writes a valid safetensors file atomically: header JSON padded with spaces to a multiple of 8, data
// contiguous and ordered like the Rust writer (larger dtypes first, then by name).
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

uint16_t float_to_bf16_bits(float value);  // round-to-nearest-even, like torch (NaN -> 0x7FC0)
float bf16_bits_to_float(uint16_t bits);
float f16_bits_to_float(uint16_t bits);  // IEEE binary16, subnormals, inf and NaN included

}  // namespace gemma
