#pragma once
// Gemma 3 pan-and-scan (transformers models/gemma3/image_processing_gemma3.py@06053b84; transformers
// Gemma3ImageProcessor.pan_and_scan): an image whose aspect ratio is at least min_ratio_to_activate is cut into a row
// (landscape) or column (portrait) of crops, which the model sees after the whole image.
//
// For width >= height (portrait is the same with the axes swapped):
//   no crops if width / height < min_ratio_to_activate;
//   n = floor(width / height + 0.5); n = min(floor(width / min_crop_size), n); n = max(2, n);
//   n = min(max_num_crops, n);
//   crop_w = ceil(width / n), crop_h = height; no crops if min(crop_w, crop_h) < min_crop_size;
//   crop j covers x in [j * crop_w, j * crop_w + crop_w) clipped to the image (numpy slicing: the last
//   crop may be narrower). Crops are listed row-major.
#include <vector>

#include "model/image_rgb.h"

namespace gemma {

struct PanAndScanParams {
  // Gemma3Processor's defaults (its images_kwargs), used when preprocessor_config.json leaves them null.
  int min_crop_size = 256;
  int max_num_crops = 4;
  double min_ratio_to_activate = 1.2;
};

struct CropBox {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const CropBox& o) const { return x == o.x && y == o.y && width == o.width && height == o.height; }
};

// The crops of a width x height image; empty when pan-and-scan does not apply.
std::vector<CropBox> pan_and_scan_boxes(int width, int height, const PanAndScanParams& params);

// The pixels of `box` (which must lie inside the image).
RgbImage crop_image(const RgbImage& image, const CropBox& box);

}  // namespace gemma
