// SHA-256 against the FIPS 180-2 examples, one-shot and fed in pieces across block boundaries.
#include <catch2/catch.hpp>

#include <string>

#include "common/error.h"
#include "common/sha256.h"

TEST_CASE("sha256: standard vectors") {
  CHECK(gemma::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(gemma::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(gemma::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(gemma::sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: incremental updates equal the one-shot hash") {
  std::string text;
  for (int i = 0; i < 300; ++i) text += static_cast<char>('a' + i % 26);
  for (size_t piece : {1, 7, 55, 56, 63, 64, 65, 129}) {
    gemma::Sha256 hash;
    for (size_t pos = 0; pos < text.size(); pos += piece) hash.update(std::string_view(text).substr(pos, piece));
    CHECK(hash.hex_digest() == gemma::sha256_hex(text));
  }
  gemma::Sha256 with_nul;
  with_nul.update("a");
  with_nul.update(std::string_view("\0", 1));
  CHECK(with_nul.hex_digest() == gemma::sha256_hex(std::string("a\0", 2)));
}

TEST_CASE("sha256: a finished hash cannot be reused") {
  gemma::Sha256 hash;
  hash.update("abc");
  hash.hex_digest();
  CHECK_THROWS_AS(hash.hex_digest(), gemma::Error);
  CHECK_THROWS_AS(hash.update("x"), gemma::Error);
}

TEST_CASE("lower_hex: two lower-case digits per byte, as Python's bytes.hex()") {
  CHECK(gemma::lower_hex("").empty());
  CHECK(gemma::lower_hex("abc") == "616263");
  CHECK(gemma::lower_hex(std::string("\x00\x0f\xf0\xff", 4)) == "000ff0ff");
  CHECK(gemma::lower_hex("\xC3\xA9") == "c3a9");
}
