#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer), in its own build
# folder build-asan/ (-DGEMMA_EVAL_SANITIZE=ON, benchmarks off): all of unit_tests (every torch-free
# library) and model_tests as the model-level smoke -- the model, kernels, caches and engine in process,
# gemma-eval's logits/tokenize/generate and loading errors. The end-to-end gemma-eval runs are left out
# here (tests/CMakeLists.txt lists them and says why); the normal build runs them. Exits non-zero on a
# build failure, a failed test or any sanitizer report. Needs only what scripts/setup.sh installs
# (libasan and libubsan come with g++).
#
#   bash scripts/sanitize.sh            # configure, build (incremental on a second run), run every test
#   JOBS=4 bash scripts/sanitize.sh     # parallelism of the build and of ctest (default: nproc)
#
# Our code is built -O1 with line tables only (-g1): as fast to compile as the Release build, with
# file:line in every report. LibTorch and the other Debian libraries are not instrumented, and neither
# is libgemma_spm.so (dlmopen'd into a namespace of its own, see model/sentencepiece_tokenizer.cpp).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
build=build-asan
jobs=${JOBS:-$(nproc)}

# Exported before the build: make-tiny-model (run by the build) and the test discovery run
# instrumented binaries too. Leak detection is on; scripts/lsan.supp and scripts/ubsan.supp are where
# a narrowly named, explained suppression would go (none is needed today).
# allocator_may_return_null=1: an allocation too large to make returns null as glibc's malloc does, so
# LibTorch raises its out-of-memory error and gemma-eval reports it (tested), instead of ASan aborting.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:check_initialization_order=1:strict_init_order=1:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$root/scripts/ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# One LibTorch thread per test: ctest -j already fills the cores, and OpenMP threads spinning against
# each other only slow the run down (our own code starts no threads; LibTorch is not instrumented).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

t0=$SECONDS
cmake -S . -B "$build" -DGEMMA_EVAL_SANITIZE=ON -DGEMMA_EVAL_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1"
t1=$SECONDS
cmake --build "$build" -j"$jobs"
t2=$SECONDS
status=0
ctest --test-dir "$build" --output-on-failure -j"$jobs" || status=$?
t3=$SECONDS
echo "sanitize: configure $((t1 - t0)) s, build $((t2 - t1)) s, tests $((t3 - t2)) s"
exit "$status"
