#pragma once
// MMMU's answer scoring, as lmms-eval tasks/mmmu/utils.py and the official MMMU eval_utils.py define it
// (parse_multi_choice_response, parse_open_response, normalize_str, eval_open). Torch-free.
#include <string>
#include <vector>

namespace gemma::scorers::mmmu {

// The option letter ("A", "B", ...) a response picks: "(C)", "C ", "C." marks, else (responses of
// more than 5 words) an option's text; of several candidates the one mentioned last. "" when nothing
// matches (the official parser then draws a random letter; lmms-eval's current mmmu_mcq_utils and
// gemma-eval count such a response as wrong).
std::string parse_multiple_choice_response(const std::string& response, const std::vector<std::string>& options);

// eval_open: any number or normalised phrase parse_open_response extracts from the response equals a
// number of the answer (rounded to 2 places) or contains the answer's lower-cased text.
bool open_response_matches(const std::string& response, const std::string& answer);

// 1.0 when the response answers correctly, else 0.0: a multiple-choice question (options given)
// compares the parsed letter with `answer`; an open question (no options) uses open_response_matches.
double mmmu_accuracy(const std::string& response, const std::string& answer, const std::vector<std::string>& options);

}  // namespace gemma::scorers::mmmu
