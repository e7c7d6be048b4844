#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <tuple>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors and .npy data are little-endian and read in place");

namespace gemma {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t size;
};

constexpr std::array<DTypeInfo, 15> kDTypes = {{
    {DType::Bool, "BOOL", 1},
    {DType::U8, "U8", 1},
    {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},
    {DType::U16, "U16", 2},
    {DType::F16, "F16", 2},
    {DType::Bf16, "BF16", 2},
    {DType::I32, "I32", 4},
    {DType::U32, "U32", 4},
    {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},
    {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},
    {DType::F8E4M3, "F8_E4M3", 1},
    {DType::F8E5M2, "F8_E5M2", 1},
}};

const DTypeInfo& dtype_info(DType dtype) {
  for (const auto& info : kDTypes)
    if (info.dtype == dtype) return info;
  fail("internal error: unknown DType value {}", static_cast<int>(dtype));
}

// The reference reader refuses headers above 100 MB (safetensors MAX_HEADER_SIZE).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// A real header nests 3 levels deep. nlohmann::json dumps (in messages) and copies values recursively,
// so a header of deeply nested brackets would overflow the stack: refuse it while parsing.
constexpr int kMaxHeaderNesting = 64;

[[noreturn]] void invalid_file(const fs::path& path, const std::string& detail) {
  fail("invalid safetensors file {}: {}", path.string(), detail);
}

[[noreturn]] void invalid_tensor(const fs::path& path, const std::string& tensor, const std::string& detail) {
  fail("invalid safetensors file {}: tensor '{}': {}", path.string(), tensor, detail);
}

uint64_t read_u64_le(const uint8_t* bytes) {
  uint64_t value;
  std::memcpy(&value, bytes, sizeof(value));
  return value;
}

// Where a tensor's bytes sit, relative to the start of the data section.
struct ByteRange {
  uint64_t begin = 0, end = 0;
};

struct ParsedEntry {
  TensorView view;
  ByteRange range;
};

// nlohmann keeps only the last of duplicate keys; a duplicated tensor name must be refused instead.
json parse_header_json(const fs::path& path, std::string_view header) {
  std::vector<std::string> top_level_keys;
  auto record_keys = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxHeaderNesting)
      invalid_file(path, fmt::format("the header nests deeper than {} levels", kMaxHeaderNesting));
    if (depth == 1 && event == json::parse_event_t::key) top_level_keys.push_back(parsed.get<std::string>());
    return true;
  };
  json parsed;
  try {
    parsed = json::parse(header.begin(), header.end(), record_keys);
  } catch (const json::exception& e) {
    invalid_file(path, fmt::format("the header is not valid UTF-8 JSON ({})", e.what()));
  }
  if (!parsed.is_object())
    invalid_file(path, fmt::format("the header is a JSON {}, not an object", parsed.type_name()));
  std::sort(top_level_keys.begin(), top_level_keys.end());
  auto duplicate = std::adjacent_find(top_level_keys.begin(), top_level_keys.end());
  if (duplicate != top_level_keys.end()) invalid_tensor(path, *duplicate, "the name appears twice in the header");
  return parsed;
}

std::map<std::string, std::string> parse_metadata(const fs::path& path, const json& value) {
  if (!value.is_object())
    invalid_file(path, fmt::format("__metadata__ is a JSON {}, not an object", value.type_name()));
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string())
      invalid_file(path, fmt::format("__metadata__ value '{}' is a JSON {}, not a string", key, item.type_name()));
    metadata[key] = item.get<std::string>();
  }
  return metadata;
}

std::vector<int64_t> parse_shape(const fs::path& path, const std::string& name, const json& shape) {
  if (!shape.is_array()) invalid_tensor(path, name, "'shape' is not an array");
  std::vector<int64_t> dims;
  for (const auto& dim : shape) {
    // Non-negative integer literals parse as number_unsigned; negatives and fractions do not.
    if (!dim.is_number_unsigned() || dim.get<uint64_t>() > uint64_t(INT64_MAX))
      invalid_tensor(path, name,
                     fmt::format("shape {} has a dimension that is not a non-negative integer", shape.dump()));
    dims.push_back(static_cast<int64_t>(dim.get<uint64_t>()));
  }
  return dims;
}

