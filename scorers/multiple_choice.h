#pragma once
// lm-eval's multiple-choice scoring (api/task.py::process_results):
// acc = argmax of the summed loglikelihoods, acc_norm = argmax of loglikelihood / choice length in
// characters (Python len: code points, delimiter excluded), acc_bytes = / UTF-8 bytes, exact_match =
// the gold continuation was the greedy one. Ties go to the first index (np.argmax). Torch-free.
#include <string>
#include <vector>

namespace gemma::scorers {

// np.argmax: the first NaN if any (NaN compares as the maximum), else the first maximum.
size_t argmax_first(const std::vector<double>& values);

struct MultipleChoiceScores {
  size_t prediction = 0;        // argmax of loglikelihoods
  size_t prediction_norm = 0;   // argmax of loglikelihood / characters
  size_t prediction_bytes = 0;  // argmax of loglikelihood / bytes
  double acc = 0, acc_norm = 0, acc_bytes = 0, exact_match = 0;
};

// `choices` are the choice texts whose lengths normalise (for multiple-input tasks lm-eval uses the
// contexts here, and so do we). A gold index outside the choices is lm-eval's -100: every metric 0.
MultipleChoiceScores score_multiple_choice(const std::vector<double>& loglikelihoods,
                                           const std::vector<bool>& is_greedy, const std::vector<std::string>& choices,
                                           long gold);
// Several correct choices (AGIEval's gold lists, process_results_mcqa): acc, acc_norm and acc_bytes are 1
// when the argmax is any of them; exact_match looks at the first. An empty list scores 0.
MultipleChoiceScores score_multiple_choice(const std::vector<double>& loglikelihoods,
                                           const std::vector<bool>& is_greedy, const std::vector<std::string>& choices,
                                           const std::vector<long>& golds);

}  // namespace gemma::scorers
