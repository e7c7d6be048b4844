#pragma once
// A port of CPython's `random.Random` (Mersenne Twister MT19937 + the Python-level algorithms of
// Lib/random.py), bit for bit: lm-eval draws few-shot examples with random.Random(1234).sample(...)
// and bootstrap resamples with random.Random(i).choices(...), so reproducing its prompts and stderrs
// needs the same stream (lm-eval lm_eval/api/samplers.py@4e7e0d47). Torch-free.
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace gemma {

class PythonRandom {
 public:
  explicit PythonRandom(uint64_t seed = 0) { seed_with(seed); }

  // random.seed(n) for a non-negative int: init_by_array over n's 32-bit words, least significant first.
  void seed_with(uint64_t seed);

  uint32_t genrand_uint32();
  // random.random(): 53 random bits as a double in [0, 1).
  double random();
  // random.getrandbits(k), 0 <= k <= 64.
  uint64_t getrandbits(int k);
  // Random._randbelow(n) (the getrandbits rejection method): uniform in [0, n), n > 0.
  uint64_t randbelow(uint64_t n);

  // random.sample(range(population_size), k): k distinct indices, in draw order. Uses CPython's
  // pool method or set method exactly as it picks them (the choice changes the stream).
  std::vector<uint64_t> sample(uint64_t population_size, uint64_t k);
  // random.choices(range(population_size), k=k): k indices drawn with replacement.
  std::vector<uint64_t> choices(uint64_t population_size, uint64_t k);

  // random.shuffle(items), in place.
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i-- > 1;) std::swap(items[i], items[randbelow(i + 1)]);
  }

 private:
  static constexpr int kStateSize = 624;
  void init_genrand(uint32_t seed);
  void init_by_array(const std::vector<uint32_t>& key);
  void regenerate();

  std::array<uint32_t, kStateSize> state_{};
  int index_ = kStateSize + 1;
};

}  // namespace gemma
