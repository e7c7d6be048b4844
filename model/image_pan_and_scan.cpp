#include "model/image_pan_and_scan.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"

namespace gemma {

std::vector<CropBox> pan_and_scan_boxes(int width, int height, const PanAndScanParams& params) {
  if (width <= 0 || height <= 0) fail("pan-and-scan of an empty {}x{} image", width, height);
  if (params.min_crop_size <= 0 || params.max_num_crops <= 0) {
    fail("pan-and-scan: min_crop_size ({}) and max_num_crops ({}) must be > 0", params.min_crop_size,
         params.max_num_crops);
  }
  // Python's true division and math.floor / math.ceil, in double precision like CPython.
  const double w = width, h = height;
  int crops_w = 1, crops_h = 1;
  if (width >= height) {
    if (w / h < params.min_ratio_to_activate) return {};
    crops_w = static_cast<int>(std::floor(w / h + 0.5));
    crops_w = std::min(static_cast<int>(std::floor(w / params.min_crop_size)), crops_w);
    crops_w = std::max(2, crops_w);
    crops_w = std::min(params.max_num_crops, crops_w);
  } else {
    if (h / w < params.min_ratio_to_activate) return {};
    crops_h = static_cast<int>(std::floor(h / w + 0.5));
    crops_h = std::min(static_cast<int>(std::floor(h / params.min_crop_size)), crops_h);
    crops_h = std::max(2, crops_h);
    crops_h = std::min(params.max_num_crops, crops_h);
  }
  const int crop_w = static_cast<int>(std::ceil(w / crops_w));
  const int crop_h = static_cast<int>(std::ceil(h / crops_h));
  if (std::min(crop_w, crop_h) < params.min_crop_size) return {};

  std::vector<CropBox> boxes;
  for (int i = 0; i < crops_h; ++i) {
    for (int j = 0; j < crops_w; ++j) {
      CropBox box{j * crop_w, i * crop_h, 0, 0};
      box.width = std::min(crop_w, width - box.x);
      box.height = std::min(crop_h, height - box.y);
      // numpy would give an empty crop here, which transformers cannot resize; only reachable with
      // unusual parameters (tiny min_crop_size), never with the defaults.
      if (box.width <= 0 || box.height <= 0) {
        fail("pan-and-scan of a {}x{} image: crop {} at ({}, {}) is empty (min_crop_size {}, max_num_crops {})", width,
             height, boxes.size(), box.x, box.y, params.min_crop_size, params.max_num_crops);
      }
      boxes.push_back(box);
    }
  }
  return boxes;
}

RgbImage crop_image(const RgbImage& image, const CropBox& box) {
  if (box.x < 0 || box.y < 0 || box.width <= 0 || box.height <= 0 || box.x + box.width > image.width ||
      box.y + box.height > image.height) {
    fail("crop ({}, {}, {}x{}) outside a {}x{} image", box.x, box.y, box.width, box.height, image.width, image.height);
  }
  RgbImage out(box.width, box.height);
  for (int y = 0; y < box.height; ++y) {
    std::memcpy(out.row(y), image.row(box.y + y) + static_cast<size_t>(box.x) * 3, static_cast<size_t>(box.width) * 3);
  }
  return out;
}

}  // namespace gemma
