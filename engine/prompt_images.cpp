#include "engine/prompt_images.h"

#include <filesystem>

#include <fmt/ranges.h>
#include <torch/torch.h>

#include "common/error.h"
#include "evals/engine.h"
#include "model/image_processor.h"
#include "model/npy.h"
#include "model/siglip.h"

namespace gemma::evals {

PromptImages expand_prompt_images(const std::string& text, const std::vector<std::string>& image_files,
                                  const ImageProcessorConfig& config) {
  const std::string marker = kImageMarker;
  std::vector<size_t> markers;
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + marker.size()))
    markers.push_back(at);
  if (markers.size() != image_files.size())
    fail("a prompt names {} image(s) but holds {} {} marker(s); each image needs one, where it goes",
         image_files.size(), markers.size(), marker);
  std::vector<std::filesystem::path> files(image_files.begin(), image_files.end());
  ProcessedImages processed = preprocess_image_files(files, config);
  if (processed.num_crops.size() != markers.size())
    fail("internal: {} crop counts for {} images", processed.num_crops.size(), markers.size());
  PromptImages out;
  size_t copied = 0;
  for (size_t i = 0; i < markers.size(); ++i) {
    out.text += text.substr(copied, markers[i] - copied);
    out.text += image_prompt_text(processed.num_crops[i], config.image_seq_length);
    copied = markers[i] + marker.size();
  }
  out.text += text.substr(copied);
  out.pixel_values = torch::from_blob(processed.pixel_values.data(),
                                      {processed.count(), 3, processed.height, processed.width}, torch::kFloat32)
                         .clone();
  return out;
}

namespace {

// Preprocessed pixel values from a .npy file: float32 [3, H, W] or [k, 3, H, W] at the processor's size.
torch::Tensor read_pixel_values_npy(const std::string& file, const ImageProcessorConfig& config) {
  NpyArray array = read_npy(file);
  std::vector<int64_t> shape = array.shape;
  if (shape.size() == 3) shape.insert(shape.begin(), 1);
  if (shape.size() != 4 || shape[0] < 1 || shape[1] != 3 || shape[2] != config.height || shape[3] != config.width)
    fail(
        "{}: preprocessed pixel values must be [3, {}, {}] or [k, 3, {}, {}] (the processor's size); the file "
        "holds {}",
        file, config.height, config.width, config.height, config.width, fmt::join(array.shape, "x"));
  std::vector<float> values = array.to_float32();
  return torch::from_blob(values.data(), shape, torch::kFloat32).clone();
}

}  // namespace

torch::Tensor load_pixel_values(const std::vector<std::string>& image_files, const ImageProcessorConfig& config) {
  std::vector<torch::Tensor> parts;
  for (const auto& file : image_files) {
    if (std::filesystem::path(file).extension() == ".npy") {
      parts.push_back(read_pixel_values_npy(file, config));
      continue;
    }
    ProcessedImages processed = preprocess_image_files({std::filesystem::path(file)}, config);
    parts.push_back(torch::from_blob(processed.pixel_values.data(),
                                     {processed.count(), 3, processed.height, processed.width}, torch::kFloat32)
                        .clone());
  }
  if (parts.empty()) return torch::empty({0, 3, config.height, config.width});
  return torch::cat(parts);
}

torch::Tensor soft_token_embeddings(const VisionTower& vision, const torch::Tensor& pixel_values) {
  auto features = vision.image_features(pixel_values);  // [n, T, H]
  return features.reshape({-1, features.size(2)});
}

}  // namespace gemma::evals
