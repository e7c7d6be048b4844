#pragma once
// PIL's Image.resize for 8-bit RGB images, bit for bit (Pillow's libImaging/Resample.c, the path
// transformers' Gemma3ImageProcessor takes: image.resize((w, h), resample, reducing_gap=None)).
//
// The algorithm, re-implemented from its documented behaviour:
//  * separable convolution, horizontal pass first, then vertical; the intermediate image is rounded to
//    8 bits (PIL keeps it in an 8-bit image);
//  * per axis: scale = in/out, filterscale = max(scale, 1), support = filter support * filterscale (so a
//    downscale widens the kernel: antialiasing); output pixel i is centred at (i + 0.5) * scale, its taps
//    run from int(center - support + 0.5) to int(center + support + 0.5) clipped to the image, weighted
//    filter((j - center + 0.5) / filterscale) and normalised to sum 1 (double precision);
//  * the weights become fixed point with 22 fractional bits (rounded half away from zero), each output
//    starts from 2^21 (rounding), accumulates pixel * weight in 32-bit integers, then >> 22 and is clipped
//    to 0..255;
//  * an axis whose size does not change is not resampled; same size on both axes is a plain copy.
// OpenCV's INTER_LINEAR / INTER_AREA are different filters and do not give these bytes.
#include <string>

#include "model/image_rgb.h"

namespace gemma {

// PIL's Image.Resampling values (the `resample` field of preprocessor_config.json).
enum class PilFilter { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 };

const char* pil_filter_name(PilFilter filter);

// PIL.Image.resize((width, height), resample=filter) of `image`. All filters but `nearest` (which PIL
// runs through a different, affine code path; refused with gemma::Error). width and height must be > 0.
RgbImage pil_resize(const RgbImage& image, int width, int height, PilFilter filter);

}  // namespace gemma
