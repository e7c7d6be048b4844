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
  zlib1g-dev              # gzip data files (HumanEval.jsonl.gz)
  python3                 # runs HumanEval/MBPP programs in the sandbox (--allow-code-execution)
  libseccomp-dev          # the sandbox's syscall filter (evals/sandbox.cpp)
  libopencv-core-dev libopencv-imgcodecs-dev   # image decoding (PNG, JPEG, WebP, BMP) for the multimodal models
  clang libclang-rt-14-dev                      # libFuzzer targets (scripts/fuzz.sh)
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

jobs=$(nproc)
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j"$jobs"
