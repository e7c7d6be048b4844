#pragma once
// HellaSwag's document preprocessing (lm-eval tasks/hellaswag/utils.py), exposed for tests.
#include <string>
#include <string_view>

#include "evals/task.h"
#include "evals/tasks/rows.h"

namespace gemma::evals::tasks {

// utils.preprocess: strip; " [title]" -> ". "; drop every "[...]" (no newline inside); then one
// pass of "  " -> " ".
std::string hellaswag_preprocess(std::string_view text);

// utils.process_docs on one published row (rowanz/hellaswag JSONL: ind, activity_label, ctx_a,
// ctx_b, ctx, split, split_type, endings[4], label, source_id): the row plus
// query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()),
// choices = [preprocess(e) for e in endings], gold = int(label). Validates the fields it reads.
Doc hellaswag_process_doc(const Doc& row, const RowSource& at);

}  // namespace gemma::evals::tasks
