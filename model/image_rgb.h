#pragma once
// An 8-bit RGB image in memory: what every image becomes after decoding (PIL's mode "RGB"), and what
// the resizer and the pan-and-scan cropper work on. Row-major, interleaved: pixel (x, y) channel c is
// pixels[(y * width + x) * 3 + c], the layout of numpy's np.asarray(pil_image) ([H, W, 3] uint8).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gemma {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3 bytes

  RgbImage() = default;
  RgbImage(int w, int h) : width(w), height(h), pixels(static_cast<size_t>(w) * static_cast<size_t>(h) * 3) {}

  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * static_cast<size_t>(width) * 3; }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * static_cast<size_t>(width) * 3; }
  uint8_t at(int x, int y, int c) const { return row(y)[static_cast<size_t>(x) * 3 + static_cast<size_t>(c)]; }
};

}  // namespace gemma
