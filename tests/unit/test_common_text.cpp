// The general text helpers of common/: UTF-8 decoding and encoding, Python's float() with the Unicode
// decimal digits, str.replace, and the UTC timestamp the reports write. Expected values are what
// CPython 3.11 and Rust's std::str::from_utf8 give.
#include <catch2/catch.hpp>

#include <cmath>
#include <ctime>
#include <limits>
#include <regex>
#include <string>

#include "common/clock.h"
#include "common/edit_distance.h"
#include "common/python_float.h"
#include "common/python_text.h"
#include "common/utf8.h"

using gemma::decode_utf8_at;

TEST_CASE("utf8: characters of one to four bytes decode with their lengths", "[common][utf8]") {
  const auto check = [](std::string_view text, char32_t code_point, size_t length) {
    const gemma::Utf8Char c = decode_utf8_at(text, 0);
    INFO(text);
    CHECK(c.code_point == code_point);
    CHECK(c.length == length);
    CHECK(c.valid);
  };
  check("A", U'A', 1);
  check("\xC3\xA9", 0xE9, 2);             // é
  check("\xE2\x82\xAC", 0x20AC, 3);       // €
  check("\xF0\x9D\x9F\x8E", 0x1D7CE, 4);  // 𝟎
  CHECK(decode_utf8_at("x\xC3\xA9", 1).code_point == 0xE9);
}

TEST_CASE("utf8: a malformed byte is U+FFFD of its own, and decoding goes on after it", "[common][utf8]") {
  for (std::string_view bad : {std::string_view("\x80"), std::string_view("\xFF"), std::string_view("\xE2\x82"),
                               std::string_view("\xC3"
                                                "A"),
                               std::string_view("\xF8\x88\x80\x80\x80")}) {
    const gemma::Utf8Char c = decode_utf8_at(bad, 0);
    INFO(bad.size());
    CHECK(c.code_point == gemma::kReplacementCharacter);
    CHECK(c.length == 1);
    CHECK_FALSE(c.valid);
  }
  CHECK(gemma::decode_utf8("a\xC3\xA9\xFF"
                           "b\xE2\x82") == U"a\u00E9\uFFFDb\uFFFD\uFFFD");
  CHECK(gemma::decode_utf8("").empty());
}

TEST_CASE("utf8: append_utf8 writes what decode_utf8 reads back", "[common][utf8]") {
  std::string text;
  for (char32_t c : {char32_t{0x24}, char32_t{0x7F}, char32_t{0x80}, char32_t{0x7FF}, char32_t{0x800}, char32_t{0x20AC},
                     char32_t{0xFFFF}, char32_t{0x10000}, char32_t{0x1F600}, char32_t{0x10FFFF}})
    gemma::append_utf8(text, c);
  CHECK(gemma::decode_utf8(text) == U"\u0024\u007F\u0080\u07FF\u0800\u20AC\uFFFF\U00010000\U0001F600\U0010FFFF");
  CHECK(text.substr(0, 1) == "$");
  CHECK(text.substr(text.size() - 4) == "\xF4\x8F\xBF\xBF");
}

