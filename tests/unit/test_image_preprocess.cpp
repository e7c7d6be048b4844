// Image preprocessing against Hugging Face's Gemma3ImageProcessor (PIL path): decoding + RGB conversion,
// PIL's resampling bit for bit, rescale/normalize, pan-and-scan and the processor's prompt text.
// References: ../shared/reference/tiny-vision (image0.png through the real pipeline) and
// tests/data/images (made with Pillow 9.4.0 by tests/data/images/make_vectors.py; see its README).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <zlib.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "model/image_decode.h"
#include "model/image_pan_and_scan.h"
#include "model/image_processor.h"
#include "model/image_resize.h"
#include "model/npy.h"
#include "tests/support/temp_dir.h"

using namespace gemma;
using gemma::test::TempDir;
namespace fs = std::filesystem;
using Catch::Contains;

namespace {

const fs::path kTinyVision = fs::path(GEMMA_TEST_SHARED_DIR) / "reference/tiny-vision";
const fs::path kImageData = fs::path(GEMMA_TEST_SOURCE_DIR) / "tests/data/images";

// The synthetic image of make_vectors.py's pattern(): a 16x16 checker of hash-like noise and gradients.
RgbImage pattern(int w, int h) {
  RgbImage image(w, h);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      for (int64_t c = 0; c < 3; ++c) {
        int64_t noise = ((x * 37 + y * 91 + c * 53) ^ (x * y * 7 + (x >> 2) * 29 + (y >> 3) * 13)) & 255;
        int64_t smooth = (x * 255 / std::max(w - 1, 1) + y * 3 + c * 40) & 255;
        image.row(static_cast<int>(y))[x * 3 + c] =
            static_cast<uint8_t>(((x >> 4) + (y >> 4)) % 2 == 0 ? noise : smooth);
      }
    }
  }
  return image;
}

// A uint8 [H, W, 3] .npy as an RgbImage.
RgbImage read_rgb_npy(const fs::path& path) {
  NpyArray array = read_npy(path);
  REQUIRE(array.descr == "|u1");
  REQUIRE(array.shape.size() == 3);
  REQUIRE(array.shape[2] == 3);
  RgbImage image(static_cast<int>(array.shape[1]), static_cast<int>(array.shape[0]));
  REQUIRE(array.data.size() == image.pixels.size());
  std::copy(array.data.begin(), array.data.end(), image.pixels.begin());
  return image;
}

int max_abs_diff(const RgbImage& a, const RgbImage& b) {
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  int worst = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) worst = std::max(worst, std::abs(a.pixels[i] - b.pixels[i]));
  return worst;
}

std::string sha256_of(const RgbImage& image) {
  return sha256_hex(std::string_view(reinterpret_cast<const char*>(image.pixels.data()), image.pixels.size()));
}

PilFilter filter_named(const std::string& name) {
  if (name == "bilinear") return PilFilter::Bilinear;
  if (name == "bicubic") return PilFilter::Bicubic;
  if (name == "lanczos") return PilFilter::Lanczos;
  if (name == "box") return PilFilter::Box;
  if (name == "hamming") return PilFilter::Hamming;
  FAIL("unknown filter " << name);
  return PilFilter::Nearest;
}

