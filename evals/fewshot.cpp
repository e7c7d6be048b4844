#include "evals/fewshot.h"

#include "common/error.h"

namespace gemma::evals {

FewshotSampler::FewshotSampler(std::string task_name, ShotSampler kind, size_t pool_size, uint64_t seed)
    : task_name_(std::move(task_name)), kind_(kind), pool_size_(pool_size), rng_(seed) {}

std::vector<int64_t> FewshotSampler::draw(size_t count) {
  if (count > pool_size_)
    fail("task {}: {} few-shot examples must be drawn but the shot split has only {} docs", task_name_, count,
         pool_size_);
  std::vector<int64_t> drawn;
  drawn.reserve(count);
  if (kind_ == ShotSampler::FirstN) {
    for (size_t i = 0; i < count; ++i) drawn.push_back(static_cast<int64_t>(i));
  } else {
    for (uint64_t index : rng_.sample(pool_size_, count)) drawn.push_back(static_cast<int64_t>(index));
  }
  return drawn;
}

std::vector<int64_t> FewshotSampler::next(int shots, const IsEvalDoc& is_eval_doc) {
  if (shots < 0) fail("task {}: the number of shots must not be negative (got {})", task_name_, shots);
  if (shots == 0) return {};
  const size_t count = static_cast<size_t>(shots);
  if (!is_eval_doc) return draw(count);
  std::vector<int64_t> kept;
  for (int64_t index : draw(count + 1)) {
    if (!is_eval_doc(static_cast<size_t>(index))) kept.push_back(index);
  }
  if (kept.size() > count) kept.resize(count);
  return kept;
}

}  // namespace gemma::evals
