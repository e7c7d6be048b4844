#!/usr/bin/env bash
# One idempotent set-up step for both README commands: installs every Debian package the build,
# tests and benchmarks need (only those missing, so a second run skips apt entirely), then
# configures and builds gemma-eval in ./build (incremental on a second run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  cmake g++ make pkg-config git
  libtorch-dev            # LibTorch 1.13 (CPU)
  libopenblas0-pthread    # without it Debian's LibTorch falls back to the reference BLAS (~2 GFLOP/s)
  libsentencepiece-dev sentencepiece   # tokenizer.model support and spm_train for the tiny model
  nlohmann-json3-dev libfmt-dev libcli11-dev libre2-dev
  libsqlite3-dev          # the result cache (--cache)
  libyaml-cpp-dev         # lm-eval task files (--include-path, gemma-eval validate)
  zlib1g-dev              # gzip data files (HumanEval.jsonl.gz)
  libxxhash-dev           # XXH3-128 over every byte of the weights (the weights fingerprint)
  libginac-dev            # computer algebra (GiNaC + CLN) for Minerva MATH exact_match, as lm-eval's sympy is_equiv
  python3                 # runs HumanEval/MBPP programs in the sandbox (--allow-code-execution)
  libseccomp-dev          # the sandbox's syscall filter (sandbox/sandbox.cpp)
  libopencv-core-dev libopencv-imgcodecs-dev   # image decoding (PNG, JPEG, WebP, BMP) for the multimodal models
  clang libclang-rt-14-dev                      # libFuzzer targets (scripts/fuzz.sh)
  clang-format-14                               # the source style (.clang-format, scripts/format.sh)
  catch2 libbenchmark-dev
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# A compiler cache, where one is installed, makes builds in other clones cheap (CMake reads this
# variable for every build tree it configures); it is not required.
if [[ -z ${CMAKE_CXX_COMPILER_LAUNCHER:-} ]] && command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
jobs=$(nproc)
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j"$jobs"