// OpenCV stores BGR: an RgbImage as a CV_8UC3 Mat for cv::imwrite.
cv::Mat to_bgr_mat(const RgbImage& image) {
  cv::Mat mat(image.height, image.width, CV_8UC3);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      for (int c = 0; c < 3; ++c) mat.ptr<uint8_t>(y)[x * 3 + 2 - c] = image.at(x, y, c);
    }
  }
  return mat;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("tiny-vision image0.png: decode + PIL resize equal the reference bytes, pixel values to 1e-6", "[image]") {
  const ImageProcessorConfig config = read_image_processor_config(kTinyVision);
  CHECK(config.width == 56);
  CHECK(config.height == 56);
  CHECK(config.resample == PilFilter::Bilinear);
  CHECK(config.image_seq_length == 4);
  CHECK_FALSE(config.do_pan_and_scan);  // null in the file: Gemma3Processor's default

  const RgbImage decoded = decode_image_file(kTinyVision / "image0.png");
  CHECK(decoded.width == 80);
  CHECK(decoded.height == 60);
  const RgbImage resized = resize_for_model(decoded, config);
  const RgbImage expected = read_rgb_npy(kTinyVision / "expected/image0.resized_uint8.npy");
  CHECK(max_abs_diff(resized, expected) == 0);

  const ProcessedImages processed = preprocess_image_files({kTinyVision / "image0.png"}, config);
  REQUIRE(processed.count() == 1);
  CHECK(processed.num_crops == std::vector<int>{0});
  const NpyArray reference = read_npy(kTinyVision / "expected/pixel_values.npy");
  REQUIRE(reference.shape == std::vector<int64_t>{1, 3, 56, 56});
  const std::vector<float> values = reference.to_float32();
  REQUIRE(values.size() == processed.pixel_values.size());
  double worst = 0;
  for (size_t i = 0; i < values.size(); ++i)
    worst = std::max(worst, std::abs(double{values[i]} - processed.pixel_values[i]));
  CHECK(worst <= 1e-6);
}

TEST_CASE("pil_resize equals Pillow's Image.resize for every stored case", "[image]") {
  const nlohmann::json manifest = nlohmann::json::parse(read_file(kImageData / "resize/manifest.json"));
  REQUIRE(manifest.size() >= 30);
  for (const auto& entry : manifest) {
    const int sw = entry["source_wh"][0], sh = entry["source_wh"][1];
    const int w = entry["size_wh"][0], h = entry["size_wh"][1];
    const std::string filter = entry["filter"];
    INFO(filter << " " << sw << "x" << sh << " -> " << w << "x" << h);
    const RgbImage result = pil_resize(pattern(sw, sh), w, h, filter_named(filter));
    REQUIRE(result.width == w);
    REQUIRE(result.height == h);
    if (entry.contains("npy")) {
      CHECK(max_abs_diff(result, read_rgb_npy(kImageData / "resize" / entry["npy"].get<std::string>())) == 0);
    } else {
      CHECK(sha256_of(result) == entry["sha256"].get<std::string>());
    }
  }
  CHECK_THAT(error_of([] { pil_resize(pattern(4, 4), 0, 3, PilFilter::Bilinear); }), Contains("must be > 0"));
  CHECK_THAT(error_of([] { pil_resize(pattern(4, 4), 2, 2, PilFilter::Nearest); }), Contains("NEAREST"));
}

TEST_CASE("decoded files equal PIL's convert(\"RGB\"), with and without EXIF orientation", "[image]") {
  const nlohmann::json manifest = nlohmann::json::parse(read_file(kImageData / "decode/manifest.json"));
  REQUIRE(manifest.size() >= 40);
  for (const auto& entry : manifest) {
    const std::string name = entry["file"];
    INFO(name << " (PIL mode " << entry["pil_mode"].get<std::string>() << ")");
    const fs::path file = kImageData / "decode" / name;
    const RgbImage as_stored = decode_image_file(file, ImageDecodeOptions{false});
    const RgbImage expected = read_rgb_npy(kImageData / "decode" / (name + ".rgb.npy"));
    // CMYK JPEG: OpenCV converts CMYK with its own formula (k - (255 - c) * k >> 8), PIL with
    // k - (255 - c) * k / 255 rounded: a level or two apart. Documented in image_decode.h.
    const int tolerance = name == "cmyk.jpg" ? 2 : 0;
    CHECK(max_abs_diff(as_stored, expected) <= tolerance);

    const RgbImage loaded = decode_image_file(file);  // transformers' load_image: exif_transpose first
    if (entry.contains("exif_orientation")) {
      CHECK(exif_orientation(read_file(file)) == entry["exif_orientation"].get<int>());
      CHECK(max_abs_diff(loaded, read_rgb_npy(kImageData / "decode" / (name + ".exif.npy"))) == 0);
    } else {
      CHECK(exif_orientation(read_file(file)) == 1);
      CHECK(max_abs_diff(loaded, expected) <= tolerance);
    }
  }
}

