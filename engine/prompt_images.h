#pragma once
// A prompt's images, ready for the decoder (transformers models/gemma3/processing_gemma3.py@0068e970; transformers
// models/gemma3/modeling_gemma3.py@0018aa64): each kImageMarker in the text becomes the image token block
// Gemma3Processor writes there (with pan-and-scan crops when configured), and the files become pixel values; the vision
// tower then gives one embedding per <image_soft_token>.
#include <string>
#include <vector>

#include <torch/types.h>

namespace gemma {
class VisionTower;
struct ImageProcessorConfig;
}  // namespace gemma

namespace gemma::evals {

struct PromptImages {
  std::string text;            // the prompt with every marker expanded
  torch::Tensor pixel_values;  // [n, 3, S, S] float32: each image, then its crops, in marker order
};

// The marker count must equal the number of files; a file that cannot be read is an error naming it.
PromptImages expand_prompt_images(const std::string& text, const std::vector<std::string>& image_files,
                                  const ImageProcessorConfig& config);

// Pixel values [n, 3, S, S] of image files (with their pan-and-scan crops when configured), no prompt.
// A file ending in .npy holds pixel values already preprocessed (float32 [3, S, S] or [k, 3, S, S], e.g.
// saved from Hugging Face's processor): they are used as they are, which also works without OpenCV.
torch::Tensor load_pixel_values(const std::vector<std::string>& image_files, const ImageProcessorConfig& config);

// [n * mm_tokens_per_image, H]: the rows that replace the prompt's soft tokens, in order.
torch::Tensor soft_token_embeddings(const VisionTower& vision, const torch::Tensor& pixel_values);

}  // namespace gemma::evals
