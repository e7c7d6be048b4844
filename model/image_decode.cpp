#include "model/image_decode.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "model/image_decode_backend.h"

namespace gemma {
namespace {

enum class Format { Png, Jpeg, Webp, Bmp };

const char* format_name(Format format) {
  switch (format) {
    case Format::Png:
      return "PNG";
    case Format::Jpeg:
      return "JPEG";
    case Format::Webp:
      return "WebP";
    case Format::Bmp:
      return "BMP";
  }
  return "?";
}

uint8_t byte_at(std::string_view b, size_t i) { return static_cast<uint8_t>(b[i]); }
uint32_t be16(std::string_view b, size_t i) { return (uint32_t{byte_at(b, i)} << 8) | byte_at(b, i + 1); }
uint32_t be32(std::string_view b, size_t i) { return (be16(b, i) << 16) | be16(b, i + 2); }
uint32_t le32(std::string_view b, size_t i) {
  return uint32_t{byte_at(b, i)} | (uint32_t{byte_at(b, i + 1)} << 8) | (uint32_t{byte_at(b, i + 2)} << 16) |
         (uint32_t{byte_at(b, i + 3)} << 24);
}

bool starts_with(std::string_view b, std::string_view prefix) { return b.substr(0, prefix.size()) == prefix; }

// The container, from the file signature (PIL also ignores the file name).
Format sniff_format(std::string_view bytes, const std::string& source) {
  if (bytes.empty()) fail("{}: the image file is empty", source);
  if (starts_with(bytes, std::string_view("\x89PNG\r\n\x1a\n", 8))) return Format::Png;
  if (starts_with(bytes, "\xFF\xD8\xFF")) return Format::Jpeg;
  if (bytes.size() >= 12 && starts_with(bytes, "RIFF") && bytes.substr(8, 4) == "WEBP") return Format::Webp;
  if (starts_with(bytes, "BM")) return Format::Bmp;
  std::string what = "an unrecognised file signature";
  if (starts_with(bytes, "GIF8")) what = "a GIF image";
  if (starts_with(bytes, std::string_view("II*\0", 4)) || starts_with(bytes, std::string_view("MM\0*", 4))) {
    what = "a TIFF image";
  }
  fail("{}: not a supported image: {} (supported: PNG, JPEG, WebP, BMP)", source, what);
}

// ---- the EXIF Orientation tag, read from a TIFF block (optionally behind "Exif\0\0") ----
int tiff_orientation(std::string_view tiff) {
  if (starts_with(tiff, std::string_view("Exif\0\0", 6))) tiff.remove_prefix(6);
  if (tiff.size() < 8) return 1;
  bool little = starts_with(tiff, "II");
  if (!little && !starts_with(tiff, "MM")) return 1;
  auto u16 = [&](size_t i) -> uint32_t {
    return little ? (uint32_t{byte_at(tiff, i)} | (uint32_t{byte_at(tiff, i + 1)} << 8)) : be16(tiff, i);
  };
  auto u32 = [&](size_t i) -> uint32_t { return little ? le32(tiff, i) : be32(tiff, i); };
  if (u16(2) != 42) return 1;
  size_t ifd = u32(4);
  if (ifd > tiff.size() || tiff.size() - ifd < 2) return 1;
  size_t entries = u16(ifd);
  for (size_t e = 0; e < entries; ++e) {
    size_t at = ifd + 2 + 12 * e;
    if (at + 12 > tiff.size()) break;
    if (u16(at) != 0x0112) continue;
    uint32_t type = u16(at + 2), count = u32(at + 4);
    if (count != 1) return 1;  // PIL would get a tuple, which exif_transpose does not map
    uint32_t value = type == 3 ? u16(at + 8) : type == 4 ? u32(at + 8) : type == 1 ? byte_at(tiff, at + 8) : 0;
    return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
  }
  return 1;
}

// ---- container walks: truncation checks (PIL refuses truncated files) and metadata ----
struct PngInfo {
  ImageSize size;
  int bit_depth = 0;
  int color_type = -1;
  std::string_view exif;  // the last eXIf chunk, as PIL keeps the last one
};

PngInfo walk_png(std::string_view b, const std::string& source) {
  PngInfo info;
  size_t pos = 8;
  bool seen_idat = false;
  while (true) {
    if (b.size() - pos < 12) {
      fail("{}: truncated PNG: the file ends {} (no IEND chunk)", source,
           seen_idat ? "after the image data" : "before the image data is complete");
    }
    uint32_t length = be32(b, pos);
    std::string_view type = b.substr(pos + 4, 4);
    if (length > b.size() - pos - 12) fail("{}: truncated PNG: the file ends inside the '{}' chunk", source, type);
    std::string_view data = b.substr(pos + 8, length);
    if (pos == 8) {
      if (type != "IHDR" || length != 13) fail("{}: corrupt PNG: the first chunk is not a valid IHDR", source);
      info.size = {be32(data, 0), be32(data, 4)};
      info.bit_depth = byte_at(data, 8);
      info.color_type = byte_at(data, 9);
    }
    if (type == "IDAT") seen_idat = true;
    if (type == "eXIf") info.exif = data;
    if (type == "IEND") break;
    pos += 12 + length;
  }
  if (!seen_idat) fail("{}: corrupt PNG: no image data (IDAT chunk)", source);
  return info;
}

struct JpegInfo {
  ImageSize size;         // from the first SOFn segment; 0x0 if none (or a DNL-defined height of 0)
  std::string_view exif;  // the first APP1 "Exif" segment, as PIL keeps the first one
};

// SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC), which share the range: the frame headers.
bool is_start_of_frame(uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

JpegInfo walk_jpeg(std::string_view b, const std::string& source) {
  JpegInfo info;
  const size_t n = b.size();
  size_t pos = 2;  // after SOI
  auto truncated = [&](const char* where) { fail("{}: truncated JPEG: the file ends {}", source, where); };
  while (true) {
    while (pos < n && byte_at(b, pos) != 0xFF) ++pos;  // libjpeg skips stray bytes between segments too
    while (pos < n && byte_at(b, pos) == 0xFF) ++pos;
    if (pos >= n) truncated("before the end-of-image marker");
    uint8_t marker = byte_at(b, pos++);
    if (marker == 0xD9) return info;                                                       // EOI
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (n - pos < 2) truncated("inside a segment header");
    size_t length = be16(b, pos);
    if (length < 2) fail("{}: corrupt JPEG: a segment of length {}", source, length);
    if (n - pos < length) truncated("inside a segment");
    std::string_view segment = b.substr(pos + 2, length - 2);
    if (marker == 0xE1 && info.exif.empty() && starts_with(segment, std::string_view("Exif\0\0", 6))) {
      info.exif = segment;
    }
    // A frame header: precision (1 byte), height and width (2 bytes each, big-endian), components.
    if (is_start_of_frame(marker) && info.size.width == 0 && segment.size() >= 5) {
      info.size = {be16(segment, 3), be16(segment, 1)};
    }
    pos += length;
    if (marker != 0xDA) continue;
    // Entropy-coded data after SOS: runs to the next marker that is not a stuffed 0xFF00 or an RSTn.
    while (true) {
      const void* ff = pos < n ? std::memchr(b.data() + pos, 0xFF, n - pos) : nullptr;
      if (ff == nullptr) truncated("inside the compressed image data");
      pos = static_cast<size_t>(static_cast<const char*>(ff) - b.data());
      size_t next = pos + 1;
      while (next < n && byte_at(b, next) == 0xFF) ++next;
      if (next >= n) truncated("inside the compressed image data");
      uint8_t m = byte_at(b, next);
      if (m == 0x00 || (m >= 0xD0 && m <= 0xD7)) {
        pos = next + 1;
        continue;
      }
      break;  // a real marker: the outer loop reads it
    }
  }
}

struct WebpInfo {
  ImageSize size;  // the VP8X canvas, else the first VP8/VP8L bitstream's frame; 0x0 if none
  std::string_view exif;
};

// The dimensions in a WebP image chunk (libwebp's src/dec/webp_dec.c, vp8l_dec.c and vp8_dec.c read the
// same fields): VP8X: 24-bit canvas width-1 and height-1 at bytes 4 and 7; VP8L: after the 0x2F signature,
// 14-bit width-1 and height-1; VP8 (lossy key frame): after a 3-byte frame tag and the 9D 01 2A start
// code, 14-bit width and height (the top 2 bits are the scale).
ImageSize webp_chunk_size(std::string_view type, std::string_view data) {
  auto u24 = [&](size_t i) {
    return int64_t{byte_at(data, i)} | (int64_t{byte_at(data, i + 1)} << 8) | (int64_t{byte_at(data, i + 2)} << 16);
  };
  if (type == "VP8X" && data.size() >= 10) return {u24(4) + 1, u24(7) + 1};
  if (type == "VP8L" && data.size() >= 5 && byte_at(data, 0) == 0x2F) {
    const uint32_t bits = le32(data, 1);
    return {(bits & 0x3FFF) + int64_t{1}, ((bits >> 14) & 0x3FFF) + int64_t{1}};
  }
  if (type == "VP8 " && data.size() >= 10 && data.substr(3, 3) == "\x9D\x01\x2A") {
    const uint32_t width = uint32_t{byte_at(data, 6)} | (uint32_t{byte_at(data, 7)} << 8);
    const uint32_t height = uint32_t{byte_at(data, 8)} | (uint32_t{byte_at(data, 9)} << 8);
    return {width & 0x3FFF, height & 0x3FFF};
  }
  return {};
}

WebpInfo walk_webp(std::string_view b, const std::string& source) {
  WebpInfo info;
  uint64_t riff_end = uint64_t{le32(b, 4)} + 8;
  if (riff_end < 12) fail("{}: corrupt WebP: RIFF size {}", source, riff_end - 8);
  if (riff_end > b.size()) {
    fail("{}: truncated WebP: the RIFF header says {} bytes, the file has {}", source, riff_end, b.size());
  }
  size_t pos = 12;
  while (pos + 8 <= riff_end) {
    std::string_view type = b.substr(pos, 4);
    uint64_t size = le32(b, pos + 4);
    if (size > riff_end - pos - 8) fail("{}: truncated WebP: the file ends inside the '{}' chunk", source, type);
    if (type == "EXIF" && info.exif.empty()) info.exif = b.substr(pos + 8, size);
    if (info.size.width == 0) info.size = webp_chunk_size(type, b.substr(pos + 8, size));
    pos += 8 + size + (size & 1);
  }
  return info;
}

struct BmpInfo {
  ImageSize size;
  int bpp = 0;
  bool rgb565 = false;  // 16-bit: 5-6-5 bitfields (else 5-5-5)
};

// Header checks, and what OpenCV does differently: it expands 16-bit BMP channels by a shift (v << 3),
// PIL by v * 255 / 31 (decode_image remaps); it reads 32-bit bitfields as BGR(A) whatever the masks.
BmpInfo walk_bmp(std::string_view b, const std::string& source) {
  BmpInfo info;
  auto u16le = [&](size_t i) { return uint32_t{byte_at(b, i)} | (uint32_t{byte_at(b, i + 1)} << 8); };
  if (b.size() < 26) fail("{}: truncated BMP: the file ends inside the header", source);
  const uint32_t offset = le32(b, 10), header_size = le32(b, 14);
  int64_t width = 0, height = 0;
  uint32_t compression = 0;
  if (header_size == 12) {
    width = u16le(18);
    height = u16le(20);
    info.bpp = static_cast<int>(u16le(24));
  } else {
    if (b.size() < 34) fail("{}: truncated BMP: the file ends inside the header", source);
    width = static_cast<int32_t>(le32(b, 18));
    height = static_cast<int32_t>(le32(b, 22));
    info.bpp = static_cast<int>(u16le(28));
    compression = le32(b, 30);
  }
  if (compression == 3 || compression == 6) {  // BI_BITFIELDS / BI_ALPHABITFIELDS: masks at byte 54
    if (b.size() < 66) fail("{}: truncated BMP: the file ends inside the colour masks", source);
    const uint32_t red = le32(b, 54), green = le32(b, 58), blue = le32(b, 62);
    if (info.bpp == 16 && red == 0xF800 && green == 0x07E0 && blue == 0x001F) {
      info.rgb565 = true;
    } else if (!(info.bpp == 16 && red == 0x7C00 && green == 0x03E0 && blue == 0x001F) &&
               !(info.bpp == 32 && red == 0xFF0000 && green == 0xFF00 && blue == 0xFF)) {
      fail("{}: unsupported BMP bitfields layout ({} bits, masks R {:#x} G {:#x} B {:#x})", source, info.bpp, red,
           green, blue);
    }
  }
  info.size = {width, height < 0 ? -height : height};  // a negative height: rows stored top-down
  if ((compression == 0 || compression == 3 || compression == 6) && width > 0 && info.bpp > 0) {
    const uint64_t stride = (static_cast<uint64_t>(width) * static_cast<uint64_t>(info.bpp) + 31) / 32 * 4;
    const uint64_t needed = uint64_t{offset} + stride * static_cast<uint64_t>(height < 0 ? -height : height);
    if (needed > b.size()) {
      fail("{}: truncated BMP: {}x{} pixels at {} bits need {} bytes, the file has {}", source, width,
           height < 0 ? -height : height, info.bpp, needed, b.size());
    }
  }
  return info;
}

// OpenCV expands a 5-bit BMP channel v to v << 3 (6-bit: v << 2); PIL's BGR;15 / BGR;16 unpackers to
// v * 255 / 31 (v * 255 / 63). The shift is lossless, so the PIL value is recovered exactly.
void expand_bmp16_like_pil(RgbImage& image, bool rgb565) {
  uint8_t five[256], six[256];
  for (int v = 0; v < 256; ++v) {
    five[v] = static_cast<uint8_t>((v >> 3) * 255 / 31);
    six[v] = static_cast<uint8_t>((v >> 2) * 255 / 63);
  }
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    const bool green = i % 3 == 1;
    image.pixels[i] = (green && rgb565) ? six[image.pixels[i]] : five[image.pixels[i]];
  }
}

}  // namespace

int exif_orientation(std::string_view bytes) {
  try {
    if (starts_with(bytes, std::string_view("\x89PNG\r\n\x1a\n", 8))) return tiff_orientation(walk_png(bytes, "").exif);
    if (starts_with(bytes, "\xFF\xD8\xFF")) return tiff_orientation(walk_jpeg(bytes, "").exif);
    if (bytes.size() >= 12 && starts_with(bytes, "RIFF") && bytes.substr(8, 4) == "WEBP") {
      return tiff_orientation(walk_webp(bytes, "").exif);
    }
  } catch (const Error&) {
  }
  return 1;
}

RgbImage apply_exif_orientation(const RgbImage& in, int orientation) {
  if (orientation < 2 || orientation > 8) return in;
  const int w = in.width, h = in.height;
  const bool swap = orientation >= 5;
  RgbImage out(swap ? h : w, swap ? w : h);
  for (int y = 0; y < out.height; ++y) {
    uint8_t* dst = out.row(y);
    for (int x = 0; x < out.width; ++x, dst += 3) {
      int sx = x, sy = y;
      switch (orientation) {
        case 2:
          sx = w - 1 - x;
          break;  // FLIP_LEFT_RIGHT
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;  // ROTATE_180
        case 4:
          sy = h - 1 - y;
          break;  // FLIP_TOP_BOTTOM
        case 5:
          sx = y;
          sy = x;
          break;  // TRANSPOSE
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;  // ROTATE_270 (90 degrees clockwise)
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;  // TRANSVERSE
        case 8:
          sx = w - 1 - y;
          sy = x;
          break;  // ROTATE_90 (counter-clockwise)
      }
      const uint8_t* src = in.row(sy) + static_cast<size_t>(sx) * 3;
      dst[0] = src[0];
      dst[1] = src[1];
      dst[2] = src[2];
    }
  }
  return out;
}

ImageSize image_header_size(std::string_view bytes, const std::string& source) {
  switch (sniff_format(bytes, source)) {
    case Format::Png:
      return walk_png(bytes, source).size;
    case Format::Jpeg:
      return walk_jpeg(bytes, source).size;
    case Format::Webp:
      return walk_webp(bytes, source).size;
    case Format::Bmp:
      return walk_bmp(bytes, source).size;
  }
  return {};
}

RgbImage decode_image(std::string_view bytes, const std::string& source, const ImageDecodeOptions& options) {
  const Format format = sniff_format(bytes, source);
  std::string_view exif;
  bool png_gray16 = false;
  BmpInfo bmp;
  ImageSize declared;
  switch (format) {
    case Format::Png: {
      PngInfo info = walk_png(bytes, source);
      exif = info.exif;
      png_gray16 = info.color_type == 0 && info.bit_depth == 16;
      declared = info.size;
      break;
    }
    case Format::Jpeg: {
      JpegInfo info = walk_jpeg(bytes, source);
      exif = info.exif;
      declared = info.size;
      break;
    }
    case Format::Webp: {
      WebpInfo info = walk_webp(bytes, source);
      exif = info.exif;
      declared = info.size;
      break;
    }
    case Format::Bmp:
      bmp = walk_bmp(bytes, source);
      declared = bmp.size;
      break;
  }
  // Refused from the header, before the decoder allocates the pixels: a 3 MB PNG of 32000x32000 black
  // pixels would otherwise cost 3 GB and seconds of inflating before the limit applies to the result.
  // (decode_pixels_to_rgb checks the decoded size too, for headers that leave a dimension open.)
  const bool too_large = declared.width > kMaxImagePixels || declared.height > kMaxImagePixels ||
                         declared.width * declared.height > kMaxImagePixels;  // each factor bounded: no overflow
  if (too_large) {
    fail(
        "{}: the image is {}x{} pixels (from its {} header), more than PIL's decompression-bomb limit ({} "
        "pixels), which transformers refuses too; not decoded",
        source, declared.width, declared.height, format_name(format), kMaxImagePixels);
  }
  RgbImage rgb = decode_pixels_to_rgb(bytes, png_gray16, source, format_name(format));
  if (bmp.bpp == 16) expand_bmp16_like_pil(rgb, bmp.rgb565);
  if (options.apply_exif_orientation) rgb = apply_exif_orientation(rgb, tiff_orientation(exif));
  return rgb;
}

RgbImage decode_image_file(const std::filesystem::path& path, const ImageDecodeOptions& options) {
  std::string bytes = read_file(path);
  return decode_image(bytes, path.string(), options);
}

}  // namespace gemma
