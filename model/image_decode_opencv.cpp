// OpenCV's imdecode behind decode_image: see model/image_decode_backend.h.
#include <algorithm>
#include <cstdint>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/error.h"
#include "model/image_decode.h"
#include "model/image_decode_backend.h"

namespace gemma {
namespace {

// OpenCV's BGR/BGRA/gray/gray+alpha (8 or 16 bit) -> PIL's convert("RGB").
RgbImage to_rgb(const cv::Mat& mat, bool png_gray16, const std::string& source) {
  const int channels = mat.channels();
  if (mat.dims != 2 || channels < 1 || channels > 4 || (mat.depth() != CV_8U && mat.depth() != CV_16U)) {
    fail("{}: unsupported pixel layout after decoding ({} channels, OpenCV depth {})", source, channels, mat.depth());
  }
  RgbImage out(mat.cols, mat.rows);
  const bool gray = channels <= 2;
  for (int y = 0; y < mat.rows; ++y) {
    uint8_t* dst = out.row(y);
    for (int x = 0; x < mat.cols; ++x, dst += 3) {
      uint32_t s[3];
      for (int c = 0; c < 3; ++c) {
        int src_channel = gray ? 0 : 2 - c;  // OpenCV stores BGR(A)
        s[c] = mat.depth() == CV_8U ? mat.ptr<uint8_t>(y)[x * channels + src_channel]
                                    : mat.ptr<uint16_t>(y)[x * channels + src_channel];
        if (mat.depth() == CV_16U) s[c] = png_gray16 ? std::min<uint32_t>(s[c], 255) : s[c] >> 8;
      }
      dst[0] = static_cast<uint8_t>(s[0]);
      dst[1] = static_cast<uint8_t>(s[1]);
      dst[2] = static_cast<uint8_t>(s[2]);
    }
  }
  return out;
}

}  // namespace

RgbImage decode_pixels_to_rgb(std::string_view bytes, bool png_gray16, const std::string& source, const char* format) {
  cv::Mat mat;
  try {
    // IMREAD_UNCHANGED: alpha and 16-bit samples as stored, EXIF orientation not applied (the caller does).
    cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    mat = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    fail("{}: could not decode the {} image: {}", source, format, e.what());
  }
  if (mat.empty()) fail("{}: could not decode the {} image (corrupt or truncated file)", source, format);
  if (static_cast<int64_t>(mat.cols) * mat.rows > kMaxImagePixels) {
    fail(
        "{}: the image is {}x{} pixels, more than PIL's decompression-bomb limit ({} pixels), which transformers "
        "refuses too",
        source, mat.cols, mat.rows, kMaxImagePixels);
  }
  return to_rgb(mat, png_gray16, source);
}

}  // namespace gemma
