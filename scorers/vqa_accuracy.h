#pragma once
// VQA accuracy (VQAv2, TextVQA, OK-VQA; VQA PythonEvaluationTools/vqaEvaluation/vqaEval.py (HEAD)): with the 10 human
// answers, a prediction scores the mean over i of min(1, #{j != i : answer_j == prediction} / 3) (the
// official "10 choose 9" averaging, leaving out one answer by position), after the EvalAI answer
// normalisation (punctuation, number words, articles, contractions). Torch-free.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gemma::scorers {

// Who normalises what, and when (the lmms-eval task configs lmms_eval/tasks/@75571cfe; docs/deviations.md):
//   kLmmsVqav2   lmms-eval tasks/vqav2/utils.py: the prediction always goes through the full
//                EvalAI processor (lower-case, drop ',' and '?', "'s" -> " 's", punctuation, digits
//                and articles); the answers are only stripped, and both sides get punctuation +
//                digit/article processing only when the answers are not all identical; the mean
//                over the answers is statistics.mean's (exact sum, one rounding). The default.
//   kLmmsTextvqa lmms-eval tasks/{textvqa,ok_vqa}/utils.py: the full EvalAI processor on the
//                prediction and on every answer, always.
//   kOfficial    GT-Vision-Lab/VQA vqaEval.py: prediction and answers are stripped; both are
//                normalised only when the answers are not all identical, so a unanimous "2" does
//                not accept "two" and a unanimous "yes" does not accept "Yes".
enum class VqaVariant { LmmsVqav2, LmmsTextvqa, Official };

// "lmms_vqav2" / "lmms_textvqa" / "official", as recorded with results.
std::string vqa_variant_name(VqaVariant variant);
// The variant of a name above (also "lmms_okvqa" = kLmmsTextvqa); nullopt for anything else.
std::optional<VqaVariant> parse_vqa_variant(std::string_view name);

// How processPunctuation decides that a digit-comma-digit is present (it then deletes every
// punctuation character instead of replacing it with a space): the official "(\d)(\,)(\d)" or
// mmf/lmms-eval's "(?<=\d)(\,)+(?=\d)" (also several commas).
enum class CommaRule { Official, Lmms };

// EvalAI's processPunctuation: each of ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? ! is deleted when
// it stands next to a space somewhere in the text (or the text has a digit-comma-digit), else
// replaced by a space; then up to 32 periods not followed by a digit are deleted (the re.UNICODE
// flag passed as re.sub's count).
std::string vqa_process_punctuation(std::string_view text, CommaRule rule = CommaRule::Lmms);
// EvalAI's processDigitArticle: lower-case, split on whitespace, number words none/zero..ten to
// digits, drop a/an/the, restore contractions ("dont" -> "don't"), join with single spaces.
std::string vqa_process_digit_article(std::string_view text);
// lmms-eval's EvalAIAnswerProcessor.__call__ (the full normaliser).
std::string vqa_normalize_answer(std::string_view text);

// One question's accuracy in [0, 1]. Answers must not be empty (gemma::Error otherwise).
double vqa_accuracy(std::string_view prediction, const std::vector<std::string>& answers,
                    VqaVariant variant = VqaVariant::LmmsVqav2);

}  // namespace gemma::scorers
