#include "model/image_processor.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"

namespace gemma {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Typed reads of preprocessor_config.json fields; null counts as absent (the Hub files write null for
// "the processor decides").
class ConfigFields {
 public:
  ConfigFields(const json& object, std::string source) : object_(object), source_(std::move(source)) {}

  const json* find(const std::string& key) const {
    auto it = object_.find(key);
    return (it == object_.end() || it->is_null()) ? nullptr : &*it;
  }
  [[noreturn]] void bad(const std::string& key, const std::string& what) const {
    fail("{}: field '{}': {}", source_, key, what);
  }
  bool boolean(const std::string& key, bool fallback) const {
    const json* value = find(key);
    if (!value) return fallback;
    if (!value->is_boolean()) bad(key, fmt::format("expected true or false, found {}", value->dump()));
    return value->get<bool>();
  }
  double number(const std::string& key, double fallback) const {
    const json* value = find(key);
    if (!value) return fallback;
    if (!value->is_number()) bad(key, fmt::format("expected a number, found {}", value->dump()));
    return value->get<double>();
  }
  int positive_integer(const json& value, const std::string& key) const {
    double number = value.is_number() ? value.get<double>() : std::nan("");
    if (!value.is_number() || number != std::floor(number) || number < 1 || number > std::numeric_limits<int>::max())
      bad(key, fmt::format("expected a positive integer, found {}", value.dump()));
    return static_cast<int>(number);
  }
  int positive_integer(const std::string& key, int fallback) const {
    const json* value = find(key);
    return value ? positive_integer(*value, key) : fallback;
  }
  // A number (broadcast to the 3 channels, as transformers allows) or a list of 3 numbers.
  std::array<double, 3> per_channel(const std::string& key, std::array<double, 3> fallback) const {
    const json* value = find(key);
    if (!value) return fallback;
    if (value->is_number()) {
      double v = value->get<double>();
      return {v, v, v};
    }
    if (!value->is_array() || value->size() != 3)
      bad(key, fmt::format("expected a number or a list of 3 numbers (one per RGB channel), found {}", value->dump()));
    std::array<double, 3> out{};
    for (size_t c = 0; c < 3; ++c) {
      if (!(*value)[c].is_number()) bad(key, fmt::format("expected numbers, found {}", value->dump()));
      out[c] = (*value)[c].get<double>();
    }
    return out;
  }
  const json& object() const { return object_; }

 private:
  const json& object_;
  std::string source_;
};

json parse_json_object(std::string_view text, const std::string& source) {
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", source, e.what());
  }
  if (!root.is_object()) fail("{}: expected a JSON object at the top level", source);
  return root;
}

constexpr const char* kBoiToken = "<start_of_image>";
constexpr const char* kImageToken = "<image_soft_token>";
constexpr const char* kEoiToken = "<end_of_image>";

}  // namespace

ImageProcessorConfig parse_image_processor_config(std::string_view json_text, const std::string& source) {
  const json root = parse_json_object(json_text, source);
  ConfigFields f(root, source);
  ImageProcessorConfig config;
  config.source = source;

  if (const json* type = f.find("image_processor_type")) {
    std::string name = type->is_string() ? type->get<std::string>() : "";
    if (name.rfind("Gemma3ImageProcessor", 0) != 0)
      f.bad("image_processor_type", fmt::format("expected Gemma3ImageProcessor, found {}", type->dump()));
  }
  config.do_resize = f.boolean("do_resize", true);
  const json* size = f.find("size");
  if (!size) f.bad("size", "missing (expected {\"height\": H, \"width\": W})");
  if (!size->is_object() || !size->contains("height") || !size->contains("width"))
    f.bad("size", fmt::format("expected {{\"height\": H, \"width\": W}}, found {}", size->dump()));
  config.height = f.positive_integer(size->at("height"), "size.height");
  config.width = f.positive_integer(size->at("width"), "size.width");

  if (const json* resample = f.find("resample")) {
    double v = resample->is_number() ? resample->get<double>() : -1;
    if (!resample->is_number() || v != std::floor(v) || v < 0 || v > 5)
      f.bad("resample", fmt::format("expected a PIL resampling filter 0..5, found {}", resample->dump()));
    config.resample = static_cast<PilFilter>(static_cast<int>(v));
    if (config.resample == PilFilter::Nearest)
      f.bad("resample", "0 (NEAREST) is not supported (supported: 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING)");
  }
  config.do_rescale = f.boolean("do_rescale", true);
  config.rescale_factor = f.number("rescale_factor", 1.0 / 255);
  config.do_normalize = f.boolean("do_normalize", true);
  config.image_mean = f.per_channel("image_mean", config.image_mean);
  config.image_std = f.per_channel("image_std", config.image_std);
  for (double s : config.image_std) {
    if (s == 0.0 || !std::isfinite(s)) f.bad("image_std", "every value must be finite and non-zero");
  }
  config.do_convert_rgb = f.boolean("do_convert_rgb", true);
  config.do_pan_and_scan = f.boolean("do_pan_and_scan", false);
  config.pan_and_scan.min_crop_size = f.positive_integer("pan_and_scan_min_crop_size", 256);
  config.pan_and_scan.max_num_crops = f.positive_integer("pan_and_scan_max_num_crops", 4);
  config.pan_and_scan.min_ratio_to_activate = f.number("pan_and_scan_min_ratio_to_activate", 1.2);
  config.image_seq_length = f.positive_integer("image_seq_length", 256);
  return config;
}

