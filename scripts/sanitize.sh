#!/usr/bin/env bash
# The whole test suite (ctest: unit_tests and model_tests) under AddressSanitizer +
# UndefinedBehaviorSanitizer, in its own build folder build-asan/ (configured with
# -DGEMMA_EVAL_SANITIZE=ON, benchmarks off). Exits non-zero on any build failure, test failure or
# sanitizer report. Needs what scripts/setup.sh installs (libasan/libubsan come with g++).
#
#   bash scripts/sanitize.sh            # configure (first time), build, run every test
#   JOBS=4 bash scripts/sanitize.sh     # parallelism for the build and ctest (default: nproc)
#
# Our code is built -O1 with line tables (-g1): fast to compile, still file:line in every report.
# LibTorch, sentencepiece and the other Debian libraries are not instrumented; libgemma_spm.so stays
# uninstrumented too (it lives in a dlmopen namespace of its own, see model/sentencepiece_tokenizer.cpp).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
build=build-asan
jobs=${JOBS:-$(nproc)}

# Exported before the build too: make-tiny-model, which the build runs, is instrumented as well.
# detect_leaks stays on; scripts/lsan.supp names the few libraries whose one-time allocations leak on
# purpose. UBSan stops at the first report (also -fno-sanitize-recover=undefined at compile time).
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=0:print_summary=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$root/scripts/ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

stamp() { date +%s; }
t0=$(stamp)
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -DGEMMA_EVAL_SANITIZE=ON -DGEMMA_EVAL_BUILD_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1"
fi
t1=$(stamp)
cmake --build "$build" -j"$jobs"
t2=$(stamp)
status=0
ctest --test-dir "$build" --output-on-failure -j"$jobs" || status=$?
t3=$(stamp)
echo "sanitize: configure $((t1 - t0)) s, build $((t2 - t1)) s, tests $((t3 - t2)) s"
exit "$status"