ByteRange parse_offsets(const fs::path& path, const std::string& name, const json& offsets, uint64_t data_size) {
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    invalid_tensor(path, name,
                   fmt::format("data_offsets {} is not [begin, end] with non-negative integers", offsets.dump()));
  ByteRange range{offsets[0].get<uint64_t>(), offsets[1].get<uint64_t>()};
  if (range.begin > range.end)
    invalid_tensor(path, name, fmt::format("data_offsets [{}, {}] has begin > end", range.begin, range.end));
  if (range.end > data_size)
    invalid_tensor(
        path, name,
        fmt::format("data_offsets [{}, {}] end beyond the data section ({} bytes)", range.begin, range.end, data_size));
  return range;
}

// prod(shape) * dtype_size, or nullopt if it does not fit in 64 bits.
std::optional<uint64_t> checked_byte_count(const std::vector<int64_t>& shape, size_t element_size) {
  uint64_t total = element_size;
  for (int64_t dim : shape)
    if (__builtin_mul_overflow(total, static_cast<uint64_t>(dim), &total)) return std::nullopt;
  return total;
}

ParsedEntry parse_tensor_entry(const fs::path& path, const std::string& name, const json& entry,
                               const uint8_t* data_section, uint64_t data_size) {
  if (!entry.is_object())
    invalid_tensor(path, name, fmt::format("entry is a JSON {}, not an object", entry.type_name()));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!entry.contains(key)) invalid_tensor(path, name, fmt::format("entry lacks '{}'", key));
  const json& dtype_json = entry.at("dtype");
  if (!dtype_json.is_string()) invalid_tensor(path, name, "'dtype' is not a string");
  std::optional<DType> dtype = parse_dtype(dtype_json.get<std::string>());
  if (!dtype) invalid_tensor(path, name, fmt::format("unknown dtype '{}'", dtype_json.get<std::string>()));

  ParsedEntry parsed;
  parsed.view.name = name;
  parsed.view.dtype = *dtype;
  parsed.view.shape = parse_shape(path, name, entry.at("shape"));
  parsed.range = parse_offsets(path, name, entry.at("data_offsets"), data_size);
  std::optional<uint64_t> expected = checked_byte_count(parsed.view.shape, dtype_size(*dtype));
  uint64_t actual = parsed.range.end - parsed.range.begin;
  if (!expected || *expected != actual)
    invalid_tensor(path, name,
                   fmt::format("shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}",
                               shape_to_string(parsed.view.shape), dtype_name(*dtype),
                               expected ? std::to_string(*expected) : std::string("more than 2^64"), parsed.range.begin,
                               parsed.range.end, actual));
  parsed.view.data = data_section + parsed.range.begin;
  parsed.view.nbytes = actual;
  parsed.view.file = path.string();
  return parsed;
}

// Like the reference reader: the tensors must tile the data section exactly, starting at 0, with no
// overlap and no unused bytes ("MetadataIncompleteBuffer" / "InvalidOffset" in safetensors).
void check_contiguous_coverage(const fs::path& path, std::vector<const ParsedEntry*> entries, uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const ParsedEntry* a, const ParsedEntry* b) {
    return std::tie(a->range.begin, a->range.end) < std::tie(b->range.begin, b->range.end);
  });
  uint64_t covered_until = 0;
  const ParsedEntry* previous = nullptr;
  for (const ParsedEntry* entry : entries) {
    if (entry->range.begin < covered_until)
      invalid_tensor(path, entry->view.name,
                     fmt::format("data_offsets [{}, {}] overlap tensor '{}' (which ends at {})", entry->range.begin,
                                 entry->range.end, previous->view.name, covered_until));
    if (entry->range.begin > covered_until)
      invalid_tensor(path, entry->view.name,
                     fmt::format("data_offsets [{}, {}] leave a gap: bytes [{}, {}) of the data section belong to no "
                                 "tensor (tensors must cover the data section contiguously)",
                                 entry->range.begin, entry->range.end, covered_until, entry->range.begin));
    covered_until = entry->range.end;
    previous = entry;
  }
  if (covered_until != data_size)
    invalid_file(path, fmt::format("the data section has {} bytes but the tensors cover only the first {} "
                                   "(tensors must cover the data section contiguously)",
                                   data_size, covered_until));
}

}  // namespace

