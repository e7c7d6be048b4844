// CPython random.Random port: every vector of lm-eval lm_eval/api/samplers.py@4e7e0d47 plus CPython 3.11 outputs
// for the other entry points (pool vs set method of sample, choices, shuffle, getrandbits, big seeds).
#include <catch2/catch.hpp>

#include <vector>

#include "common/error.h"
#include "common/python_random.h"

using gemma::PythonRandom;
using Indices = std::vector<uint64_t>;

TEST_CASE("python_random: lm-eval few-shot index vectors (Random(1234))") {
  SECTION("HellaSwag 10-shot draws 11 from 39905, doc0 then doc1 on the same RNG") {
    PythonRandom rng(1234);
    CHECK(rng.sample(39905, 11) == Indices{28883, 7657, 490, 5940, 38156, 2288, 5500, 6450, 23241, 15519, 1142});
    CHECK(rng.sample(39905, 11) == Indices{2019, 1038, 22681, 31735, 30379, 9735, 5982, 11999, 7498, 958, 32970});
  }
  SECTION("ARC-Challenge 25-shot from 1119") {
    PythonRandom rng(1234);
    CHECK(rng.sample(1119, 25) == Indices{902, 239, 15,  185, 71,  171, 201, 726,  484, 35,  63,  32,  708,
                                          991, 949, 304, 186, 374, 234, 29,  1030, 996, 511, 132, 1108});
  }
  SECTION("WinoGrande 5-shot draws 6 from 40398, doc0 then doc1") {
    PythonRandom rng(1234);
    CHECK(rng.sample(40398, 6) == Indices{28883, 7657, 490, 5940, 38156, 2288});
    CHECK(rng.sample(40398, 6) == Indices{5500, 6450, 23241, 15519, 1142, 2019});
  }
  SECTION("TriviaQA, NQ-open, GSM8K") {
    CHECK(PythonRandom(1234).sample(138384, 6) == Indices{115535, 30631, 1963, 23761, 9155, 22003});
    CHECK(PythonRandom(1234).sample(87925, 6) == Indices{57767, 15315, 981, 11880, 76313, 4577});
    CHECK(PythonRandom(1234).sample(7473, 8) == Indices{6374, 3610, 957, 61, 742, 7462, 6610, 4769});
  }
  SECTION("small populations use the pool method") {
    CHECK(PythonRandom(1234).sample(10, 3) == Indices{7, 1, 0});
    CHECK(PythonRandom(1234).sample(100, 6) == Indices{99, 56, 14, 0, 11, 74});
  }
}

TEST_CASE("python_random: random() is bit-exact") {
  PythonRandom rng(0);
  CHECK(rng.random() == 0.8444218515250481);
  CHECK(rng.random() == 0.7579544029403025);
  CHECK(rng.random() == 0.420571580830845);
  CHECK(PythonRandom((uint64_t{1} << 40) + 5).random() == 0.5043802970418443);  // two-word seed key
}

TEST_CASE("python_random: sample switches from pool to set method at CPython's setsize") {
  // k = 6: setsize = 21 + 4**ceil(log4(18)) = 85. n = 85 copies the pool, n = 86 uses a set; the
  // streams coincide until the pool method's swap changes which index a draw maps to.
  CHECK(PythonRandom(7).sample(85, 6) == Indices{41, 19, 50, 6, 9, 68});
  CHECK(PythonRandom(7).sample(86, 6) == Indices{41, 19, 50, 83, 6, 9});
  CHECK(PythonRandom(5).sample(5, 5) == Indices{4, 2, 3, 1, 0});
  const Indices big = PythonRandom(9).sample(1000, 100);
  REQUIRE(big.size() == 100);
  CHECK(Indices(big.begin(), big.begin() + 5) == Indices{474, 627, 382, 273, 141});
  CHECK(Indices(big.end() - 3, big.end()) == Indices{17, 512, 86});
}

TEST_CASE("python_random: choices, shuffle, getrandbits, randbelow") {
  CHECK(PythonRandom(0).choices(10, 8) == Indices{8, 7, 4, 2, 5, 4, 7, 3});

  std::vector<int> items{0, 1, 2, 3, 4, 5, 6, 7};
  PythonRandom(42).shuffle(items);
  CHECK(items == std::vector<int>{3, 4, 6, 7, 2, 5, 0, 1});

  PythonRandom bits(3);
  CHECK(bits.getrandbits(64) == 10932295209482665981ULL);
  CHECK(bits.getrandbits(33) == 2337446730ULL);
  CHECK(bits.getrandbits(1) == 0);
  CHECK(bits.getrandbits(0) == 0);

  // randbelow(1) still consumes one draw each (k = bit_length(1) = 1), as in CPython.
  PythonRandom below(11);
  for (int i = 0; i < 3; ++i) CHECK(below.randbelow(1) == 0);
  CHECK(below.random() == 0.5078412730622711);
}

TEST_CASE("python_random: impossible requests are errors") {
  PythonRandom rng(1);
  CHECK_THROWS_AS(rng.sample(3, 4), gemma::Error);
  CHECK_THROWS_AS(rng.randbelow(0), gemma::Error);
  CHECK_THROWS_AS(rng.getrandbits(65), gemma::Error);
  CHECK(rng.sample(0, 0).empty());
}
