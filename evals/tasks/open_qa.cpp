#include "evals/tasks/open_qa.h"

namespace gemma::evals::tasks {

FilterPipeline remove_whitespace_pipeline() {
  using Kind = FilterStep::Kind;
  return {"remove_whitespace", {{Kind::RemoveWhitespace, "", 0, "[invalid]"}, {Kind::TakeFirst, "", 0, "[invalid]"}}};
}

std::vector<std::string> short_answer_stops() { return {"\n", ".", ","}; }

}  // namespace gemma::evals::tasks
