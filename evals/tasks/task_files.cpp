// The built-in tasks lm-eval defines by configuration alone: task files under tasks/ (compiled in,
// evals/builtin_task_files.h), read by the loader users' task files go through (evals/task_file.h).
// Their order keys place them among the C++ task families as before.
#include "evals/task_registry.h"

namespace gemma::evals::tasks {

const TaskRegistration kMmluRegistration{100, TaskFileRoot{"mmlu"}};  // tasks/mmlu/: 57 subjects, 5 groups
const TaskRegistration kBoolqRegistration{300, TaskFileRoot{"boolq"}};
const TaskRegistration kPiqaRegistration{400, TaskFileRoot{"piqa"}};
const TaskRegistration kSocialIqaRegistration{500, TaskFileRoot{"social_iqa"}};
const TaskRegistration kArcEasyRegistration{600, TaskFileRoot{"arc_easy"}};
const TaskRegistration kArcChallengeRegistration{700, TaskFileRoot{"arc_challenge"}};
const TaskRegistration kGsm8kRegistration{900, TaskFileRoot{"gsm8k"}};
const TaskRegistration kGsm8kCotRegistration{1000, TaskFileRoot{"gsm8k_cot"}};
const TaskRegistration kNqOpenRegistration{1800, TaskFileRoot{"nq_open"}};

}  // namespace gemma::evals::tasks
