#pragma once
// UTF-8 decoding and encoding: the one place the project turns bytes into code points and back.
// Python and the tokenizers crate see text as code points; these helpers let the torch-free layers
// (and model/'s tokenizer and chat template) do the same on std::string bytes. Torch-free.
#include <cstddef>
#include <string>
#include <string_view>

namespace gemma {

constexpr char32_t kReplacementCharacter = 0xFFFD;

inline bool is_utf8_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

struct Utf8Char {
  char32_t code_point;
  size_t length;  // bytes, at least 1
  bool valid;     // false: a malformed byte, decoded as U+FFFD of length 1
};

// The character starting at text[pos] (pos < text.size()). A byte that starts no complete sequence
// (a stray continuation byte, a lead byte 0xF8-0xFF, a sequence cut short by the end of the text or by
// a byte that is not a continuation byte) is a character of its own: U+FFFD, length 1, valid false, so
// decoding always advances and every byte is kept somewhere. Overlong forms and surrogates decode as
// they stand; is_valid_utf8 is the strict check.
Utf8Char decode_utf8_at(std::string_view text, size_t pos);

// Every character of `text` as decode_utf8_at reads it.
std::u32string decode_utf8(std::string_view text);

// Appends the UTF-8 bytes of `c` (1 to 4 bytes; no check for surrogates or values above U+10FFFF).
void append_utf8(std::string& out, char32_t c);

// Whether `bytes` is well-formed UTF-8 as Rust's std::str::from_utf8 (and so the tokenizers crate)
// accepts it: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view bytes);

}  // namespace gemma
