#!/usr/bin/env bash
# The GPU check, run on a machine with PyTorch's CUDA wheel (its LibTorch) and Hugging Face
# transformers, after scripts/gpu/pack_deps.sh packed .devsys/ and .devref/ here:
#   1. builds gemma-eval against the CUDA LibTorch (no sentencepiece, no OpenCV: images come as the
#      reference's preprocessed pixel values, .npy);
#   2. `gemma-eval logits` on tiny-vision (tiny-text's four token sequences plus the reference's image
#      prompt) for one device, pipeline stages on one GPU, CPU+GPU mixes, float32 and bfloat16;
#   3. compares every output with transformers' Gemma3ForConditionalGeneration on the GPU, and the image
#      prompt also with the gemma_pytorch reference outputs (scripts/gpu/hf_compare.py);
#   4. `gemma-eval run` on the bundled samples: one GPU, two stages, and the CPU must agree.
# Writes logs and a summary into $OUT (default /tmp/gemma-gpu-check).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
out=${OUT:-/tmp/gemma-gpu-check}
mkdir -p "$out"
exec > >(tee "$out/check.log") 2>&1
status=0
step() { echo; echo "=== $* ($(date +%T))"; }

step "environment"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
python3 -c 'import lzma, shutil; shutil.copyfileobj(lzma.open(".devref/tokenizer.json.xz"), open(".devref/tiny-vision/tokenizer.json", "wb"))'

step "configure + build against PyTorch's CUDA LibTorch"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build-cuda "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$root/.devsys/usr" -DGEMMA_EVAL_SENTENCEPIECE=OFF \
  -DGEMMA_EVAL_BUILD_TESTS=OFF -DGEMMA_EVAL_BUILD_BENCH=OFF -DGEMMA_EVAL_SHARED_DIR="$root/.devref" >"$out/configure.log" 2>&1 \
  || { tail -40 "$out/configure.log"; exit 1; }
cmake --build build-cuda -j"$(nproc)" --target gemma-eval >"$out/build.log" 2>&1 || { grep -B2 -A8 "error" "$out/build.log" | head -80; exit 1; }
export LD_LIBRARY_PATH="$root/.devsys/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bin=build-cuda/gemma-eval
$bin --version

step "logits on every placement"
model=.devref/tiny-vision
python3 - <<'PY'
import json
text = json.load(open(".devref/tiny-text-manifest.json"))["sequences"]
image = json.load(open(".devref/tiny-vision/expected/manifest.json"))["sequences"][0]
sequences = [s["ids"] for s in text] + [{"ids": image["ids"], "images": ["../.devref/tiny-vision/expected/pixel_values.npy"]}]
json.dump({"sequences": sequences}, open("build-cuda/sequences.json", "w"))
PY
placements=("cpu float32" "cuda:0 float32" "cuda:0,cuda:0 float32" "cuda:0,cuda:0,cuda:0,cuda:0 float32"
            "cpu,cuda:0 float32" "cuda:0,cpu float32" "cuda:0 bfloat16" "cuda:0,cuda:0 bfloat16")
for p in "${placements[@]}"; do
  read -r device dtype <<<"$p"
  name="logits_${device//[:,]/_}_$dtype"
  $bin logits --model $model --input build-cuda/sequences.json --device "$device" --dtype "$dtype" --output "/tmp/$name" \
    >"/tmp/$name.log" 2>&1 || { echo "FAILED: logits --device $device --dtype $dtype"; cat "/tmp/$name.log"; status=1; }
done

step "compare with transformers on the GPU"
python3 scripts/gpu/hf_compare.py $model build-cuda/sequences.json /tmp "$out/compare.json" || status=1

step "gemma-eval run: one GPU, two stages on it, CPU"
args="--model $model --task mmlu,arc_challenge,gsm8k --limit 8 --shots 2 --no-cache --no-progress --log-samples --dtype float32"
TIMEFORMAT="%R s wall"
for device in cpu cuda:0 cuda:0,cuda:0; do
  echo "--device $device"
  time $bin run $args --device $device --output "/tmp/run_${device//[:,]/_}" \
    >"/tmp/run_${device//[:,]/_}.log" 2>&1 || { echo "FAILED run --device $device"; tail -20 "/tmp/run_${device//[:,]/_}.log"; status=1; }
  tail -1 "/tmp/run_${device//[:,]/_}.log"
done
python3 - "$out/runs.json" <<'PY' || status=1
import json, sys
runs = {d: json.load(open(f"/tmp/run_{d}/results.json")) for d in ["cpu", "cuda_0", "cuda_0_cuda_0"]}
metrics = {d: r["results"] for d, r in runs.items()}
print(json.dumps(metrics, indent=1)[:3000])
same_gpu = metrics["cuda_0"] == metrics["cuda_0_cuda_0"]
def close(a, b):
    if isinstance(a, dict): return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)): return abs(a - b) < 1e-9
    return a == b
cpu_gpu = close(metrics["cpu"], metrics["cuda_0"])
print("one GPU == two stages on it:", same_gpu, "| CPU == GPU:", cpu_gpu)
json.dump({"one_gpu_equals_two_stages": same_gpu, "cpu_equals_gpu": cpu_gpu, "metrics": metrics}, open(sys.argv[1], "w"), indent=1)
sys.exit(0 if same_gpu and cpu_gpu else 1)
PY
echo; echo "check status: $status"
exit $status
