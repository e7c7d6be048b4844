#!/usr/bin/env bash
# gemma-eval bench and the PyTorch eager baseline (bench/pytorch_eager_gemma3.py) on the same random
# Gemma 3 shapes, one dtype after the other, in one run; prints one Markdown table (docs/performance.md).
# The eager script takes its bounds from gemma-eval's JSON of the same dtype, so both share one bound.
#
#   scripts/bench_side_by_side.sh                       # 1B shape, float32 and bfloat16, 2 threads
#   DTYPES=float32 scripts/bench_side_by_side.sh -n 16 --batch 1,4
#   BENCH_LOCK=/tmp/gemma-build.lock scripts/bench_side_by_side.sh   # each measurement under flock
#
# Flags after the script name go to both programs (--preset, -p, -n, --batch, --repetitions, --threads).
# Needs the built gemma-eval (build/ or $GEMMA_EVAL) and PyTorch for Python (apt-get install python3-torch).
# Writes the JSON of every run and side_by_side.md to $OUT (default /tmp/gemma-bench-side-by-side).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${GEMMA_EVAL:-build/gemma-eval}
# The first python3 that has torch: a virtualenv's or pyenv's python3 may lack Debian's python3-torch.
python=${PYTHON:-python3}
if [[ -z ${PYTHON:-} ]] && ! python3 -c 'import torch' 2>/dev/null; then python=/usr/bin/python3; fi
out=${OUT:-/tmp/gemma-bench-side-by-side}
dtypes=${DTYPES:-float32 bfloat16}
dtypes=${dtypes//,/ }
mkdir -p "$out"
[[ -x $bin ]] || { echo "bench_side_by_side.sh: $bin not found: build it first (cmake --build build --target gemma-eval)" >&2; exit 1; }
"$python" -c 'import torch' 2>/dev/null || { echo "bench_side_by_side.sh: $python cannot import torch: apt-get install python3-torch (or set PYTHON)" >&2; exit 1; }

args=("$@")
has_threads=0
for a in "${args[@]}"; do [[ $a == --threads ]] && has_threads=1; done
# Both at the machine's core count unless told: LibTorch's default may be one thread per physical core.
(( has_threads )) || args+=(--threads "$(nproc)")

measure() {  # under the lock when one is named, so a build elsewhere does not share the cores
  if [[ -n ${BENCH_LOCK:-} ]]; then flock "$BENCH_LOCK" "$@"; else "$@"; fi
}

for dtype in $dtypes; do
  echo "== gemma-eval bench --dtype $dtype ${args[*]}" >&2
  measure "$bin" bench --dtype "$dtype" --format json "${args[@]}" >"$out/gemma-eval_$dtype.json"
  echo "== PyTorch eager --dtype $dtype" >&2
  measure "$python" bench/pytorch_eager_gemma3.py --dtype "$dtype" --format json \
    --bounds-from "$out/gemma-eval_$dtype.json" "${args[@]}" >"$out/pytorch-eager_$dtype.json"
done

# shellcheck disable=SC2086  # $dtypes is a list of words
"$python" - "$out" $dtypes <<'PY' | tee "$out/side_by_side.md"
import json, sys
out, dtypes = sys.argv[1], sys.argv[2:]
def number(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"
first = json.load(open(f"{out}/gemma-eval_{dtypes[0]}.json"))
k, m = first["kernel_path"], first["machine"]
env = k["aten_cpu_capability_env"]
print(f"Model: {first['model']['source']}; {k['threads']} threads; CPU {m['model']} (flags: {' '.join(m['flags'])}); "
      f"ATen CPU capability {k['aten_cpu_capability']} (ATEN_CPU_CAPABILITY {'=' + env if env else 'unset'}); "
      f"BLAS {', '.join(k['blas_libraries']) or k['blas_info']}; oneDNN {k['onednn']}; LibTorch {k['torch_version']}; "
      f"medians of {first['settings']['repetitions']} repetitions.\n")
print("| dtype | test | gemma-eval tok/s (% of bound) | PyTorch eager tok/s (% of bound) | gemma-eval / eager | bound tok/s |")
print("|---|---|---|---|---|---|")
for dtype in dtypes:
    ours = json.load(open(f"{out}/gemma-eval_{dtype}.json"))
    eager = json.load(open(f"{out}/pytorch-eager_{dtype}.json"))
    gemm = ", ".join(f"{g['dtype']} {number(g['gflop_s'])} GFLOP/s" for g in ours["peaks"]["gemm"])
    print(f"| {dtype} | GEMM peak (torch::linear {ours['peaks']['gemm'][0]['shape']}); memory read | {gemm}; "
          f"{number(ours['peaks']['read_bandwidth']['gb_s'])} GB/s | | | |")
    for a, b in zip(ours["rows"], eager["rows"]):
        assert (a["test"], a["batch"], a["tokens"]) == (b["test"], b["batch"], b["tokens"]), (a, b)
        print(f"| {dtype} | {a['label']} | {number(a['tok_s'])} ({a['percent_of_bound']:.0f}%) | "
              f"{number(b['tok_s'])} ({b['percent_of_bound']:.0f}%) | {a['tok_s'] / b['tok_s']:.2f}x | "
              f"{number(a['bound_tok_s'])} |")
PY