size_t dtype_size(DType dtype) { return dtype_info(dtype).size; }

std::string_view dtype_name(DType dtype) { return dtype_info(dtype).name; }

std::optional<DType> parse_dtype(std::string_view name) {
  for (const auto& info : kDTypes)
    if (info.name == name) return info.dtype;
  return std::nullopt;
}

int64_t shape_numel(const std::vector<int64_t>& shape) {
  // A zero dimension first: the other dims of an empty tensor may multiply past int64 ([2^32, 2^32, 0]
  // is a valid empty U8 tensor). Any other shape that passed open() fits, its bytes being in the file.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  int64_t numel = 1;
  for (int64_t dim : shape) numel *= dim;
  return numel;
}

std::string shape_to_string(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

int64_t TensorView::numel() const { return shape_numel(shape); }

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open safetensors file {}: {}", path.string(), std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    fail("cannot open safetensors file {}: not a regular file", path.string());
  }
  auto file_size = static_cast<uint64_t>(info.st_size);
  if (file_size < 8) {
    ::close(fd);
    invalid_file(path, fmt::format("the file has {} bytes, fewer than the 8-byte header length", file_size));
  }

  // Own the mapping before anything can throw, so the destructor always unmaps it.
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  void* mapping = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  int mmap_errno = errno;
  ::close(fd);
  if (mapping == MAP_FAILED) fail("cannot map safetensors file {}: {}", path.string(), std::strerror(mmap_errno));
  file->mapping_ = mapping;
  file->mapping_size_ = file_size;

  const auto* bytes = static_cast<const uint8_t*>(mapping);
  uint64_t header_size = read_u64_le(bytes);
  if (header_size > kMaxHeaderBytes)
    invalid_file(path, fmt::format("header length {} exceeds the 100 MB limit", header_size));
  if (header_size > file_size - 8)
    invalid_file(path,
                 fmt::format("header length {} runs past the end of the file ({} bytes)", header_size, file_size));

  json header = parse_header_json(path, std::string_view(reinterpret_cast<const char*>(bytes + 8), header_size));
  const uint8_t* data_section = bytes + 8 + header_size;
  uint64_t data_size = file_size - 8 - header_size;

  std::vector<ParsedEntry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__")
      file->metadata_ = parse_metadata(path, value);
    else
      entries.push_back(parse_tensor_entry(path, key, value, data_section, data_size));
  }
  std::vector<const ParsedEntry*> entry_pointers;
  for (const auto& entry : entries) entry_pointers.push_back(&entry);
  check_contiguous_coverage(path, entry_pointers, data_size);

  // json objects iterate in key order, so tensors_ is sorted by name for find().
  for (auto& entry : entries) file->tensors_.push_back(std::move(entry.view));
  return file;
}

const std::vector<TensorView>& SafetensorsFile::tensors() const { return tensors_; }

const TensorView* SafetensorsFile::find(std::string_view name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const TensorView& tensor, std::string_view key) { return tensor.name < key; });
  return (it != tensors_.end() && it->name == name) ? &*it : nullptr;
}

const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return metadata_; }

const fs::path& SafetensorsFile::path() const { return path_; }

SafetensorsFile::~SafetensorsFile() {
  if (mapping_) ::munmap(mapping_, mapping_size_);
}

float bf16_bits_to_float(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof(value));
  return value;
}

uint16_t float_to_bf16_bits(float value) {
  if (std::isnan(value)) return 0x7FC0;  // torch's canonical quiet NaN
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  uint32_t rounding_bias = 0x7FFF + ((bits >> 16) & 1);  // ties go to the even upper half
  return static_cast<uint16_t>((bits + rounding_bias) >> 16);
}

