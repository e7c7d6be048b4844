#include "common/utf8.h"

namespace gemma {
namespace {

// Bytes in the sequence a lead byte starts; 0 for a byte that cannot start one.
size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 0;
}

}  // namespace

Utf8Char decode_utf8_at(std::string_view text, size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  const size_t length = sequence_length(lead);
  if (length == 1) return {lead, 1, true};
  const Utf8Char malformed{kReplacementCharacter, 1, false};
  if (length == 0 || pos + length > text.size()) return malformed;
  char32_t c = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    const auto byte = static_cast<unsigned char>(text[pos + i]);
    if (!is_utf8_continuation(byte)) return malformed;
    c = (c << 6) | (byte & 0x3F);
  }
  return {c, length, true};
}

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = decode_utf8_at(text, pos);
    out += c.code_point;
    pos += c.length;
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

bool is_valid_utf8(std::string_view bytes) {
  for (size_t pos = 0; pos < bytes.size();) {
    const Utf8Char c = decode_utf8_at(bytes, pos);
    if (!c.valid) return false;
    if (c.length > 1) {
      // Overlong forms, surrogates and code points above U+10FFFF, which Rust's from_utf8 refuses.
      const auto lead = static_cast<unsigned char>(bytes[pos]);
      const auto second = static_cast<unsigned char>(bytes[pos + 1]);
      if (lead == 0xC0 || lead == 0xC1 || lead > 0xF4) return false;
      if (lead == 0xE0 && second < 0xA0) return false;
      if (lead == 0xED && second > 0x9F) return false;
      if (lead == 0xF0 && second < 0x90) return false;
      if (lead == 0xF4 && second > 0x8F) return false;
    }
    pos += c.length;
  }
  return true;
}

}  // namespace gemma
