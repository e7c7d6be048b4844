#pragma once
// Human-readable reports of a run: lm-eval's results table (so a gemma-eval table can be diffed against
// an lm-eval one) and a comparison with the Gemma 3 model card's published numbers.
#include <string>

#include "evals/results.h"

namespace gemma::reports {

// lm-eval's printed results (lm_eval/utils.py::make_table rendered by
// pytablewriter's MarkdownTableWriter): a header line describing the run, the Tasks table
//   |Tasks|Version|Filter|n-shot|Metric| |Value| |Stderr|
// (groups and their members in lm-eval's order, members indented " - name"; a task's name and version
// on its first row only; metrics sorted by "metric,filter"; ↑/↓; "%.4f"; ± stderr or N/A), then the
// Groups table, then one line per group stating how it was aggregated. Columns are padded and aligned
// as pytablewriter does: width = the widest cell (at least 3), headers centred, a column right-aligned
// when every non-blank cell is a number.
std::string results_table(const evals::RunResult& run);

// "N request(s) had a prompt longer than the context window of L tokens and were cut from the left
// ... (task n, ...)", or "" when no prompt was cut. results_table ends with it (as "Truncated: ...")
// and `run` prints it on stderr: lm-eval's left truncation is silent, and a cut prompt scores another
// question.
std::string truncation_note(const evals::RunResult& run);

// This run against the card's numbers for `model_size` ("4b"), in the card's units:
//   | Benchmark | n-shot | Metric | gemma-eval | model card | Δ |
// one row per metric row of a task or group that ran and that the card publishes for that size; the
// pre-trained table unless config["profile"] is "it". n-shot shows this run's shots, with the card's
// setting when they differ. "" for an unknown size; a one-line note when nothing that ran is on the card.
std::string model_card_table(const evals::RunResult& run, const std::string& model_size);

}  // namespace gemma::reports
