#pragma once
// Reasoning and math benchmarks of the Gemma 3 model card, as lm-eval runs them (lm-eval @4e7e0d47
// lm_eval/tasks/: bbh/cot_fewshot, mmlu_pro, agieval, minerva_math, gpqa, mgsm/native_cot), one adapter file
// each, each registering its own tasks: the tasks each file makes, and what the files share or expose
// for tests. AGIEval (evals/tasks/agieval.cpp) exposes nothing.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evals/task.h"

namespace gemma::evals::tasks {

// BIG-Bench Hard, chain-of-thought 3-shot (evals/tasks/bbh.cpp): bbh_cot_fewshot_<subtask> x 27,
// group {"bbh_cot_fewshot"}. Data: data_dir/bbh/{bbh/<subtask>.json, cot-prompts/<subtask>.txt}.

// The 27 subtask names, alphabetical (lm-eval tasks/bbh/cot_fewshot/*.yaml).
const std::vector<std::string>& bbh_subtasks();
// lm-eval's "get-answer" filter, regex (?<=the answer is )(.*)(?=.) then take_first: the rest of the
// line after the first "the answer is " minus its last character, stripped; nullopt = no match.
std::optional<std::string> bbh_extract_answer(std::string_view response);
// The same regex shape for any literal lead, (?<=<lead>)(.*)(?=.) + take_first (RE2 has no
// lookaround): the first occurrence of `lead` followed by at least one more character on its line.
std::optional<std::string> first_answer_after(std::string_view response, std::string_view lead);

// MATH with the 4 Minerva shots (evals/tasks/minerva_math.cpp): 7 tasks named as lm-eval names them
// (minerva_math_algebra, ..._counting_and_prob, ..._num_theory, ..._precalc; minerva_math_<subject>
// is an alias where it differs), group {"minerva_math"}. Data: data_dir/math/MATH/test/<subject>/<n>.json
// (hendrycks/math layout).
const std::vector<std::string>& minerva_math_subjects();

// MGSM native chain of thought (evals/tasks/mgsm.cpp): mgsm_native_cot_<lang> x 11, group
// {"mgsm_cot_native"}, 0-shot (no exemplars in the data). Data: data_dir/mgsm/mgsm_<lang>.tsv.
struct MgsmLanguage {
  const char* code;            // "en"
  const char* question;        // the question word that opens a test prompt and stops generation
  const char* answer;          // the step-by-step answer lead that ends every prompt
  const char* strict_pattern;  // the "strict-match" regex (RE2 = Python here)
};
const std::vector<MgsmLanguage>& mgsm_languages();

// MMLU-Pro CoT 5-shot (evals/tasks/mmlu_pro.cpp): mmlu_pro_<category> x 14, group {"mmlu_pro"}.
// Data: TIGER-Lab/MMLU-Pro exported as JSONL, data_dir/mmlu_pro/{test,validation}.jsonl.
const std::vector<std::string>& mmlu_pro_categories();  // the dataset's `category` values

// GPQA 5-shot (evals/tasks/gpqa.cpp): gpqa_{main,diamond,extended}_n_shot (multiple choice, acc /
// acc_norm) and gpqa_{main,diamond,extended}_generative_n_shot (generation, strict-match and
// flexible-extract), groups {"gpqa"}. Data: the published Idavidrein/gpqa CSVs,
// data_dir/gpqa/gpqa_{main,diamond,extended}.csv (header row; Question, Correct Answer, Incorrect
// Answer 1-3 among the columns).

// lm-eval's multi_choice_regex "flexible-extract" without its doc-dependent step: the last "(X)" of
// the response, else the last ":<spaces>A-D" as "(X)"; nullopt = neither (see gpqa.cpp).
std::optional<std::string> gpqa_flexible_answer(std::string_view response);

}  // namespace gemma::evals::tasks
