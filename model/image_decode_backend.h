#pragma once
// The pixel decoder behind decode_image (model/image_decode.cpp), which has already identified the format
// and walked its headers: OpenCV's imdecode (model/image_decode_opencv.cpp) where OpenCV was found at
// configure time, else model/image_decode_without_opencv.cpp, whose every call is a clear error (a build
// for a machine without Debian's OpenCV, e.g. the CUDA check in scripts/gpu, still reads preprocessed
// pixel values from .npy files).
#include <string>
#include <string_view>

#include "model/image_rgb.h"

namespace gemma {

// Decodes the file's bytes to RGB as PIL's convert("RGB") does (alpha dropped, 16-bit samples to 8 bits;
// a 16-bit gray PNG clipped: `png_gray16`). EXIF orientation is not applied. Errors name `source` and
// `format` (e.g. "PNG").
RgbImage decode_pixels_to_rgb(std::string_view bytes, bool png_gray16, const std::string& source, const char* format);

}  // namespace gemma
