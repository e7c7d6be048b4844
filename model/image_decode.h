#pragma once
// Image files -> 8-bit RGB, pixel for pixel what Hugging Face's Gemma 3 processor sees: transformers'
// load_image (PIL.Image.open, PIL.ImageOps.exif_transpose, .convert("RGB")). Decoding is OpenCV's (the
// same libjpeg-turbo / libpng / libwebp PIL uses); the conversion to RGB follows PIL's rules per mode:
//   RGB, palette (P, also with tRNS), 1/2/4/8-bit gray (L, 1) -> RGB as PIL expands them; any alpha
//   (RGBA, LA, tRNS) is dropped, not composited: a fully transparent pixel keeps its RGB values;
//   16-bit RGB/RGBA/gray+alpha PNG -> the high byte of each sample (PIL reads them as 8-bit "RGB;16B");
//   16-bit gray PNG -> min(value, 255) (PIL opens it as mode "I", whose convert("RGB") clips).
// Formats: PNG, JPEG, WebP and BMP, told apart by content (as PIL does), not by the file name. The first
// frame of an animated PNG/WebP. Known difference: CMYK JPEGs (rare) are converted with OpenCV's
// formula, which can differ from PIL's by a few levels.
// A missing, empty, truncated or undecodable file is a gemma::Error naming the file.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "model/image_rgb.h"

namespace gemma {

struct ImageDecodeOptions {
  // transformers' load_image (what the processor uses for paths and URLs, and apply_chat_template for
  // {"type": "image", "url"/"path": ...}) applies the EXIF orientation (PIL.ImageOps.exif_transpose).
  // A PIL image handed to the processor directly (e.g. from `datasets`) is not rotated: false.
  bool apply_exif_orientation = true;
};

// PIL's Image.MAX_IMAGE_PIXELS guard: Image.open raises DecompressionBombError above twice its default
// (1024 * 1024 * 1024 // 4 // 3), so transformers' load_image refuses such files. decode_image refuses
// them from the header, before decoding.
constexpr int64_t kMaxImagePixels = 2 * (int64_t{1024} * 1024 * 1024 / 4 / 3);

struct ImageSize {
  int64_t width = 0, height = 0;
};

// The width and height the file's header declares (PNG IHDR; JPEG SOFn; WebP VP8X canvas, else the
// VP8L/VP8 frame; BMP info header), read without decoding any pixels; 0x0 where the header leaves them
// open. The container is checked as decode_image checks it: errors name `source`.
ImageSize image_header_size(std::string_view bytes, const std::string& source);

// Reads and decodes `path`. Errors name the file.
RgbImage decode_image_file(const std::filesystem::path& path, const ImageDecodeOptions& options = {});

// Decodes the bytes of an image file; `source` names it in errors.
RgbImage decode_image(std::string_view bytes, const std::string& source, const ImageDecodeOptions& options = {});

// The EXIF Orientation tag (1..8) of a JPEG (APP1 "Exif"), PNG (eXIf chunk) or WebP (EXIF chunk); 1 when
// the file has none or it is not 1..8.
int exif_orientation(std::string_view bytes);

// PIL's Image.transpose for EXIF orientation `orientation` as ImageOps.exif_transpose maps it
// (2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE,
// 8 ROTATE_90); 1 or anything else returns the image unchanged.
RgbImage apply_exif_orientation(const RgbImage& image, int orientation);

}  // namespace gemma
