#include "model/kernels/parallel_rows.h"

#include <mutex>
#include <set>
#include <thread>

#include <ATen/Parallel.h>

#ifndef _OPENMP
#error "parallel_rows.cpp needs -fopenmp (model/CMakeLists.txt): at::parallel_for splits nothing without it"
#endif

namespace gemma {

void parallel_rows(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& body) {
  at::parallel_for(0, n, grain, body);
}

int parallel_rows_threads_used(int64_t n, int64_t grain) {
  std::mutex mutex;
  std::set<std::thread::id> threads;
  parallel_rows(n, grain, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  return static_cast<int>(threads.size());
}

}  // namespace gemma
