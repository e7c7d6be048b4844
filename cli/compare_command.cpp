// gemma-eval compare BASE NEW: the regression table of two runs (reports/compare.h does the work).
#include <cstdio>

#include "cli/commands.h"
#include "reports/compare.h"
#include "reports/run_record.h"

namespace gemma::cli {

int run_compare(const CompareArgs& args) {
  reports::CompareOptions options;
  options.alpha = args.alpha;
  options.min_delta = args.min_delta;
  // No corpus metric (chrF, CIDEr) is implemented yet, so none is registered in options.corpus_scores:
  // such rows would get p = n/a until their scorer provides per-doc sufficient statistics.
  const auto base = reports::load_run(args.base);
  const auto candidate = reports::load_run(args.candidate);
  const auto comparison = reports::compare_runs(base, candidate, options);
  std::printf("%s", reports::comparison_markdown(comparison).c_str());

  size_t regressed = 0, incomparable = 0;
  for (const auto& row : comparison.rows) {
    regressed += row.status == reports::RowStatus::Regressed;
    incomparable += row.status == reports::RowStatus::Incomparable;
  }
  if (regressed) std::fprintf(stderr, "gemma-eval compare: %zu row(s) regressed\n", regressed);
  if (incomparable)
    std::fprintf(stderr, "gemma-eval compare: %zu row(s) could not be compared (see the status column)%s\n",
                 incomparable, args.fail_on_incomparable ? "" : "; --fail-on-incomparable makes that an error");
  return reports::comparison_exit_code(comparison, args.fail_on_incomparable);
}

}  // namespace gemma::cli
