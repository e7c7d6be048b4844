#!/usr/bin/env bash
# Builds the libFuzzer targets of the input parsers (fuzz/) in build-fuzz/ with clang, replays every
# saved regression input (tests/fuzz_regressions/<target>/) through its target, then fuzzes each
# target for a bounded time. Exits non-zero on any crash, sanitizer report, leak, timeout or
# out-of-memory, printing where the offending input was saved.
#
# Needs the Debian packages `clang` and `libclang-rt-14-dev` (libFuzzer and the sanitizer runtimes);
# this script installs nothing: scripts/setup.sh (or the CI image) must provide them.
#
# Usage: scripts/fuzz.sh [target...]      (default: all; targets: safetensors config tokenizer jsonl csv jinja
#                                          task_file)
# Environment:
#   FUZZ_SECONDS  fuzzing time per target (default 60)
#   FUZZ_JOBS     targets fuzzed at the same time (default 2)
#   BUILD_DIR     the build folder (default build-fuzz)
# A crashing input lands in BUILD_DIR/fuzz-artifacts/<target>/; reproduce it with
#   BUILD_DIR/fuzz/fuzz_<target> <file>
# then fix the parser and keep the file in tests/fuzz_regressions/<target>/ (tests/unit/test_fuzz_regressions.cpp
# replays that folder in the normal build).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-2}
BUILD_DIR=${BUILD_DIR:-build-fuzz}
ALL_TARGETS=(safetensors config tokenizer jsonl csv jinja task_file)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL_TARGETS[@]}")
for target in "${TARGETS[@]}"; do
  [ -f "fuzz/fuzz_${target}.cpp" ] || { echo "fuzz.sh: unknown target '$target' (known: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

CXX_CLANG=${CXX_CLANG:-$(command -v clang++ || command -v clang++-14 || true)}
if [ -z "$CXX_CLANG" ]; then
  echo "fuzz.sh: clang++ not found; install the Debian packages clang and libclang-rt-14-dev" >&2
  exit 2
fi

start=$SECONDS
echo "== configure and build $BUILD_DIR (clang: $CXX_CLANG)"
mkdir -p "$BUILD_DIR"
# Configuring finds every dependency of the whole project (LibTorch included); only fuzz_all is built.
nice cmake -S . -B "$BUILD_DIR" -DCMAKE_CXX_COMPILER="$CXX_CLANG" -DGEMMA_EVAL_FUZZ=ON \
  -DGEMMA_EVAL_BUILD_TESTS=OFF -DGEMMA_EVAL_BUILD_BENCH=OFF >"$BUILD_DIR/configure.log" 2>&1 \
  || { cat "$BUILD_DIR/configure.log" >&2; exit 1; }
nice cmake --build "$BUILD_DIR" --target fuzz_all -j2
echo "   built in $((SECONDS - start)) s"

case "$BUILD_DIR" in /*) ARTIFACTS="$BUILD_DIR/fuzz-artifacts" ;; *) ARTIFACTS="$ROOT/$BUILD_DIR/fuzz-artifacts" ;; esac
rm -rf "$ARTIFACTS"  # only this run's findings are left there
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/gemma-fuzz.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
COMMON_FLAGS=(-timeout=10 -rss_limit_mb=2048)
failed=()

# Prints where libFuzzer saved the input, and the report, from a target's log.
report_failure() {
  local target=$1 log=$2
  echo "!! fuzz_$target FAILED; the end of its report:" >&2
  grep -v -E '^#[0-9]+ ' "$log" | tail -n 60 >&2
  local saved
  saved=$(grep -oE 'Test unit written to .*' "$log" | sed 's/Test unit written to //' || true)
  if [ -n "$saved" ]; then
    echo "!! crashing input saved as: $saved" >&2
    echo "!! reproduce: $BUILD_DIR/fuzz/fuzz_$target $saved" >&2
  fi
  echo "!! full log: $log" >&2
}

echo "== replay tests/fuzz_regressions"
for target in "${TARGETS[@]}"; do
  dir="tests/fuzz_regressions/$target"
  mapfile -t files < <(find "$dir" -maxdepth 1 -type f 2>/dev/null | sort)
  [ ${#files[@]} -eq 0 ] && { echo "   $target: no saved inputs"; continue; }
  mkdir -p "$ARTIFACTS/$target"
  log="$ARTIFACTS/$target/replay.log"
  # Given files, libFuzzer runs each once and stops at the first failure.
  if "$BUILD_DIR/fuzz/fuzz_$target" "${COMMON_FLAGS[@]}" -artifact_prefix="$ARTIFACTS/$target/replay-" \
       "${files[@]}" >"$log" 2>&1; then
    echo "   $target: ${#files[@]} inputs ok"
  else
    report_failure "$target" "$log"
    echo "!! a saved regression input fails again; the last one started was:" >&2
    grep -oE 'Running: .*' "$log" | tail -n 1 | sed 's/^Running: /!!   /' >&2 || true
    failed+=("$target (regression replay)")
  fi
done

echo "== fuzz each target for ${FUZZ_SECONDS} s (${FUZZ_JOBS} at a time)"
fuzz_one() {
  local target=$1
  local corpus="$SCRATCH/corpus-$target" log="$SCRATCH/fuzz-$target.log"
  mkdir -p "$corpus" "$ARTIFACTS/$target"
  cp -r "fuzz/corpus/$target/." "$corpus/"  # a scratch copy: new units never land in the repository
  local dict=()
  [ -f "fuzz/dict/$target.dict" ] && dict=(-dict="fuzz/dict/$target.dict")
  local seeds=()
  [ -d "tests/fuzz_regressions/$target" ] && seeds=("tests/fuzz_regressions/$target")  # read, never written
  nice "$BUILD_DIR/fuzz/fuzz_$target" "${COMMON_FLAGS[@]}" "${dict[@]}" -max_total_time="$FUZZ_SECONDS" \
    -artifact_prefix="$ARTIFACTS/$target/" -print_final_stats=1 "$corpus" "${seeds[@]}" >"$log" 2>&1
}

declare -A pids=()
for target in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n || true; done
  fuzz_one "$target" &
  pids[$target]=$!
done
for target in "${TARGETS[@]}"; do
  log="$SCRATCH/fuzz-$target.log"
  if wait "${pids[$target]}"; then
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 || true)
    echo "   $target: ok, $runs runs, $cov"
  else
    # Keep the log beside the artifact: the scratch folder is removed on exit.
    cp "$log" "$ARTIFACTS/$target/fuzz.log"
    report_failure "$target" "$ARTIFACTS/$target/fuzz.log"
    failed+=("$target")
  fi
done

echo "== done in $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