TEST_CASE("utf8: is_valid_utf8 accepts what Rust's from_utf8 accepts", "[common][utf8]") {
  CHECK(gemma::is_valid_utf8(""));
  CHECK(gemma::is_valid_utf8("h\xC3\xA9llo \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  CHECK(gemma::is_valid_utf8("\xED\x9F\xBF"));  // U+D7FF, just below the surrogates
  for (std::string_view bad :
       {std::string_view("\x80"), std::string_view("\xC0\x80"), std::string_view("\xC1\xBF"),
        std::string_view("\xE0\x80\x80"), std::string_view("\xED\xA0\x80"), std::string_view("\xF0\x80\x80\x80"),
        std::string_view("\xF4\x90\x80\x80"), std::string_view("\xF5\x80\x80\x80"), std::string_view("ab\xE2\x82")}) {
    INFO(bad.size());
    CHECK_FALSE(gemma::is_valid_utf8(bad));
  }
}

TEST_CASE("python_text: a malformed byte is not whitespace", "[common][python-text]") {
  // "\xC2" followed by a space once decoded as U+00A0 (NO-BREAK SPACE) and vanished with the space.
  CHECK(gemma::python_split("a\xC2 b") == std::vector<std::string>{"a\xC2", "b"});
  CHECK(gemma::python_strip(" \xC2 ") == "\xC2");
  CHECK(gemma::python_strip("\xE2\x80\x83 x\xE3\x80\x80") == "x");  // EM SPACE, IDEOGRAPHIC SPACE
}

TEST_CASE("python_text: replace_all is Python's str.replace", "[common][python-text]") {
  CHECK(gemma::replace_all("a-b-c", "-", "+") == "a+b+c");
  CHECK(gemma::replace_all("aaa", "aa", "b") == "ba");  // left to right, no overlaps
  CHECK(gemma::replace_all("x,y,", ",", "") == "xy");
  CHECK(gemma::replace_all("1/2", "/", "\\/") == "1\\/2");
  CHECK(gemma::replace_all("no hit", "z", "y") == "no hit");
  CHECK(gemma::replace_all("", "z", "y").empty());
  CHECK(gemma::replace_all("abc", "", "-") == "abc");  // an empty pattern changes nothing
  CHECK(gemma::replace_all("caf\xC3\xA9 caf\xC3\xA9", "\xC3\xA9", "e") == "cafe cafe");
}

TEST_CASE("python_float: unicode_decimal_value reads category Nd digits only", "[common][python-float]") {
  CHECK(gemma::unicode_decimal_value(U'7') == 7);
  CHECK(gemma::unicode_decimal_value(0x967) == 1);                // DEVANAGARI DIGIT ONE
  CHECK(gemma::unicode_decimal_value(0xFF19) == 9);               // FULLWIDTH DIGIT NINE
  CHECK(gemma::unicode_decimal_value(0x1D7FF) == 9);              // MATHEMATICAL MONOSPACE DIGIT NINE
  CHECK(gemma::unicode_decimal_value(0x194F) == 9);               // LIMBU DIGIT NINE
  CHECK_FALSE(gemma::unicode_decimal_value(0xB2).has_value());    // SUPERSCRIPT TWO: a digit, not decimal
  CHECK_FALSE(gemma::unicode_decimal_value(0x2167).has_value());  // ROMAN NUMERAL EIGHT
  CHECK_FALSE(gemma::unicode_decimal_value(U'a').has_value());
  CHECK_FALSE(gemma::unicode_decimal_value(U'/').has_value());
  CHECK_FALSE(gemma::unicode_decimal_value(U':').has_value());
}

TEST_CASE("python_float: Python's float() grammar", "[common][python-float]") {
  using gemma::python_float;
  CHECK(python_float("4") == 4.0);
  CHECK(python_float(" -3.5 ") == -3.5);
  CHECK(python_float("+.5") == 0.5);
  CHECK(python_float("5.") == 5.0);
  CHECK(python_float("1_000.000_1") == 1000.0001);
  CHECK(python_float("1e1_0") == 1e10);
  CHECK(python_float("2.5E-1") == 0.25);
  CHECK(python_float("0.1") == 0.1);  // correctly rounded
  CHECK(python_float("1e-400") == 0.0);
  CHECK(python_float("-1e400") == -std::numeric_limits<double>::infinity());
  CHECK(python_float("iNfInItY") == std::numeric_limits<double>::infinity());
  CHECK(python_float("-inf") == -std::numeric_limits<double>::infinity());
  const auto nan = python_float("nan"), negative_nan = python_float("-NaN");
  REQUIRE((nan && negative_nan));
  CHECK((std::isnan(*nan) && !std::signbit(*nan)));
  CHECK((std::isnan(*negative_nan) && std::signbit(*negative_nan)));  // math.copysign(1, float("-nan")) == -1
  for (const char* bad : {"",      " ",  ".",   "1__0", "_1",  "1_",      "1._5", "0x10", "e5",   "1.5e", "1e+",
                          "1,000", "5%", "--1", "+-1",  "1 2", "infinit", "nan1", "four", "\xFF", "1\xC3"}) {
    INFO(bad);
    CHECK_FALSE(python_float(bad).has_value());
  }
}

TEST_CASE("python_float: any Unicode decimal digit and Unicode whitespace", "[common][python-float]") {
  using gemma::python_float;
  CHECK(python_float("\xD9\xA1\xD9\xA2") == 12.0);                       // Arabic-Indic ١٢
  CHECK(python_float("\xE0\xA5\xA7\xE0\xA5\xA8.\xE0\xA5\xAB") == 12.5);  // Devanagari १२.५
  CHECK(python_float("\xEF\xBC\x93") == 3.0);                            // full-width ３
  CHECK(python_float("\xF0\x9D\x9F\x8F\xF0\x9D\x9F\x90") == 12.0);       // mathematical bold 𝟏𝟐
  CHECK(python_float("\xE1\xA5\x87") == 1.0);                            // Limbu ᥇
  CHECK(python_float("\xE2\x80\x83 7\xE3\x80\x80") == 7.0);              // EM SPACE ... IDEOGRAPHIC SPACE
  CHECK_FALSE(python_float("\xC2\xB2").has_value());                     // ² is not a decimal digit
  CHECK_FALSE(python_float("\xC2\xBD").has_value());                     // ½
  CHECK_FALSE(python_float("\xD9\xA1,\xD9\xA2").has_value());            // ١,٢
}

TEST_CASE("clock: now_utc is the current UTC second in ISO 8601", "[common][clock]") {
  const std::time_t before = std::time(nullptr);
  const std::string text = gemma::now_utc();
  const std::time_t after = std::time(nullptr);
  REQUIRE(std::regex_match(text, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  std::tm parts{};
  REQUIRE(strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &parts) != nullptr);
  const std::time_t read_back = timegm(&parts);
  CHECK(read_back >= before);
  CHECK(read_back <= after);
}

TEST_CASE("edit_distance counts single-byte insertions, deletions and substitutions", "[common]") {
  CHECK(gemma::edit_distance("", "") == 0);
  CHECK(gemma::edit_distance("", "abc") == 3);
  CHECK(gemma::edit_distance("abc", "") == 3);
  CHECK(gemma::edit_distance("kitten", "sitting") == 3);
  CHECK(gemma::edit_distance("num_fewshots", "num_fewshot") == 1);
  CHECK(gemma::edit_distance("flaw", "lawn") == 2);
  CHECK(gemma::edit_distance("mmlu", "mmlu") == 0);
}
