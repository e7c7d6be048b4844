#pragma once
// Work split over LibTorch's intra-op threads, for the hand-written kernels (bf16_matvec,
// small_batch_linear) and the bandwidth measurements.
//
// Why not at::parallel_for at the call site: Debian's LibTorch uses its OpenMP backend, which is a
// header (ATen/ParallelOpenMP.h): the loop is split over threads only in a file compiled with -fopenmp.
// Elsewhere the whole range runs on the calling thread, silently (bf16_matvec streamed 12 GB/s on one
// thread where two stream 24). parallel_rows.cpp is the one file compiled with -fopenmp
// (model/CMakeLists.txt), and a test checks that it does use the threads.
#include <cstdint>
#include <functional>

namespace gemma {

// body(begin, end) over chunks covering [0, n), each of at least `grain` (LibTorch's rule), one per
// intra-op thread; on the calling thread alone when n < grain or inside another parallel region.
void parallel_rows(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& body);

// How many threads parallel_rows ran a range of n on (tests).
int parallel_rows_threads_used(int64_t n, int64_t grain);

}  // namespace gemma
