#pragma once
// ANLS, Average Normalized Levenshtein Similarity (DocVQA, InfographicVQA;
// lmms-eval lmms_eval/api/metrics.py::anls@75571cfe): per question 1 - min over the references of edit-distance /
// length, zeroed below the threshold (0.5); the task score is the mean over questions. Both sides are compared as
// Python's " ".join(s.strip().lower().split()) (code points, Unicode whitespace). Torch-free.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gemma::scorers {

// Which denominator divides the edit distance (docs/deviations.md).
//   kLmms:     max(len(ref.upper()), len(pred.upper())) of the RAW strings, as lmms-eval's
//              api/metrics.py::anls (from Qwen-VL's infographicsvqa_eval.py) computes it: extra
//              whitespace and padding make the denominator larger. The default (parity).
//   kOfficial: max of the lengths of the normalised strings, the ANLS definition.
// In both a question scores 0 when 1 - NL < threshold (so NL = 0.5 exactly still scores 0.5).
enum class AnlsVariant { Lmms, Official };

inline constexpr double kAnlsThreshold = 0.5;

// "lmms" / "official", as recorded with results.
std::string anls_variant_name(AnlsVariant variant);
// The variant of a name above; nullopt for anything else.
std::optional<AnlsVariant> parse_anls_variant(std::string_view name);

// Levenshtein distance (unit costs) between two UTF-8 strings, over code points.
size_t levenshtein_distance(std::string_view a, std::string_view b);

// One question's ANLS: the best (lowest normalised distance) reference. References must not be
// empty (gemma::Error otherwise: lmms-eval's min() of nothing raises).
double anls(std::string_view prediction, const std::vector<std::string>& references,
            AnlsVariant variant = AnlsVariant::Lmms, double threshold = kAnlsThreshold);

}  // namespace gemma::scorers
