#pragma once
// CIDEr-D as pycocoevalcap's Cider computes it (pycocoevalcap cider/cider_scorer.py (HEAD); n = 4, sigma = 6):
// per image, the tf-idf n-gram vectors of the candidate and each reference (idf = document
// frequency over THIS corpus's references, one document per image), clipped cosine similarity
// times a Gaussian length penalty on the bigram counts, averaged over n = 1..4 and the references,
// times 10; the corpus score is the mean over images. Corpus-level: adding an image changes every
// other image's idf, and a one-image corpus scores 0 (log 1 = 0). Inputs are already tokenised
// (ptb_tokenizer.h); words are Python's str.split() of each caption. Torch-free.
#include <string>
#include <vector>

namespace gemma::scorers {

struct CiderResult {
  double score = 0.0;             // mean over images (pycocoevalcap's value; the card reports x100)
  std::vector<double> per_image;  // in input order
};

// hypotheses[i] is image i's candidate caption, references[i] its reference captions. Errors
// (gemma::Error): different sizes, no images, an image without references, n == 0.
CiderResult cider_d(const std::vector<std::string>& hypotheses, const std::vector<std::vector<std::string>>& references,
                    int n = 4, double sigma = 6.0);

}  // namespace gemma::scorers
