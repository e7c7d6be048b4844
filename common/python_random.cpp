#include "common/python_random.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "common/error.h"

namespace gemma {
namespace {

constexpr uint32_t kMatrixA = 0x9908b0dfU, kUpperMask = 0x80000000U, kLowerMask = 0x7fffffffU;
constexpr int kShift = 397;

int bit_length(uint64_t n) {
  int bits = 0;
  while (n != 0) {
    ++bits;
    n >>= 1;
  }
  return bits;
}

// CPython's sample() switches from copying the population to a rejection set when a k-entry hash set
// would be smaller than an n-entry list: setsize = 21 (+ 4**ceil(log(3k, 4)) when k > 5).
// math.log(x, 4) is computed as log(x) / log(4) in double precision; we do the same so the
// boundary cases round identically.
bool use_pool_method(uint64_t population_size, uint64_t k) {
  double setsize = 21;
  if (k > 5) setsize += std::pow(4.0, std::ceil(std::log(static_cast<double>(k * 3)) / std::log(4.0)));
  return static_cast<double>(population_size) <= setsize;
}

}  // namespace

void PythonRandom::init_genrand(uint32_t seed) {
  state_[0] = seed;
  for (int i = 1; i < kStateSize; ++i)
    state_[i] = 1812433253U * (state_[i - 1] ^ (state_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  index_ = kStateSize;
}

void PythonRandom::init_by_array(const std::vector<uint32_t>& key) {
  init_genrand(19650218U);
  int i = 1;
  size_t j = 0;
  for (size_t k = std::max<size_t>(kStateSize, key.size()); k > 0; --k) {
    state_[i] = (state_[i] ^ ((state_[i - 1] ^ (state_[i - 1] >> 30)) * 1664525U)) + key[j] + static_cast<uint32_t>(j);
    ++i;
    ++j;
    if (i >= kStateSize) {
      state_[0] = state_[kStateSize - 1];
      i = 1;
    }
    if (j >= key.size()) j = 0;
  }
  for (int k = kStateSize - 1; k > 0; --k) {
    state_[i] = (state_[i] ^ ((state_[i - 1] ^ (state_[i - 1] >> 30)) * 1566083941U)) - static_cast<uint32_t>(i);
    ++i;
    if (i >= kStateSize) {
      state_[0] = state_[kStateSize - 1];
      i = 1;
    }
  }
  state_[0] = 0x80000000U;  // non-zero initial state
}

void PythonRandom::seed_with(uint64_t seed) {
  std::vector<uint32_t> key{static_cast<uint32_t>(seed)};
  if (seed >> 32) key.push_back(static_cast<uint32_t>(seed >> 32));
  init_by_array(key);
}

void PythonRandom::regenerate() {
  auto twist = [this](int i, int next, int far) {
    const uint32_t y = (state_[i] & kUpperMask) | (state_[next] & kLowerMask);
    state_[i] = state_[far] ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
  };
  int i = 0;
  for (; i < kStateSize - kShift; ++i) twist(i, i + 1, i + kShift);
  for (; i < kStateSize - 1; ++i) twist(i, i + 1, i + kShift - kStateSize);
  twist(kStateSize - 1, 0, kShift - 1);
  index_ = 0;
}

uint32_t PythonRandom::genrand_uint32() {
  if (index_ >= kStateSize) regenerate();
  uint32_t y = state_[index_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

double PythonRandom::random() {
  const uint32_t a = genrand_uint32() >> 5, b = genrand_uint32() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

uint64_t PythonRandom::getrandbits(int k) {
  if (k < 0 || k > 64) fail("getrandbits({}): only 0 to 64 bits are supported", k);
  if (k == 0) return 0;
  if (k <= 32) return genrand_uint32() >> (32 - k);
  // CPython fills 32-bit words from the least significant one; the last word keeps its top bits.
  const uint64_t low = genrand_uint32();
  const uint64_t high = genrand_uint32() >> (64 - k);
  return low | (high << 32);
}

uint64_t PythonRandom::randbelow(uint64_t n) {
  if (n == 0) fail("randbelow(0): the range is empty");
  const int k = bit_length(n);
  uint64_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

std::vector<uint64_t> PythonRandom::sample(uint64_t population_size, uint64_t k) {
  if (k > population_size)
    fail("cannot sample {} items from a population of {} (Python: Sample larger than population)", k, population_size);
  std::vector<uint64_t> result(k);
  if (use_pool_method(population_size, k)) {
    std::vector<uint64_t> pool(population_size);
    for (uint64_t i = 0; i < population_size; ++i) pool[i] = i;
    for (uint64_t i = 0; i < k; ++i) {
      const uint64_t j = randbelow(population_size - i);
      result[i] = pool[j];
      pool[j] = pool[population_size - i - 1];  // move the unselected tail item into the vacancy
    }
  } else {
    std::unordered_set<uint64_t> selected;
    for (uint64_t i = 0; i < k; ++i) {
      uint64_t j = randbelow(population_size);
      while (selected.count(j)) j = randbelow(population_size);
      selected.insert(j);
      result[i] = j;
    }
  }
  return result;
}

std::vector<uint64_t> PythonRandom::choices(uint64_t population_size, uint64_t k) {
  if (population_size == 0 && k > 0) fail("cannot choose from an empty population");
  const double n = static_cast<double>(population_size);
  std::vector<uint64_t> result(k);
  for (auto& index : result) index = static_cast<uint64_t>(std::floor(random() * n));
  return result;
}

}  // namespace gemma
