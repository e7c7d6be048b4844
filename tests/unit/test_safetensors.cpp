#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "model/safetensors.h"

using namespace gemma;
using gemma::test::TempDir;
namespace fs = std::filesystem;
using Catch::Contains;

namespace {

template <typename T>
std::string bytes_of(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

float float_from_bits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

// A safetensors file written by hand: the 8-byte header length, the header text, the data.
fs::path write_raw(const fs::path& dir, const std::string& header, const std::string& data = "",
                   std::optional<uint64_t> declared_header_size = std::nullopt) {
  uint64_t size = declared_header_size.value_or(header.size());
  std::string bytes(reinterpret_cast<const char*>(&size), 8);
  bytes += header;
  bytes += data;
  fs::path path = dir / "bad.safetensors";
  write_file_atomic(path, bytes);
  return path;
}

std::vector<float> read_floats(const TensorView& tensor) {
  std::vector<float> values(tensor.numel());
  convert_to_float32(tensor, values.data());
  return values;
}

}  // namespace

TEST_CASE("dtype names, sizes and parsing agree", "[safetensors]") {
  for (DType dtype : {DType::Bool, DType::U8, DType::I8, DType::I16, DType::U16, DType::F16, DType::Bf16, DType::I32,
                      DType::U32, DType::F32, DType::F64, DType::I64, DType::U64, DType::F8E4M3, DType::F8E5M2})
    CHECK(parse_dtype(dtype_name(dtype)) == dtype);
  CHECK(dtype_size(DType::Bf16) == 2);
  CHECK(dtype_size(DType::F64) == 8);
  CHECK(dtype_size(DType::F8E5M2) == 1);
  CHECK(dtype_name(DType::F8E4M3) == "F8_E4M3");
  CHECK_FALSE(parse_dtype("bf16"));
  CHECK_FALSE(parse_dtype("F4"));
}

TEST_CASE("F32, BF16 and F16 tensors survive write_safetensors and open", "[safetensors]") {
  TempDir tmp;
  const std::vector<float> f32 = {1.5f, -2.25f, 0.0f, 3.0e38f, -1e-30f, 7.0f};
  const std::vector<uint16_t> bf16 = {float_to_bf16_bits(1.0f), float_to_bf16_bits(-0.5f),
                                      float_to_bf16_bits(3.140625f), float_to_bf16_bits(1e10f)};
  const std::vector<uint16_t> f16 = {0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0x8000};
  std::vector<TensorToWrite> tensors = {
      {"a.f32", DType::F32, {2, 3}, bytes_of(f32)}, {"b.bf16", DType::Bf16, {4}, bytes_of(bf16)},
      {"c.f16", DType::F16, {3, 2}, bytes_of(f16)}, {"d.scalar", DType::F32, {}, bytes_of(std::vector<float>{42.0f})},
      {"e.empty", DType::Bf16, {0, 5}, ""},
  };
  fs::path path = tmp.path / "model.safetensors";
  write_safetensors(path, tensors, {{"format", "pt"}});

  SECTION("the header is padded with spaces to a multiple of 8") {
    std::string bytes = read_file(path);
    uint64_t header_size;
    std::memcpy(&header_size, bytes.data(), 8);
    CHECK(header_size % 8 == 0);
    CHECK(bytes.size() == 8 + header_size + 6 * 4 + 4 * 2 + 6 * 2 + 4);
  }

  auto file = SafetensorsFile::open(path);
  CHECK(file->path() == path);
  CHECK(file->metadata() == std::map<std::string, std::string>{{"format", "pt"}});
  REQUIRE(file->tensors().size() == 5);
  CHECK(file->tensors()[0].name == "a.f32");  // sorted by name
  CHECK(file->find("missing") == nullptr);

  const TensorView* a = file->find("a.f32");
  REQUIRE(a);
  CHECK(a->dtype == DType::F32);
  CHECK(a->shape == std::vector<int64_t>{2, 3});
  CHECK(a->numel() == 6);
  CHECK(a->nbytes == 24);
  CHECK(a->file == path.string());
  CHECK(read_floats(*a) == f32);

  const TensorView* b = file->find("b.bf16");
  REQUIRE(b);
  CHECK(read_floats(*b) == std::vector<float>{1.0f, -0.5f, 3.140625f, bf16_bits_to_float(float_to_bf16_bits(1e10f))});

  const TensorView* c = file->find("c.f16");
  REQUIRE(c);
  std::vector<float> halves = read_floats(*c);
  CHECK(halves[0] == 1.0f);
  CHECK(halves[1] == -2.0f);
  CHECK(halves[2] == Approx(1.0f / 3).epsilon(1e-3));
  CHECK(halves[3] == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(halves[4] == 65504.0f);               // largest finite half
  CHECK(halves[5] == 0.0f);
  CHECK(std::signbit(halves[5]));

  const TensorView* scalar = file->find("d.scalar");
  REQUIRE(scalar);
  CHECK(scalar->shape.empty());
  CHECK(scalar->numel() == 1);
  CHECK(read_floats(*scalar) == std::vector<float>{42.0f});

  const TensorView* empty = file->find("e.empty");
  REQUIRE(empty);
  CHECK(empty->numel() == 0);
  CHECK(empty->nbytes == 0);
}

TEST_CASE("a file with no tensors and an empty data section opens", "[safetensors]") {
  TempDir tmp;
  fs::path path = tmp.path / "empty.safetensors";
  write_safetensors(path, {});
  auto file = SafetensorsFile::open(path);
  CHECK(file->tensors().empty());
  CHECK(file->metadata().empty());

  fs::path zero_size_only = tmp.path / "zero.safetensors";
  write_safetensors(zero_size_only, {{"z1", DType::F32, {0}, ""}, {"z2", DType::I64, {3, 0}, ""}});
  CHECK(SafetensorsFile::open(zero_size_only)->tensors().size() == 2);
}

TEST_CASE("bf16 conversion rounds to nearest even like torch", "[safetensors]") {
  CHECK(float_to_bf16_bits(1.0f) == 0x3F80);
  CHECK(float_to_bf16_bits(-2.0f) == 0xC000);
  CHECK(bf16_bits_to_float(0x3F80) == 1.0f);
  CHECK(bf16_bits_to_float(0xC049) == -3.140625f);
  // Exactly halfway: ties go to the even neighbour.
  CHECK(float_to_bf16_bits(float_from_bits(0x3F808000)) == 0x3F80);
  CHECK(float_to_bf16_bits(float_from_bits(0x3F818000)) == 0x3F82);
  // Just off halfway.
  CHECK(float_to_bf16_bits(float_from_bits(0x3F808001)) == 0x3F81);
  CHECK(float_to_bf16_bits(float_from_bits(0x3F807FFF)) == 0x3F80);
  // Rounding carries into the exponent, and past the largest finite value to infinity.
  CHECK(float_to_bf16_bits(float_from_bits(0x3FFFFFFF)) == 0x4000);
  CHECK(float_to_bf16_bits(float_from_bits(0x7F7FFFFF)) == 0x7F80);
  CHECK(float_to_bf16_bits(std::numeric_limits<float>::infinity()) == 0x7F80);
  CHECK(float_to_bf16_bits(-0.0f) == 0x8000);
  // NaN stays NaN (torch's canonical 0x7FC0), even a NaN whose payload would round into infinity.
  CHECK(float_to_bf16_bits(std::nanf("")) == 0x7FC0);
  CHECK(float_to_bf16_bits(float_from_bits(0x7F800001)) == 0x7FC0);
  CHECK(std::isnan(bf16_bits_to_float(0x7FC0)));
  // Every bf16 value converts back to itself.
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    float value = bf16_bits_to_float(static_cast<uint16_t>(bits));
    if (!std::isnan(value)) REQUIRE(float_to_bf16_bits(value) == bits);
  }
}

TEST_CASE("f16 special values convert exactly", "[safetensors]") {
  CHECK(f16_bits_to_float(0x7C00) == std::numeric_limits<float>::infinity());
  CHECK(f16_bits_to_float(0xFC00) == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(f16_bits_to_float(0x7E00)));
  CHECK(f16_bits_to_float(0x0400) == std::ldexp(1.0f, -14));     // smallest normal
  CHECK(f16_bits_to_float(0x03FF) == std::ldexp(1023.0f, -24));  // largest subnormal
}

TEST_CASE("convert_to_float32 refuses non-float dtypes, naming tensor and file", "[safetensors]") {
  TempDir tmp;
  fs::path path = tmp.path / "ints.safetensors";
  write_safetensors(path, {{"ids", DType::I32, {2}, bytes_of(std::vector<int32_t>{1, 2})}});
  auto file = SafetensorsFile::open(path);
  std::vector<float> out(2);
  REQUIRE_THROWS_WITH(convert_to_float32(*file->find("ids"), out.data()),
                      Contains("'ids'") && Contains(path.string()) && Contains("I32"));
}

TEST_CASE("write_safetensors refuses inconsistent tensors", "[safetensors]") {
  TempDir tmp;
  fs::path path = tmp.path / "out.safetensors";
  REQUIRE_THROWS_WITH(write_safetensors(path, {{"w", DType::F32, {2, 2}, std::string(12, '\0')}}),
                      Contains("'w'") && Contains("16 bytes"));
  REQUIRE_THROWS_WITH(write_safetensors(path, {{"w", DType::F32, {1}, std::string(4, '\0')},
                                               {"w", DType::F32, {1}, std::string(4, '\0')}}),
                      Contains("'w'") && Contains("twice"));
  REQUIRE_THROWS_WITH(write_safetensors(path, {{"w", DType::F32, {-1}, ""}}), Contains("negative"));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("malformed safetensors files are refused with the file named", "[safetensors]") {
  TempDir tmp;
  const std::string file = (tmp.path / "bad.safetensors").string();
  auto open_bad = [](const fs::path& path) { return SafetensorsFile::open(path); };

  SECTION("missing file") {
    fs::path missing = tmp.path / "nope.safetensors";
    REQUIRE_THROWS_WITH(open_bad(missing), Contains(missing.string()));
  }
  SECTION("shorter than 8 bytes") {
    write_file_atomic(file, "abc");
    REQUIRE_THROWS_WITH(open_bad(file), Contains(file) && Contains("fewer than the 8-byte"));
  }
  SECTION("header length past the end of the file") {
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, "{}", "", 64)), Contains(file) && Contains("past the end"));
  }
  SECTION("header length above 100 MB") {
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, "{}", "", 200'000'000)), Contains(file) && Contains("100 MB"));
  }
  SECTION("header not JSON") {
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, "{\"a\": ")), Contains(file) && Contains("not valid UTF-8 JSON"));
  }
  SECTION("header not UTF-8") {
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, "{\"\xff\xfe\": 1}")),
                        Contains(file) && Contains("not valid UTF-8 JSON"));
  }
  SECTION("header not an object") {
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, "[1, 2]   ")), Contains(file) && Contains("not an object"));
  }
  SECTION("entry not an object") {
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, R"({"w": [1]})")),
                        Contains(file) && Contains("tensor 'w'") && Contains("not an object"));
  }
  SECTION("entry without data_offsets") {
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, R"({"w": {"dtype": "F32", "shape": [1]}})", "abcd")),
                        Contains(file) && Contains("tensor 'w'") && Contains("data_offsets"));
  }
  SECTION("unknown dtype") {
    REQUIRE_THROWS_WITH(
        open_bad(write_raw(tmp.path, R"({"w": {"dtype": "F4", "shape": [1], "data_offsets": [0, 4]}})", "abcd")),
        Contains(file) && Contains("tensor 'w'") && Contains("unknown dtype 'F4'"));
  }
  SECTION("negative shape dimension") {
    REQUIRE_THROWS_WITH(
        open_bad(write_raw(tmp.path, R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "abcd")),
        Contains(file) && Contains("tensor 'w'") && Contains("non-negative integer"));
  }
  SECTION("fractional shape dimension") {
    REQUIRE_THROWS_WITH(
        open_bad(write_raw(tmp.path, R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", "abcd")),
        Contains(file) && Contains("tensor 'w'") && Contains("non-negative integer"));
  }
  SECTION("data_offsets not a pair") {
    REQUIRE_THROWS_WITH(
        open_bad(write_raw(tmp.path, R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", "abcd")),
        Contains(file) && Contains("tensor 'w'") && Contains("[begin, end]"));
  }
  SECTION("data_offsets with begin > end") {
    REQUIRE_THROWS_WITH(
        open_bad(write_raw(tmp.path, R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", "abcd")),
        Contains(file) && Contains("tensor 'w'") && Contains("begin > end"));
  }
  SECTION("data_offsets beyond the data section") {
    REQUIRE_THROWS_WITH(
        open_bad(write_raw(tmp.path, R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", "abcd")),
        Contains(file) && Contains("tensor 'w'") && Contains("beyond the data section"));
  }
  SECTION("byte count does not match the shape") {
    REQUIRE_THROWS_WITH(
        open_bad(write_raw(tmp.path, R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", "abcd")),
        Contains(file) && Contains("tensor 'w'") && Contains("needs 8 bytes"));
  }
  SECTION("shape whose byte count overflows 64 bits") {
    const std::string header = R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})";
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, header)),
                        Contains(file) && Contains("tensor 'w'") && Contains("more than 2^64"));
  }
  SECTION("overlapping tensors") {
    const std::string header = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                               R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})";
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, header, std::string(8, 'x'))),
                        Contains(file) && Contains("tensor 'b'") && Contains("overlap tensor 'a'"));
  }
  SECTION("gap between tensors") {
    const std::string header = R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                               R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})";
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, header, std::string(12, 'x'))),
                        Contains(file) && Contains("tensor 'b'") && Contains("gap") && Contains("contiguously"));
  }
  SECTION("first tensor not at offset 0") {
    const std::string header = R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})";
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, header, std::string(8, 'x'))),
                        Contains(file) && Contains("tensor 'a'") && Contains("gap"));
  }
  SECTION("unused bytes after the last tensor") {
    const std::string header = R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})";
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, header, std::string(6, 'x'))),
                        Contains(file) && Contains("cover only the first 4"));
  }
  SECTION("__metadata__ with a non-string value") {
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, R"({"__metadata__": {"format": 1}})")),
                        Contains(file) && Contains("__metadata__") && Contains("'format'"));
  }
  SECTION("__metadata__ not an object") {
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, R"({"__metadata__": "pt"})")),
                        Contains(file) && Contains("__metadata__"));
  }
  SECTION("a tensor name given twice") {
    const std::string header = R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                               R"( "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})";
    REQUIRE_THROWS_WITH(open_bad(write_raw(tmp.path, header, std::string(8, 'x'))),
                        Contains(file) && Contains("tensor 'a'") && Contains("twice"));
  }
}

TEST_CASE("a hand-written header with space padding and unsorted offsets opens", "[safetensors]") {
  TempDir tmp;
  // Data order differs from name order, as in files from the Rust writer (sorted by alignment, then name).
  std::string header = R"({"b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                       R"( "a": {"dtype": "BF16", "shape": [2], "data_offsets": [4, 8]}})";
  header.append((8 - header.size() % 8) % 8 + 8, ' ');
  std::string data = bytes_of(std::vector<float>{2.5f}) + bytes_of(std::vector<uint16_t>{0x3F80, 0x4000});
  auto file = SafetensorsFile::open(write_raw(tmp.path, header, data));
  CHECK(read_floats(*file->find("b")) == std::vector<float>{2.5f});
  CHECK(read_floats(*file->find("a")) == std::vector<float>{1.0f, 2.0f});
}
