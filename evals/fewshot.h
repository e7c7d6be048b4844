#pragma once
// lm-eval's few-shot samplers (lm-eval lm_eval/api/samplers.py@4e7e0d47), bit for bit: one sampler per task,
// seeded once with fewshot_seed and asked for each evaluated doc in doc order, so the shots of doc i
// depend on the draws made for docs 0..i-1 — exactly like lm-eval iterating its (limited) eval docs.
// Torch-free.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/python_random.h"
#include "evals/task.h"

namespace gemma::evals {

// True when the shot-pool doc at this index is the doc being evaluated (lm-eval compares docs; we
// compare doc ids when the pool is the eval split itself).
using IsEvalDoc = std::function<bool(size_t pool_index)>;

class FewshotSampler {
 public:
  FewshotSampler(std::string task_name, ShotSampler kind, size_t pool_size, uint64_t seed);

  // Pool indices of the `shots` examples for the next eval doc, in prompt order. With `is_eval_doc`
  // set (lm-eval passes the eval doc when the shot split is the eval split), n+1 are drawn and the
  // eval doc dropped, keeping the first n. shots == 0 draws nothing (lm-eval skips the sampler).
  std::vector<int64_t> next(int shots, const IsEvalDoc& is_eval_doc = nullptr);

 private:
  std::vector<int64_t> draw(size_t count);

  std::string task_name_;
  ShotSampler kind_;
  size_t pool_size_;
  PythonRandom rng_;
};

}  // namespace gemma::evals