float f16_bits_to_float(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1F;
  uint32_t mantissa = bits & 0x3FF;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  uint32_t wide = exponent == 0x1F ? (sign | 0x7F800000u | (mantissa << 13))  // inf / NaN
                                   : (sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
  float value;
  std::memcpy(&value, &wide, sizeof(value));
  return value;
}

void convert_to_float32(const TensorView& tensor, float* out) {
  const size_t count = static_cast<size_t>(tensor.numel());
  switch (tensor.dtype) {
    case DType::F32:
      if (count > 0) std::memcpy(out, tensor.data, count * sizeof(float));
      return;
    case DType::Bf16:
    case DType::F16: {
      const bool is_bf16 = tensor.dtype == DType::Bf16;
      for (size_t i = 0; i < count; ++i) {
        uint16_t bits;
        std::memcpy(&bits, tensor.data + 2 * i, sizeof(bits));
        out[i] = is_bf16 ? bf16_bits_to_float(bits) : f16_bits_to_float(bits);
      }
      return;
    }
    default:
      fail("tensor '{}' in {} has dtype {}; only F32, BF16 and F16 can be converted to float32", tensor.name,
           tensor.file, dtype_name(tensor.dtype));
  }
}

namespace {

void check_tensor_to_write(const fs::path& path, const TensorToWrite& tensor) {
  if (tensor.name == "__metadata__") fail("cannot write {}: '__metadata__' is not a valid tensor name", path.string());
  for (int64_t dim : tensor.shape)
    if (dim < 0)
      fail("cannot write {}: tensor '{}' has a negative dimension in shape {}", path.string(), tensor.name,
           shape_to_string(tensor.shape));
  std::optional<uint64_t> expected = checked_byte_count(tensor.shape, dtype_size(tensor.dtype));
  if (!expected || *expected != tensor.bytes.size())
    fail("cannot write {}: tensor '{}' of shape {} and dtype {} needs {} bytes but {} were given", path.string(),
         tensor.name, shape_to_string(tensor.shape), dtype_name(tensor.dtype),
         expected ? std::to_string(*expected) : std::string("more than 2^64"), tensor.bytes.size());
}

// The Rust writer's order: larger dtypes first (keeps every tensor aligned), then by name.
std::vector<const TensorToWrite*> write_order(const fs::path& path, const std::vector<TensorToWrite>& tensors) {
  std::vector<const TensorToWrite*> order;
  for (const auto& tensor : tensors) order.push_back(&tensor);
  std::sort(order.begin(), order.end(), [](const TensorToWrite* a, const TensorToWrite* b) {
    size_t size_a = dtype_size(a->dtype), size_b = dtype_size(b->dtype);
    return size_a != size_b ? size_a > size_b : a->name < b->name;
  });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->name == order[i - 1]->name)
      fail("cannot write {}: tensor '{}' is given twice", path.string(), order[i]->name);
  return order;
}

}  // namespace

void write_safetensors(const fs::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  for (const auto& tensor : tensors) check_tensor_to_write(path, tensor);
  std::vector<const TensorToWrite*> order = write_order(path, tensors);

  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorToWrite* tensor : order) {
    uint64_t end = offset + tensor->bytes.size();
    header[tensor->name] = {
        {"dtype", dtype_name(tensor->dtype)}, {"shape", tensor->shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string header_text;
  try {
    header_text = header.dump();
  } catch (const json::exception& e) {
    fail("cannot write {}: a tensor name or metadata string is not valid UTF-8 ({})", path.string(), e.what());
  }
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string out;
  out.reserve(8 + header_text.size() + offset);
  uint64_t header_size = header_text.size();
  out.append(reinterpret_cast<const char*>(&header_size), sizeof(header_size));
  out += header_text;
  for (const TensorToWrite* tensor : order) out += tensor->bytes;
  write_file_atomic(path, out);
}

}  // namespace gemma
