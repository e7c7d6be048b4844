#pragma once
// The built-in tasks that lm-eval defines by configuration alone (ARC, BoolQ, PIQA, MMLU and its groups,
// GSM8K, gsm8k_cot) are task files in the repository's tasks/ folder, read by the same loader as a
// user's (evals/task_file.h). They are compiled into the binary (evals/embed_task_files.cmake), so the
// binary runs them from anywhere; errors name them as kBuiltinTaskRoot/<path>.
#include <string_view>
#include <vector>

namespace gemma::evals {

struct BuiltinTaskFile {
  std::string_view path;  // relative to tasks/: "arc/arc_easy.yaml"
  std::string_view text;
};

// Every file under tasks/ (but *.md), in path order.
const std::vector<BuiltinTaskFile>& builtin_task_files();

// The folder the built-in task files appear to be in: not a real folder, so a task file on disk is
// never mistaken for one of them.
inline constexpr std::string_view kBuiltinTaskRoot = "<built-in>/tasks";

}  // namespace gemma::evals
