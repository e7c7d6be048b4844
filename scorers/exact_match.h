#pragma once
// lm-eval's exact_match (the Hugging Face `evaluate` port, lm-eval
// lm_eval/api/metrics.py::exact_match_hf_evaluate@4e7e0d47): regexes_to_ignore removed (re.sub) from prediction AND
// reference, then optional lower-casing, ASCII punctuation removal and digit removal, then a plain == (no trimming).
// Torch-free.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace gemma::scorers {

// lm-eval's exact_match arguments (a task's metric_list entry), as the HF evaluate metric takes them.
struct ExactMatchOptions {
  bool ignore_case = false;
  bool ignore_punctuation = false;
  bool ignore_numbers = false;
  std::vector<std::string> regexes_to_ignore;
};

// Options compiled once (the regexes), applied to every prediction of a task.
class ExactMatch {
 public:
  explicit ExactMatch(const ExactMatchOptions& options);
  ~ExactMatch();
  ExactMatch(ExactMatch&&) noexcept;
  ExactMatch& operator=(ExactMatch&&) noexcept;

  // The normalised form both sides are compared in.
  std::string normalize(std::string_view text) const;
  // 1.0 when the prediction equals any reference after normalisation (lm-eval's multiple targets),
  // else 0.0; no references scores 0.0.
  double score(std::string_view prediction, const std::vector<std::string>& references) const;

 private:
  ExactMatchOptions options_;
  std::vector<std::unique_ptr<re2::RE2>> ignore_;
};

// One-off convenience: compiles the options and scores.
double exact_match(std::string_view prediction, const std::vector<std::string>& references,
                   const ExactMatchOptions& options);

}  // namespace gemma::scorers
