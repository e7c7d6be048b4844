#include "evals/model_engine/prompt_images.h"

#include <torch/torch.h>

#include "common/error.h"
#include "evals/engine.h"
#include "model/siglip.h"
#if GEMMA_EVAL_WITH_IMAGES
#include "model/image_processor.h"
#endif

namespace gemma::evals {

bool image_support_built() { return GEMMA_EVAL_WITH_IMAGES != 0; }

PromptImages expand_prompt_images(const std::string& text, const std::vector<std::string>& image_files,
                                  const ImageProcessorConfig& config) {
#if GEMMA_EVAL_WITH_IMAGES
  const std::string marker = kImageMarker;
  std::vector<size_t> markers;
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + marker.size()))
    markers.push_back(at);
  if (markers.size() != image_files.size())
    fail("a prompt names {} image(s) but holds {} {} marker(s); each image needs one, where it goes",
         image_files.size(), markers.size(), marker);
  std::vector<std::filesystem::path> files(image_files.begin(), image_files.end());
  ProcessedImages processed = preprocess_image_files(files, config);
  if (processed.num_crops.size() != markers.size()) fail("internal: {} crop counts for {} images", processed.num_crops.size(), markers.size());
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
#else
  (void)text, (void)image_files, (void)config;
  fail("this gemma-eval was built without image support (OpenCV was not found at configure time)");
#endif
}

torch::Tensor load_pixel_values(const std::vector<std::string>& image_files, const ImageProcessorConfig& config) {
#if GEMMA_EVAL_WITH_IMAGES
  std::vector<std::filesystem::path> files(image_files.begin(), image_files.end());
  ProcessedImages processed = preprocess_image_files(files, config);
  return torch::from_blob(processed.pixel_values.data(), {processed.count(), 3, processed.height, processed.width},
                          torch::kFloat32)
      .clone();
#else
  (void)image_files, (void)config;
  fail("this gemma-eval was built without image support (OpenCV was not found at configure time)");
#endif
}

torch::Tensor soft_token_embeddings(const VisionTower& vision, const torch::Tensor& pixel_values) {
  auto features = vision.image_features(pixel_values);  // [n, T, H]
  return features.reshape({-1, features.size(2)});
}

}  // namespace gemma::evals
