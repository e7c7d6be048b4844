// lm-eval's samplers: the shot ids must be CPython's random.Random(1234).sample stream, consumed doc
// after doc (lm-eval lm_eval/api/samplers.py@4e7e0d47).
#include <catch2/catch.hpp>

#include <vector>

#include "common/error.h"
#include "evals/fewshot.h"

using gemma::evals::FewshotSampler;
using gemma::evals::ShotSampler;
using Ids = std::vector<int64_t>;

namespace {
const Ids kHellaswagDoc0Draw{28883, 7657, 490, 5940, 38156, 2288, 5500, 6450, 23241, 15519, 1142};
const Ids kHellaswagDoc1Draw{2019, 1038, 22681, 31735, 30379, 9735, 5982, 11999, 7498, 958, 32970};
auto never = [](size_t) { return false; };
}  // namespace

TEST_CASE("fewshot: with the eval doc, n+1 are drawn and the first n kept (HellaSwag 10-shot)") {
  FewshotSampler sampler("hellaswag", ShotSampler::Random, 39905, 1234);
  CHECK(sampler.next(10, never) == Ids(kHellaswagDoc0Draw.begin(), kHellaswagDoc0Draw.end() - 1));
  CHECK(sampler.next(10, never) == Ids(kHellaswagDoc1Draw.begin(), kHellaswagDoc1Draw.end() - 1));
}

TEST_CASE("fewshot: a drawn eval doc is dropped and the extra draw takes its place") {
  FewshotSampler sampler("same_split_task", ShotSampler::Random, 39905, 1234);
  const Ids shots = sampler.next(10, [](size_t index) { return index == 490; });
  Ids expected = kHellaswagDoc0Draw;
  expected.erase(expected.begin() + 2);
  CHECK(shots == expected);
}

TEST_CASE("fewshot: without the eval doc, exactly n are drawn (GSM8K 8-shot, ARC 25-shot)") {
  CHECK(FewshotSampler("gsm8k", ShotSampler::Random, 7473, 1234).next(8) ==
        Ids{6374, 3610, 957, 61, 742, 7462, 6610, 4769});
  FewshotSampler arc("arc_challenge", ShotSampler::Random, 1119, 1234);
  const Ids shots = arc.next(25);
  REQUIRE(shots.size() == 25);
  CHECK(shots.front() == 902);
  CHECK(shots.back() == 1108);
}

TEST_CASE("fewshot: zero shots draw nothing, so the stream is untouched for later docs") {
  FewshotSampler sampler("hellaswag", ShotSampler::Random, 39905, 1234);
  CHECK(sampler.next(0, never).empty());
  CHECK(sampler.next(10, never).front() == kHellaswagDoc0Draw.front());
}

TEST_CASE("fewshot: first_n takes the pool's head, minus the eval doc") {
  FewshotSampler mmlu("mmlu_anatomy", ShotSampler::FirstN, 5, 1234);
  CHECK(mmlu.next(5) == Ids{0, 1, 2, 3, 4});
  CHECK(mmlu.next(5) == Ids{0, 1, 2, 3, 4});  // deterministic: no RNG
  FewshotSampler same_split("first_n_same_split", ShotSampler::FirstN, 10, 1234);
  CHECK(same_split.next(3, [](size_t index) { return index == 1; }) == Ids{0, 2, 3});
  CHECK(same_split.next(3, never) == Ids{0, 1, 2});
}

TEST_CASE("fewshot: asking for more shots than the pool holds is an error naming the task") {
  FewshotSampler small("tiny_task", ShotSampler::Random, 5, 1234);
  CHECK_THROWS_WITH(small.next(5, never), Catch::Contains("tiny_task") && Catch::Contains("6"));
  FewshotSampler first("tiny_first", ShotSampler::FirstN, 2, 1234);
  CHECK_THROWS_AS(first.next(3), gemma::Error);
  CHECK_THROWS_AS(first.next(-1), gemma::Error);
}
