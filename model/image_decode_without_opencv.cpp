// decode_image's pixel decoder in a build without OpenCV: see model/image_decode_backend.h.
#include "common/error.h"
#include "model/image_decode_backend.h"

namespace gemma {

RgbImage decode_pixels_to_rgb(std::string_view, bool, const std::string& source, const char* format) {
  fail(
      "{}: this gemma-eval was built without OpenCV, so it cannot decode {} images (install libopencv-dev and "
      "rebuild; preprocessed pixel values in a .npy file [3, H, W] are still read)",
      source, format);
}

}  // namespace gemma