TEST_CASE("images written by OpenCV decode to consistent RGB in every format", "[image]") {
  TempDir dir("gemma-image");
  const RgbImage source = pattern(29, 21);
  const cv::Mat bgr = to_bgr_mat(source);

  SECTION("lossless formats give the pixels back") {
    for (const char* name : {"a.png", "a.bmp", "a.webp"}) {
      INFO(name);
      std::vector<int> params;
      if (std::string(name) == "a.webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};  // > 100: lossless
      REQUIRE(cv::imwrite((dir.path / name).string(), bgr, params));
      CHECK(max_abs_diff(decode_image_file(dir.path / name), source) == 0);
    }
  }
  SECTION("JPEG: same size, close to the source, the same pixels as OpenCV's own BGR decode") {
    RgbImage smooth(29, 21);  // JPEG is lossy: a gradient, not the noisy pattern
    for (int y = 0; y < 21; ++y)
      for (int x = 0; x < 29; ++x)
        for (int c = 0; c < 3; ++c) smooth.row(y)[x * 3 + c] = static_cast<uint8_t>(x * 5 + y * 3 + c * 20);
    REQUIRE(cv::imwrite((dir.path / "a.jpg").string(), to_bgr_mat(smooth), {cv::IMWRITE_JPEG_QUALITY, 98}));
    const RgbImage decoded = decode_image_file(dir.path / "a.jpg");
    CHECK(decoded.width == 29);
    CHECK(decoded.height == 21);
    double total = 0;
    for (size_t i = 0; i < decoded.pixels.size(); ++i) total += std::abs(decoded.pixels[i] - smooth.pixels[i]);
    CHECK(total / decoded.pixels.size() < 3);
    const cv::Mat opencv = cv::imread((dir.path / "a.jpg").string(), cv::IMREAD_COLOR);
    CHECK(max_abs_diff(decoded, [&] {
            RgbImage rgb(opencv.cols, opencv.rows);
            for (int y = 0; y < opencv.rows; ++y)
              for (int x = 0; x < opencv.cols; ++x)
                for (int c = 0; c < 3; ++c) rgb.row(y)[x * 3 + c] = opencv.ptr<uint8_t>(y)[x * 3 + 2 - c];
            return rgb;
          }()) == 0);
  }
  SECTION("grayscale PNG -> three equal channels holding the gray value") {
    cv::Mat gray(21, 29, CV_8UC1);
    for (int y = 0; y < 21; ++y)
      for (int x = 0; x < 29; ++x) gray.at<uint8_t>(y, x) = source.at(x, y, 1);
    REQUIRE(cv::imwrite((dir.path / "gray.png").string(), gray));
    const RgbImage decoded = decode_image_file(dir.path / "gray.png");
    for (int y = 0; y < 21; ++y) {
      for (int x = 0; x < 29; ++x) {
        REQUIRE(decoded.at(x, y, 0) == source.at(x, y, 1));
        REQUIRE(decoded.at(x, y, 1) == source.at(x, y, 1));
        REQUIRE(decoded.at(x, y, 2) == source.at(x, y, 1));
      }
    }
  }
  SECTION("RGBA PNG: alpha dropped, not composited; alpha-0 pixels keep their RGB") {
    cv::Mat bgra(21, 29, CV_8UC4);
    for (int y = 0; y < 21; ++y) {
      for (int x = 0; x < 29; ++x) {
        for (int c = 0; c < 3; ++c) bgra.ptr<uint8_t>(y)[x * 4 + 2 - c] = source.at(x, y, c);
        bgra.ptr<uint8_t>(y)[x * 4 + 3] = static_cast<uint8_t>((x + y) % 3 == 0 ? 0 : x * 8);
      }
    }
    REQUIRE(cv::imwrite((dir.path / "rgba.png").string(), bgra));
    CHECK(max_abs_diff(decode_image_file(dir.path / "rgba.png"), source) == 0);
  }
  SECTION("16-bit RGB PNG -> the high byte of each sample, as PIL reads it") {
    cv::Mat wide;
    bgr.convertTo(wide, CV_16UC3, 257.0, 100.0);  // v * 257 + 100: high byte v (v < 255), v + 1 at 255
    REQUIRE(cv::imwrite((dir.path / "rgb16.png").string(), wide));
    const RgbImage decoded = decode_image_file(dir.path / "rgb16.png");
    for (size_t i = 0; i < decoded.pixels.size(); ++i) {
      const int high = std::min(65535, source.pixels[i] * 257 + 100) >> 8;
      REQUIRE(decoded.pixels[i] == high);
    }
  }
}

TEST_CASE("missing, empty, truncated and non-image files are errors naming the file", "[image]") {
  TempDir dir("gemma-image-bad");
  const std::string png = read_file(kImageData / "decode/rgb8.png");
  const std::string jpeg = read_file(kImageData / "decode/q90_420.jpg");
  const std::string webp = read_file(kImageData / "decode/lossy.webp");
  const std::string bmp = read_file(kImageData / "decode/rgb24.bmp");
  struct Case {
    std::string name, bytes, message;
  };
  const std::vector<Case> cases = {
      {"half.png", png.substr(0, png.size() / 2), "truncated PNG"},
      {"no_iend.png", png.substr(0, png.size() - 12), "truncated PNG"},
      {"text.png", "this is not an image\n", "not a supported image"},
      {"empty.jpg", "", "empty"},
      {"half.jpg", jpeg.substr(0, jpeg.size() / 2), "truncated JPEG"},
      {"no_eoi.jpg", jpeg.substr(0, jpeg.size() - 2), "truncated JPEG"},
      {"headers_only.jpg", jpeg.substr(0, 20), "truncated JPEG"},
      {"half.webp", webp.substr(0, webp.size() / 2), "truncated WebP"},
      {"half.bmp", bmp.substr(0, bmp.size() / 2), "truncated BMP"},
      {"bmp_header.bmp", bmp.substr(0, 10), "truncated BMP"},
      {"anim.gif", "GIF89a\x01\x00\x01\x00", "a GIF image"},
      {"corrupt_idat.png", png.substr(0, 60) + std::string(40, '\x55') + png.substr(100), "could not decode"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    write_file_atomic(dir.path / c.name, c.bytes);
    const std::string message = error_of([&] { decode_image_file(dir.path / c.name); });
    CHECK_THAT(message, Contains((dir.path / c.name).string()));
    CHECK_THAT(message, Contains(c.message));
  }
  const std::string missing = error_of([&] { decode_image_file(dir.path / "nope.png"); });
  CHECK_THAT(missing, Contains("nope.png"));
  const std::string in_batch = error_of([&] {
    preprocess_image_files({kTinyVision / "image0.png", dir.path / "text.png"},
                           read_image_processor_config(kTinyVision));
  });
  CHECK_THAT(in_batch, Contains("text.png"));
}

namespace {

std::string be32_bytes(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string le_bytes(uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>(v >> (8 * i));
  return out;
}

std::string png_chunk(const std::string& type, const std::string& data) {
  const std::string typed = type + data;
  const auto crc = crc32(0, reinterpret_cast<const Bytef*>(typed.data()), static_cast<uInt>(typed.size()));
  return be32_bytes(static_cast<uint32_t>(data.size())) + typed + be32_bytes(static_cast<uint32_t>(crc));
}

// A complete, valid PNG of width x height black 8-bit RGB pixels, made without holding its raw rows
// (3 GB at 32000x32000): the zlib stream repeats one deflate segment that encodes `rows` zero rows and
// ends in a full flush, so no copy refers to bytes before it; then an empty final block and the
// Adler-32 of all-zero data (a stays 1, b grows by 1 per byte).
std::string black_png(uint32_t width, uint32_t height) {
  const uint32_t rows = 16;
  REQUIRE(height % rows == 0);
  const size_t row_bytes = 1 + size_t{width} * 3;  // filter type 0, then RGB
  const std::string zeros(row_bytes * rows, '\0');
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string segment(deflateBound(&z, zeros.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
  z.avail_in = static_cast<uInt>(zeros.size());
  z.next_out = reinterpret_cast<Bytef*>(segment.data());
  z.avail_out = static_cast<uInt>(segment.size());
  REQUIRE(deflate(&z, Z_FULL_FLUSH) == Z_OK);
  REQUIRE(z.avail_in == 0);
  segment.resize(segment.size() - z.avail_out);
  std::string tail(64, '\0');
  z.next_out = reinterpret_cast<Bytef*>(tail.data());
  z.avail_out = static_cast<uInt>(tail.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  tail.resize(tail.size() - z.avail_out);
  deflateEnd(&z);

  std::string idat = "\x78\xDA";  // zlib header: deflate, 32 KiB window, level 9
  idat.reserve(2 + segment.size() * (height / rows) + tail.size() + 4);
  for (uint32_t i = 0; i < height / rows; ++i) idat += segment;
  const uint64_t total = uint64_t{row_bytes} * height;
  idat += tail + be32_bytes(static_cast<uint32_t>(((total % 65521) << 16) | 1));
  const std::string ihdr = be32_bytes(width) + be32_bytes(height) + std::string("\x08\x02\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", idat) +
         png_chunk("IEND", "");
}

}  // namespace

TEST_CASE("header dimensions equal the decoded ones in every format", "[image][header]") {
  const nlohmann::json manifest = nlohmann::json::parse(read_file(kImageData / "decode/manifest.json"));
  for (const auto& entry : manifest) {
    const std::string name = entry["file"];
    INFO(name);
    const std::string bytes = read_file(kImageData / "decode" / name);
    const RgbImage decoded = decode_image(bytes, name, ImageDecodeOptions{false});
    const ImageSize size = image_header_size(bytes, name);
    CHECK(size.width == decoded.width);
    CHECK(size.height == decoded.height);
  }
  TempDir dir("gemma-image-header");
  for (const char* name : {"a.png", "a.jpg", "a.bmp", "lossless.webp", "lossy.webp"}) {
    INFO(name);
    std::vector<int> params;
    if (std::string(name) == "lossless.webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};
    REQUIRE(cv::imwrite((dir.path / name).string(), to_bgr_mat(pattern(1001, 77)), params));
    const ImageSize size = image_header_size(read_file(dir.path / name), name);
    CHECK(size.width == 1001);
    CHECK(size.height == 77);
  }
}

TEST_CASE("an image too large for PIL is refused from its header, before decoding", "[image][header]") {
  TempDir dir("gemma-image-bomb");
  SECTION("a 3 MB PNG of 32000x32000 black pixels (3 GB decoded)") {
    const std::string png = black_png(32000, 32000);
    CHECK(png.size() < 4'000'000);
    const fs::path file = dir.path / "bomb.png";
    write_file_atomic(file, png);
    const auto started = std::chrono::steady_clock::now();
    const std::string message = error_of([&] { decode_image_file(file); });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CHECK_THAT(message, Contains(file.string()) && Contains("32000x32000") && Contains("from its PNG header") &&
                            Contains("decompression-bomb limit"));
    // Decoding first took 11 s and 3.3 GB; the header check reads a few bytes of each chunk.
    CHECK(seconds < 1.0);
    // The same stream at a size within the limit is a real, decodable image: the refusal above is the
    // header's dimensions, not a malformed file.
    const RgbImage small = decode_image(black_png(640, 480), "small.png");
    CHECK(small.width == 640);
    CHECK(small.height == 480);
    CHECK(std::all_of(small.pixels.begin(), small.pixels.end(), [](uint8_t v) { return v == 0; }));
  }
  SECTION("JPEG, WebP (VP8X, VP8L, VP8) and BMP headers declaring too many pixels") {
    const std::string jpeg_frame = std::string("\x08", 1) + be32_bytes(30000).substr(2) + be32_bytes(30000).substr(2) +
                                   std::string("\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 10);
    const std::string jpeg = std::string("\xFF\xD8\xFF\xC2", 4) + be32_bytes(2 + jpeg_frame.size()).substr(2) +
                             jpeg_frame + std::string("\xFF\xD9", 2);
    auto riff = [](const std::string& type, const std::string& data) {
      const std::string chunk = type + le_bytes(data.size(), 4) + data + (data.size() % 2 ? std::string(1, '\0') : "");
      return "RIFF" + le_bytes(4 + chunk.size(), 4) + "WEBP" + chunk;
    };
    const std::string vp8x = riff("VP8X", std::string(4, '\0') + le_bytes(19999, 3) + le_bytes(19999, 3));
    const std::string vp8l = riff("VP8L", "\x2F" + le_bytes(16000 - 1 + (uint64_t{16000 - 1} << 14), 4) + "xx");
    const std::string vp8 = riff(
        "VP8 ", std::string(3, '\0') + "\x9D\x01\x2A" + le_bytes(16000, 2) + le_bytes(16000, 2) + std::string(8, '\0'));
    // BMP, 8-bit RLE (so no pixel array size to check against the file): 20000x20000.
    const std::string bmp = "BM" + le_bytes(1078, 4) + le_bytes(0, 4) + le_bytes(1078, 4) + le_bytes(40, 4) +
                            le_bytes(20000, 4) + le_bytes(20000, 4) + le_bytes(1, 2) + le_bytes(8, 2) + le_bytes(1, 4) +
                            std::string(1078 - 34, '\0');
    struct Case {
      std::string name, bytes, dimensions, format;
    };
    const std::vector<Case> cases = {{"big.jpg", jpeg, "30000x30000", "JPEG"},
                                     {"vp8x.webp", vp8x, "20000x20000", "WebP"},
                                     {"vp8l.webp", vp8l, "16000x16000", "WebP"},
                                     {"vp8.webp", vp8, "16000x16000", "WebP"},
                                     {"big.bmp", bmp, "20000x20000", "BMP"}};
    for (const Case& c : cases) {
      INFO(c.name);
      write_file_atomic(dir.path / c.name, c.bytes);
      const std::string message = error_of([&] { decode_image_file(dir.path / c.name); });
      CHECK_THAT(message, Contains((dir.path / c.name).string()) && Contains(c.dimensions) &&
                              Contains("from its " + c.format + " header"));
    }
  }
}

TEST_CASE("pan-and-scan crop boxes follow Gemma3ImageProcessor.pan_and_scan", "[image]") {
  // Expected boxes worked by hand from transformers' algorithm (transformers
  // models/gemma3/image_processing_gemma3.py@06053b84), defaults min_crop_size 256, max_num_crops 4,
  // min_ratio_to_activate 1.2. For width >= height: ratio = w/h; n = floor(ratio + 0.5); n = min(floor(w / 256), n); n
  // = max(2, n); n = min(4, n); crop = (ceil(w / n), h); none if the ratio is < 1.2 or min(crop) < 256; numpy slicing
  // clips the last crop.
  const PanAndScanParams defaults;
  using Boxes = std::vector<CropBox>;
  // Square, and 1199/1000 = 1.199 < 1.2: no crops.
  CHECK(pan_and_scan_boxes(896, 896, defaults).empty());
  CHECK(pan_and_scan_boxes(1199, 1000, defaults).empty());
  // 1200x1000: ratio 1.2 is not < 1.2; n = floor(1.7) = 1 -> max(2, .) = 2; crop 600x1000.
  CHECK(pan_and_scan_boxes(1200, 1000, defaults) == Boxes{{0, 0, 600, 1000}, {600, 0, 600, 1000}});
  // 1000x750: ratio 1.33, n = 1 -> 2; crop 500x750.
  CHECK(pan_and_scan_boxes(1000, 750, defaults) == Boxes{{0, 0, 500, 750}, {500, 0, 500, 750}});
  // 1000x300: ratio 3.33, n = floor(3.83) = 3 = floor(1000/256); crop ceil(333.3) = 334: the last is 332 wide.
  CHECK(pan_and_scan_boxes(1000, 300, defaults) == Boxes{{0, 0, 334, 300}, {334, 0, 334, 300}, {668, 0, 332, 300}});
  // Portrait 300x1000: the same along y.
  CHECK(pan_and_scan_boxes(300, 1000, defaults) == Boxes{{0, 0, 300, 334}, {0, 334, 300, 334}, {0, 668, 300, 332}});
  // 3000x400: ratio 7.5, n = 8, floor(3000/256) = 11 -> 8 -> capped at 4; crop 750x400.
  CHECK(pan_and_scan_boxes(3000, 400, defaults) ==
        Boxes{{0, 0, 750, 400}, {750, 0, 750, 400}, {1500, 0, 750, 400}, {2250, 0, 750, 400}});
  // 3000x200: 4 crops of 750x200, but 200 < 256: none.
  CHECK(pan_and_scan_boxes(3000, 200, defaults).empty());
  // 500x400: ratio 1.25, n = 2, crop 250 < 256: none.
  CHECK(pan_and_scan_boxes(500, 400, defaults).empty());
  // 1025x256: ratio 4.004, n = 4 = floor(1025/256); crop ceil(256.25) = 257; last = 1025 - 771 = 254 wide.
  CHECK(pan_and_scan_boxes(1025, 256, defaults) ==
        Boxes{{0, 0, 257, 256}, {257, 0, 257, 256}, {514, 0, 257, 256}, {771, 0, 254, 256}});
  // 1023x256: ratio 3.996, n = floor(4.496) = 4 but floor(1023/256) = 3; crop 341.
  CHECK(pan_and_scan_boxes(1023, 256, defaults) == Boxes{{0, 0, 341, 256}, {341, 0, 341, 256}, {682, 0, 341, 256}});
  // Other parameters: min crop 100, at most 3, ratio 1.5. 1000x600: ratio 1.67 -> n = 2; 400x1000: n = 3.
  const PanAndScanParams custom{100, 3, 1.5};
  CHECK(pan_and_scan_boxes(1000, 600, custom) == Boxes{{0, 0, 500, 600}, {500, 0, 500, 600}});
  CHECK(pan_and_scan_boxes(400, 1000, custom) == Boxes{{0, 0, 400, 334}, {0, 334, 400, 334}, {0, 668, 400, 332}});
  CHECK(pan_and_scan_boxes(1000, 700, custom).empty());  // ratio 1.43 < 1.5
}

TEST_CASE("pan-and-scan pipeline: [image, crops...] resized like the original, num_crops, prompt text", "[image]") {
  ImageProcessorConfig config = read_image_processor_config(kTinyVision);
  config.do_pan_and_scan = true;
  const RgbImage wide = pattern(1000, 300);
  const ProcessedImages processed = preprocess_images({wide, pattern(80, 60)}, config);
  CHECK(processed.num_crops == std::vector<int>{3, 0});
  REQUIRE(processed.count() == 5);  // image 1, its 3 crops, image 2

  // Pillow reference: the image and the numpy-sliced crops, each resized to 56x56 (make_vectors.py).
  const NpyArray reference = read_npy(kImageData / "resize/pan_and_scan_1000x300_to_56x56.npy");
  REQUIRE(reference.shape == std::vector<int64_t>{4, 56, 56, 3});
  const size_t plane = 56 * 56;
  for (size_t image = 0; image < 4; ++image) {
    for (size_t i = 0; i < plane; ++i) {
      for (size_t c = 0; c < 3; ++c) {
        const float expected =
            (static_cast<float>(static_cast<uint8_t>(reference.data[(image * plane + i) * 3 + c]) * (1.0 / 255)) -
             0.5f) /
            0.5f;
        REQUIRE(processed.pixel_values[image * 3 * plane + c * plane + i] == expected);
      }
    }
  }

  const std::string full =
      "\n\n<start_of_image>" + std::string() + "<image_soft_token><image_soft_token>" + "<end_of_image>\n\n";
  CHECK(image_prompt_text(0, 2) == full);
  CHECK(image_prompt_text(2, 2) ==
        "Here is the original image " + full + " and here are some crops to help you see better " + full + " " + full);
}

TEST_CASE("rescale and normalize follow transformers' float64 rescale and float32 normalize", "[image]") {
  ImageProcessorConfig config = read_image_processor_config(kTinyVision);
  config.image_mean = {0.48145466, 0.4578275, 0.40821073};  // CLIP's, to exercise per-channel values
  config.image_std = {0.26862954, 0.26130258, 0.27577711};
  RgbImage image(256, 1);
  for (int x = 0; x < 256; ++x)
    image.row(0)[x * 3] = image.row(0)[x * 3 + 1] = image.row(0)[x * 3 + 2] = static_cast<uint8_t>(x);
  std::vector<float> out(3 * 256);
  to_pixel_values(image, config, out.data());
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      const float x = static_cast<float>(v * (1.0 / 255));
      const float expected = (x - static_cast<float>(config.image_mean[c])) / static_cast<float>(config.image_std[c]);
      REQUIRE(out[c * 256 + v] == expected);
    }
  }
  config.do_rescale = false;
  config.do_normalize = false;
  to_pixel_values(image, config, out.data());
  CHECK(out[255] == 255.0f);
}

TEST_CASE("preprocessor_config.json errors name the file and the field", "[image]") {
  const std::string good = read_file(kTinyVision / "preprocessor_config.json");
  auto error_for = [](const std::string& text) {
    return error_of([&] { parse_image_processor_config(text, "cfg/preprocessor_config.json"); });
  };
  auto edit = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json j = nlohmann::json::parse(good);
    if (value.is_discarded()) {
      j.erase(key);
    } else {
      j[key] = value;
    }
    return j.dump();
  };
  const nlohmann::json erase = nlohmann::json::value_t::discarded;
  CHECK_THAT(error_for("{not json"), Contains("cfg/preprocessor_config.json") && Contains("JSON"));
  CHECK_THAT(error_for(edit("size", erase)), Contains("'size'") && Contains("missing"));
  CHECK_THAT(error_for(edit("size", {{"shortest_edge", 896}})), Contains("'size'"));
  CHECK_THAT(error_for(edit("size", {{"height", 0}, {"width", 56}})), Contains("size.height"));
  CHECK_THAT(error_for(edit("resample", 0)), Contains("'resample'") && Contains("NEAREST"));
  CHECK_THAT(error_for(edit("resample", 7)), Contains("'resample'"));
  CHECK_THAT(error_for(edit("image_mean", {0.5, 0.5})), Contains("'image_mean'"));
  CHECK_THAT(error_for(edit("image_std", {0.5, 0.0, 0.5})), Contains("'image_std'"));
  CHECK_THAT(error_for(edit("do_resize", "yes")), Contains("'do_resize'"));
  CHECK_THAT(error_for(edit("rescale_factor", "1/255")), Contains("'rescale_factor'"));
  CHECK_THAT(error_for(edit("pan_and_scan_min_crop_size", -3)), Contains("'pan_and_scan_min_crop_size'"));
  CHECK_THAT(error_for(edit("image_processor_type", "SiglipImageProcessor")), Contains("'image_processor_type'"));
  const std::string missing = error_of([] { read_image_processor_config("/nonexistent/model"); });
  CHECK_THAT(missing, Contains("/nonexistent/model/preprocessor_config.json"));

  // Non-null values override the processor defaults; a bare number broadcasts over the channels.
  nlohmann::json j = nlohmann::json::parse(good);
  j["do_pan_and_scan"] = true;
  j["pan_and_scan_min_crop_size"] = 128;
  j["pan_and_scan_max_num_crops"] = 2;
  j["pan_and_scan_min_ratio_to_activate"] = 2.0;
  j["image_mean"] = 0.25;
  j["resample"] = 3;
  const ImageProcessorConfig config = parse_image_processor_config(j.dump(), "x.json");
  CHECK(config.do_pan_and_scan);
  CHECK(config.pan_and_scan.min_crop_size == 128);
  CHECK(config.pan_and_scan.max_num_crops == 2);
  CHECK(config.pan_and_scan.min_ratio_to_activate == 2.0);
  CHECK(config.image_mean == std::array<double, 3>{0.25, 0.25, 0.25});
  CHECK(config.resample == PilFilter::Bicubic);
}