ImageProcessorConfig read_image_processor_config(const fs::path& path) {
  const bool is_dir = fs::is_directory(path) || path.extension() != ".json";
  const fs::path file = is_dir ? path / "preprocessor_config.json" : path;
  if (!fs::exists(file)) fail("{}: missing (the image processor settings of a multimodal Gemma 3)", file.string());
  ImageProcessorConfig config = parse_image_processor_config(read_file(file), file.string());
  const fs::path processor = file.parent_path() / "processor_config.json";
  if (fs::exists(processor)) {
    const std::string source = processor.string();
    const json root = parse_json_object(read_file(processor), source);
    ConfigFields f(root, source);
    config.image_seq_length = f.positive_integer("image_seq_length", config.image_seq_length);
  }
  return config;
}

RgbImage resize_for_model(const RgbImage& image, const ImageProcessorConfig& config) {
  if (!config.do_resize) return image;
  return pil_resize(image, config.width, config.height, config.resample);
}

void to_pixel_values(const RgbImage& resized, const ImageProcessorConfig& config, float* out) {
  const size_t plane = static_cast<size_t>(resized.width) * static_cast<size_t>(resized.height);
  // transformers: rescale = (u8 as float64 * scale) as float32; normalize in float32 with the mean and
  // std cast to float32.
  float lut[3][256];
  for (int c = 0; c < 3; ++c) {
    const float mean = static_cast<float>(config.image_mean[c]);
    const float std = static_cast<float>(config.image_std[c]);
    for (int v = 0; v < 256; ++v) {
      float x = config.do_rescale ? static_cast<float>(static_cast<double>(v) * config.rescale_factor)
                                  : static_cast<float>(v);
      if (config.do_normalize) x = (x - mean) / std;
      lut[c][v] = x;
    }
  }
  const uint8_t* src = resized.pixels.data();
  for (size_t i = 0; i < plane; ++i, src += 3) {
    out[i] = lut[0][src[0]];
    out[plane + i] = lut[1][src[1]];
    out[2 * plane + i] = lut[2][src[2]];
  }
}

ProcessedImages preprocess_images(const std::vector<RgbImage>& images, const ImageProcessorConfig& config) {
  ProcessedImages result;
  std::vector<RgbImage> resized;
  for (const RgbImage& image : images) {
    std::vector<CropBox> boxes;
    if (config.do_pan_and_scan) boxes = pan_and_scan_boxes(image.width, image.height, config.pan_and_scan);
    resized.push_back(resize_for_model(image, config));
    for (const CropBox& box : boxes) resized.push_back(resize_for_model(crop_image(image, box), config));
    result.num_crops.push_back(static_cast<int>(boxes.size()));
  }
  if (resized.empty()) return result;
  result.width = resized.front().width;
  result.height = resized.front().height;
  const size_t per_image = 3ULL * static_cast<size_t>(result.width) * static_cast<size_t>(result.height);
  result.pixel_values.resize(per_image * resized.size());
  for (size_t i = 0; i < resized.size(); ++i) {
    if (resized[i].width != result.width || resized[i].height != result.height) {
      fail("{}: do_resize is false and the images differ in size ({}x{} and {}x{}): they cannot form one batch",
           config.source, result.width, result.height, resized[i].width, resized[i].height);
    }
    to_pixel_values(resized[i], config, result.pixel_values.data() + i * per_image);
  }
  return result;
}

ProcessedImages preprocess_image_files(const std::vector<fs::path>& files, const ImageProcessorConfig& config,
                                       const ImageDecodeOptions& decode) {
  std::vector<RgbImage> images;
  images.reserve(files.size());
  for (const fs::path& file : files) images.push_back(decode_image_file(file, decode));
  return preprocess_images(images, config);
}

std::string image_prompt_text(int num_crops, int image_seq_length) {
  std::string full = std::string("\n\n") + kBoiToken;
  for (int i = 0; i < image_seq_length; ++i) full += kImageToken;
  full += kEoiToken;
  full += "\n\n";
  if (num_crops <= 0) return full;
  std::string text = "Here is the original image " + full + " and here are some crops to help you see better ";
  for (int i = 0; i < num_crops; ++i) {
    if (i > 0) text += " ";
    text += full;
  }
  return text;
}

}  // namespace gemma
