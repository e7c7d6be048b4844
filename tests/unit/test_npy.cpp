#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "model/npy.h"

using namespace gemma;
using gemma::test::TempDir;
namespace fs = std::filesystem;
using Catch::Contains;

namespace {

const fs::path kExpected = fs::path(GEMMA_TEST_SHARED_DIR) / "reference/tiny-text/expected";

// A version 1.0 .npy written by hand, with whatever header dict and data the test needs.
fs::path write_npy_raw(const fs::path& path, const std::string& dict, const std::string& data) {
  std::string header = dict;
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  uint16_t header_size = static_cast<uint16_t>(header.size());
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes.append(reinterpret_cast<const char*>(&header_size), 2);
  write_file_atomic(path, bytes + header + data);
  return path;
}

template <typename T>
std::string bytes_of(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

}  // namespace

TEST_CASE("float32 arrays round-trip through write_npy_float32 and read_npy", "[npy]") {
  TempDir tmp;
  const std::vector<float> values = {1.0f, -2.5f, 3.25f, 0.0f, 1e-20f, -7.0f};
  for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{{2, 3}, {6}, {1, 2, 3}}) {
    fs::path path = tmp.path / "a.npy";
    write_npy_float32(path, values.data(), shape);
    NpyArray array = read_npy(path);
    CHECK(array.descr == "<f4");
    CHECK(array.shape == shape);
    CHECK(array.numel() == 6);
    CHECK(array.to_float32() == values);
    CHECK(array.source == path.string());

    std::string bytes = read_file(path);
    uint16_t header_size;
    std::memcpy(&header_size, bytes.data() + 8, 2);
    CHECK((10 + header_size) % 64 == 0);
    CHECK(bytes[10 + header_size - 1] == '\n');
    CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  }
  SECTION("the header is the one numpy writes") {
    fs::path path = tmp.path / "b.npy";
    write_npy_float32(path, values.data(), {5});
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }";
    CHECK(read_file(path).substr(10, dict.size()) == dict);
    // Byte for byte the header numpy 1.24 wrote for the same shape.
    CHECK(read_file(path).substr(0, 128) == read_file(kExpected / "short.logsumexp.npy").substr(0, 128));
  }
  SECTION("scalar and empty arrays") {
    fs::path path = tmp.path / "c.npy";
    write_npy_float32(path, values.data(), {});
    NpyArray scalar = read_npy(path);
    CHECK(scalar.shape.empty());
    CHECK(scalar.to_float32() == std::vector<float>{1.0f});
    write_npy_float32(path, nullptr, {0, 3});
    NpyArray empty = read_npy(path);
    CHECK(empty.shape == std::vector<int64_t>{0, 3});
    CHECK(empty.to_float32().empty());
  }
}

TEST_CASE("the reference fixtures' .npy files are read", "[npy]") {
  NpyArray ids = read_npy(kExpected / "short.top5_ids.npy");
  CHECK(ids.descr == "<i4");
  CHECK(ids.shape == std::vector<int64_t>{5, 5});
  std::vector<int32_t> id_values = ids.to_int32();
  REQUIRE(id_values.size() == 25);
  for (int32_t id : id_values) {
    CHECK(id >= 0);
    CHECK(id < 262144);
  }
  REQUIRE_THROWS_WITH(ids.to_float32(), Contains("short.top5_ids.npy") && Contains("'<i4'"));

  NpyArray lse = read_npy(kExpected / "short.logsumexp.npy");
  CHECK(lse.descr == "<f4");
  CHECK(lse.shape == std::vector<int64_t>{5});
  for (float value : lse.to_float32()) CHECK(value == Approx(15).margin(5));  // "logsumexp is about 15"

  NpyArray hidden = read_npy(kExpected / "short.hidden_states.npy");
  CHECK(hidden.shape == std::vector<int64_t>{8, 5, 64});  // [L+1, T, H]
}

TEST_CASE("the other supported dtypes convert as documented", "[npy]") {
  TempDir tmp;
  NpyArray f8 = read_npy(write_npy_raw(tmp.path / "f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                                       bytes_of(std::vector<double>{0.5, -1.25})));
  CHECK(f8.to_float32() == std::vector<float>{0.5f, -1.25f});

  NpyArray i8 = read_npy(write_npy_raw(tmp.path / "i8.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                                       bytes_of(std::vector<int64_t>{-1, 0, 262144})));
  CHECK(i8.to_int32() == std::vector<int32_t>{-1, 0, 262144});
  NpyArray big =
      read_npy(write_npy_raw(tmp.path / "big.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                             bytes_of(std::vector<int64_t>{int64_t(1) << 40})));
  REQUIRE_THROWS_WITH(big.to_int32(), Contains("big.npy") && Contains("does not fit"));

  NpyArray mask =
      read_npy(write_npy_raw(tmp.path / "b1.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }",
                             std::string("\x01\x00\x00\x01", 4)));
  CHECK(mask.to_bool() == std::vector<uint8_t>{1, 0, 0, 1});
  CHECK(mask.to_int32() == std::vector<int32_t>{1, 0, 0, 1});
  REQUIRE_THROWS_WITH(mask.to_float32(), Contains("'|b1'") && Contains("float32"));

  NpyArray pixels =
      read_npy(write_npy_raw(tmp.path / "u1.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }",
                             std::string("\x00\xff\x07", 3)));
  CHECK(pixels.to_int32() == std::vector<int32_t>{0, 255, 7});
  CHECK(pixels.to_bool() == std::vector<uint8_t>{0, 1, 1});
  // Key order and spacing are not fixed by the format.
  NpyArray reordered =
      read_npy(write_npy_raw(tmp.path / "r.npy", "{\"shape\":(1,),\"fortran_order\":False,\"descr\":\"<i4\"}",
                             bytes_of(std::vector<int32_t>{42})));
  CHECK(reordered.to_int32() == std::vector<int32_t>{42});
}

TEST_CASE("unsupported or malformed .npy files are refused with the file named", "[npy]") {
  TempDir tmp;
  const fs::path path = tmp.path / "bad.npy";
  SECTION("fortran order") {
    write_npy_raw(path, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", std::string(4, '\0'));
    REQUIRE_THROWS_WITH(read_npy(path), Contains(path.string()) && Contains("fortran_order"));
  }
  SECTION("big-endian data") {
    write_npy_raw(path, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", std::string(4, '\0'));
    REQUIRE_THROWS_WITH(read_npy(path), Contains(path.string()) && Contains("'>f4' is not supported"));
  }
  SECTION("data shorter than the shape") {
    write_npy_raw(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", std::string(12, '\0'));
    REQUIRE_THROWS_WITH(read_npy(path), Contains(path.string()) && Contains("needs 16 data bytes"));
  }
  SECTION("not an npy file") {
    write_file_atomic(path, "hello, this is text");
    REQUIRE_THROWS_WITH(read_npy(path), Contains(path.string()) && Contains("magic"));
  }
  SECTION("a header without a shape") {
    write_npy_raw(path, "{'descr': '<f4', 'fortran_order': False, }", "");
    REQUIRE_THROWS_WITH(read_npy(path), Contains(path.string()) && Contains("'shape'"));
  }
  SECTION("a garbled header") {
    write_npy_raw(path, "{'descr': <f4}", "");
    REQUIRE_THROWS_WITH(read_npy(path), Contains(path.string()) && Contains("header"));
  }
  SECTION("a missing file") { REQUIRE_THROWS_WITH(read_npy(tmp.path / "absent.npy"), Contains("absent.npy")); }
}
