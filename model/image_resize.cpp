#include "model/image_resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/error.h"

namespace gemma {
namespace {

// Filters exactly as Pillow writes them (double arithmetic, including hamming's float constants).
double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}
double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }
double hamming_filter(double x) {
  if (x < 0.0) x = -x;
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * M_PI;
  return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
}
double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
double sinc_filter(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}
double lanczos_filter(double x) { return (-3.0 <= x && x < 3.0) ? sinc_filter(x) * sinc_filter(x / 3) : 0.0; }

struct Filter {
  double (*function)(double);
  double support;
};

Filter filter_of(PilFilter filter) {
  switch (filter) {
    case PilFilter::Box:
      return {box_filter, 0.5};
    case PilFilter::Bilinear:
      return {bilinear_filter, 1.0};
    case PilFilter::Hamming:
      return {hamming_filter, 1.0};
    case PilFilter::Bicubic:
      return {bicubic_filter, 2.0};
    case PilFilter::Lanczos:
      return {lanczos_filter, 3.0};
    case PilFilter::Nearest:
      break;
  }
  fail(
      "PIL resampling filter {} ({}) is not supported (supported: lanczos 1, bilinear 2, bicubic 3, box 4, "
      "hamming 5)",
      static_cast<int>(filter), pil_filter_name(filter));
}

constexpr int kPrecisionBits = 32 - 8 - 2;

// One axis: for each output index, the first input index, the tap count and the fixed-point weights.
struct AxisCoefficients {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> weights;  // out_size * ksize
};

AxisCoefficients precompute(int in_size, int out_size, const Filter& filter) {
  // PIL passes the box (0, 0, in_w, in_h) as floats.
  const float in0 = 0.0f, in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = filter.support * filterscale;
  AxisCoefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.weights.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> k(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      double w = filter.function((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[x] /= ww;
    }
    int32_t* fixed = &c.weights[static_cast<size_t>(xx) * c.ksize];
    for (int x = 0; x < xmax; ++x) {
      fixed[x] = k[x] < 0 ? static_cast<int32_t>(-0.5 + k[x] * (1 << kPrecisionBits))
                          : static_cast<int32_t>(0.5 + k[x] * (1 << kPrecisionBits));
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t value) {
  int32_t v = value >> kPrecisionBits;  // arithmetic shift, as in PIL
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Rows [row0, row0 + out.height) of `in`, resampled horizontally into `out`.
void resample_horizontal(const RgbImage& in, int row0, const AxisCoefficients& c, RgbImage& out) {
  for (int yy = 0; yy < out.height; ++yy) {
    const uint8_t* src = in.row(row0 + yy);
    uint8_t* dst = out.row(yy);
    for (int xx = 0; xx < out.width; ++xx) {
      const int32_t* k = &c.weights[static_cast<size_t>(xx) * c.ksize];
      const uint8_t* p = src + static_cast<size_t>(c.first[xx]) * 3;
      int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int x = 0; x < c.count[xx]; ++x, p += 3) {
        s0 += p[0] * k[x];
        s1 += p[1] * k[x];
        s2 += p[2] * k[x];
      }
      dst[3 * xx + 0] = clip8(s0);
      dst[3 * xx + 1] = clip8(s1);
      dst[3 * xx + 2] = clip8(s2);
    }
  }
}

// Vertical pass; input row first[yy] - row_offset is the first tap of output row yy. Integer sums, so
// accumulating a whole row at a time gives the same bytes as PIL's pixel-by-pixel loop.
void resample_vertical(const RgbImage& in, int row_offset, const AxisCoefficients& c, RgbImage& out) {
  const size_t row_bytes = static_cast<size_t>(in.width) * 3;
  std::vector<int32_t> acc(row_bytes);
  for (int yy = 0; yy < out.height; ++yy) {
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    const int32_t* k = &c.weights[static_cast<size_t>(yy) * c.ksize];
    for (int y = 0; y < c.count[yy]; ++y) {
      const uint8_t* src = in.row(c.first[yy] - row_offset + y);
      const int32_t weight = k[y];
      for (size_t i = 0; i < row_bytes; ++i) acc[i] += src[i] * weight;
    }
    uint8_t* dst = out.row(yy);
    for (size_t i = 0; i < row_bytes; ++i) dst[i] = clip8(acc[i]);
  }
}

}  // namespace

const char* pil_filter_name(PilFilter filter) {
  switch (filter) {
    case PilFilter::Nearest:
      return "NEAREST";
    case PilFilter::Lanczos:
      return "LANCZOS";
    case PilFilter::Bilinear:
      return "BILINEAR";
    case PilFilter::Bicubic:
      return "BICUBIC";
    case PilFilter::Box:
      return "BOX";
    case PilFilter::Hamming:
      return "HAMMING";
  }
  return "unknown";
}

RgbImage pil_resize(const RgbImage& image, int width, int height, PilFilter filter) {
  if (width <= 0 || height <= 0) fail("image resize to {}x{}: width and height must be > 0", width, height);
  if (image.width <= 0 || image.height <= 0) fail("image resize of an empty {}x{} image", image.width, image.height);
  const Filter f = filter_of(filter);
  if (width == image.width && height == image.height) return image;  // PIL returns a copy
  const bool need_horizontal = width != image.width;
  const bool need_vertical = height != image.height;

  const AxisCoefficients vertical = precompute(image.height, height, f);
  // Only the input rows the vertical pass reads are resampled horizontally.
  const int row_first = vertical.first.front();
  const int row_last = vertical.first.back() + vertical.count.back();

  if (!need_horizontal) {
    RgbImage out(width, height);
    resample_vertical(image, 0, vertical, out);
    return out;
  }
  const AxisCoefficients horizontal = precompute(image.width, width, f);
  RgbImage temp(width, need_vertical ? row_last - row_first : image.height);
  resample_horizontal(image, need_vertical ? row_first : 0, horizontal, temp);
  if (!need_vertical) return temp;
  RgbImage out(width, height);
  resample_vertical(temp, row_first, vertical, out);
  return out;
}

}  // namespace gemma
