#!/usr/bin/env bash
# All the tests, as the README's second command and CI (.ci/run) run them:
#   1. scripts/setup.sh: packages + the Release build in build/; scripts/format.sh --check: the style;
#   2. ctest in build/ (unit_tests, model_tests);
#   3. scripts/sanitize.sh: unit_tests and the model-level tests under ASan + UBSan (build-asan/);
#   4. scripts/fuzz.sh: every libFuzzer target replays tests/fuzz_regressions/, then fuzzes for FUZZ_SECONDS.
# Any failure stops with a non-zero exit. SKIP_SANITIZE=1 / SKIP_FUZZ=1 leave a step out (local use).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# A compiler cache, where one is installed, makes builds in other clones cheap (CMake reads this
# variable for every build tree it configures); it is not required.
if [[ -z ${CMAKE_CXX_COMPILER_LAUNCHER:-} ]] && command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
step() { echo; echo "=== test.sh: $* ($(date +%T))"; }

step "set-up and build"
bash scripts/setup.sh
step "source style (.clang-format, 120 columns)"
bash scripts/format.sh --check
step "test suite"
ctest --test-dir build --output-on-failure -j"$(nproc)"
if [[ ${SKIP_SANITIZE:-0} != 1 ]]; then
  step "test suite under ASan + UBSan"
  bash scripts/sanitize.sh
fi
if [[ ${SKIP_FUZZ:-0} != 1 ]]; then
  step "fuzz targets (${FUZZ_SECONDS} s each)"
  bash scripts/fuzz.sh
fi
step "all passed"
