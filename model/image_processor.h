#pragma once
// Gemma 3's image processor, torch-free: preprocessor_config.json -> pixel_values exactly as Hugging
// Face's Gemma3ImageProcessor (the slow, PIL path; transformers models/gemma3/image_processing_gemma3.py@06053b84)
// computes them, plus the prompt text the Gemma3Processor puts in place of each image.
//
// Per image: decoded RGB (model/image_decode.h) -> [pan-and-scan crops of the original, optional]
// -> each of [image, crops...] resized to size with PIL's filter (model/image_resize.h) -> x =
// float32(u8 * float64(rescale_factor)) -> (x - float32(mean[c])) / float32(std[c]) in float32 -> CHW.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "model/image_decode.h"
#include "model/image_pan_and_scan.h"
#include "model/image_resize.h"
#include "model/image_rgb.h"

namespace gemma {

// preprocessor_config.json. null counts as absent (the Hub files write null for "the processor decides").
// An absent field takes Gemma3ImageProcessor's default, except those Gemma3Processor passes itself
// (do_convert_rgb true, do_pan_and_scan false, pan_and_scan_* 256 / 4 / 1.2), which take the processor's.
// A non-null pan_and_scan_* value is used as Gemma3ImageProcessor would use it (through Gemma3Processor
// transformers would keep its own defaults instead; the released configs have null). `size` is required.
struct ImageProcessorConfig {
  std::string source;  // the file it was read from, for messages
  bool do_resize = true;
  int height = 0, width = 0;  // size {"height", "width"}: 896 x 896 for the released models
  PilFilter resample = PilFilter::Bilinear;
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255;
  bool do_normalize = true;
  std::array<double, 3> image_mean{0.5, 0.5, 0.5};
  std::array<double, 3> image_std{0.5, 0.5, 0.5};
  // Decoding always produces RGB (PIL's convert("RGB")); false is accepted and changes nothing for RGB
  // files (transformers fails on non-RGB ones then).
  bool do_convert_rgb = true;
  bool do_pan_and_scan = false;  // the CLI's --pan-and-scan turns it on
  PanAndScanParams pan_and_scan;
  // <image_soft_token>s per image: processor_config.json's image_seq_length, else preprocessor_config.json's,
  // else 256 (Gemma3Processor's default).
  int image_seq_length = 256;
};

// Parses preprocessor_config.json text; errors name `source` and the field.
ImageProcessorConfig parse_image_processor_config(std::string_view json_text, const std::string& source);

// `path` is preprocessor_config.json itself, or a model folder holding it. A processor_config.json beside
// it, if any, supplies image_seq_length (Gemma3Processor's own setting).
ImageProcessorConfig read_image_processor_config(const std::filesystem::path& path);

// The processed batch: for each input image, the image itself and then its pan-and-scan crops.
struct ProcessedImages {
  int height = 0, width = 0;
  std::vector<float> pixel_values;  // [count(), 3, height, width] float32
  std::vector<int> num_crops;       // per input image (0 without pan-and-scan)

  int64_t count() const {
    return height > 0 && width > 0 ? static_cast<int64_t>(pixel_values.size()) / (3LL * height * width) : 0;
  }
};

// The image as the model sees it before rescaling: resized to size (or unchanged if do_resize is false).
RgbImage resize_for_model(const RgbImage& image, const ImageProcessorConfig& config);

// Rescale + normalize + HWC -> CHW of an already resized image into out[3 * height * width].
void to_pixel_values(const RgbImage& resized, const ImageProcessorConfig& config, float* out);

// The whole pipeline over decoded images (pan-and-scan when config.do_pan_and_scan).
ProcessedImages preprocess_images(const std::vector<RgbImage>& images, const ImageProcessorConfig& config);

// Decodes the files (errors name the file) and runs preprocess_images.
ProcessedImages preprocess_image_files(const std::vector<std::filesystem::path>& files,
                                       const ImageProcessorConfig& config, const ImageDecodeOptions& decode = {});

// What Gemma3Processor puts in the prompt string in place of one image's <start_of_image>:
//   full = "\n\n<start_of_image>" + "<image_soft_token>" * image_seq_length + "<end_of_image>\n\n"
//   num_crops == 0: full
//   num_crops > 0:  "Here is the original image " + full + " and here are some crops to help you see better "
//                   + " ".join([full] * num_crops)
// (transformers processing_gemma3.py, full_image_sequence and replace_image_token.)
std::string image_prompt_text(int num_crops, int image_seq_length);

}  // namespace gemma
