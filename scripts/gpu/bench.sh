#!/usr/bin/env bash
# The GPU benchmark (docs/performance.md, "GPU"), on a machine with PyTorch's CUDA wheel and Hugging Face
# transformers but no network, after scripts/gpu/pack_deps.sh packed .devsys/ and .devref/ here:
#   1. builds gemma-eval against the wheel's CUDA LibTorch (as scripts/gpu/check.sh does), while
#   2. random Gemma 3 checkpoints shaped as 4B and 12B (text decoder: Gemma3ForCausalLM with the released
#      sizes' text_config) are made on the GPU and saved in bfloat16 with the real tokenizer;
#   3. `gemma-eval bench --device cuda:0 --dtype bfloat16` on each: GEMM rate, bandwidth, prefill
#      (1 x P tokens, all logits / last logit) and decode tok/s (1 and more sequences);
#   4. transformers on the same checkpoint and card, eager and sdpa attention: prefill tok/s (and MFU
#      against the H100's dense bf16 peak, 989 TFLOP/s) and decode tok/s through its KV cache;
#   5. MMLU 5-shot on the bundled samples (2 docs per subject, 57 subjects): gemma-eval run vs a
#      transformers log-likelihood loop over the same requests (lm-eval's hf scheme: one forward per
#      request, the doc's four requests in one padded batch), docs/s and agreement of the choices.
# Everything lands in $OUT (default /tmp/gemma-gpu-bench): logs, JSON, summary.md. Time-boxed: each
# step has a timeout and the 12B shape is skipped when the budget ($BUDGET_S, default 540 s) is short.
#   bash scripts/gpu/pack_deps.sh            # here, once (CPU machine)
#   bash scripts/gpu/bench.sh                # on the GPU machine (carry .devsys and .devref)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
root=$PWD
out=${OUT:-/tmp/gemma-gpu-bench}
budget=${BUDGET_S:-540}
sizes=${SIZES:-4b 12b}
prompt_tokens=${PROMPT_TOKENS:-2048}
mkdir -p "$out"
exec > >(tee "$out/bench.log") 2>&1
status=0
step() { echo; echo "=== $* (${SECONDS}s, $(date +%T))"; }
left() { echo $((budget - SECONDS)); }
work=${WORK:-/tmp/gemma-gpu-bench-work}
mkdir -p "$work"

step "environment"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"
python3 -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)' \
  | tee "$out/versions.txt"
[[ -f .devref/tokenizer.json.xz ]] || { echo "no .devref/: run scripts/gpu/pack_deps.sh on the CPU machine and carry .devsys and .devref"; exit 1; }
python3 -c 'import lzma, shutil; shutil.copyfileobj(lzma.open(".devref/tokenizer.json.xz"), open("'"$work"'/tokenizer.json", "wb"))'
cp .devref/tiny-vision/tokenizer_config.json "$work/tokenizer_config.json"

step "make random checkpoints ($sizes) on the GPU, in the background"
# transformers' own random init (normal, std initializer_range) on the GPU, saved with save_pretrained
# in bfloat16: the files a Hub checkpoint would have, with the released sizes' text shapes.
cat >"$work/make_checkpoints.py" <<'PY'
import os, shutil, sys, time
import torch, transformers
work, sizes = sys.argv[1], sys.argv[2:]
shapes = {  # Gemma 3 4B / 12B text_config (transformers Gemma3TextConfig defaults fill the rest)
    "4b": dict(hidden_size=2560, intermediate_size=10240, num_hidden_layers=34, num_attention_heads=8, num_key_value_heads=4),
    "12b": dict(hidden_size=3840, intermediate_size=15360, num_hidden_layers=48, num_attention_heads=16, num_key_value_heads=8),
}
for size in sizes:
    start = time.time()
    folder = os.path.join(work, f"gemma3-{size}-random")
    config = transformers.Gemma3TextConfig(
        vocab_size=262208, head_dim=256, query_pre_attn_scalar=256, sliding_window=1024, rope_theta=1e6,
        rope_local_base_freq=1e4, rope_scaling={"rope_type": "linear", "factor": 8.0}, max_position_embeddings=131072,
        rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh", bos_token_id=2, eos_token_id=[1, 106], pad_token_id=0,
        tie_word_embeddings=True, **shapes[size])
    config.architectures = ["Gemma3ForCausalLM"]
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = transformers.Gemma3ForCausalLM(config)
    torch.set_default_dtype(torch.float32)
    model.save_pretrained(folder, safe_serialization=True, max_shard_size="5GB")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(work, name), folder)
    params = sum(p.numel() for p in model.parameters())
    print(f"{size}: {params / 1e9:.2f} B parameters, saved to {folder} in {time.time() - start:.0f} s", flush=True)
    del model
    torch.cuda.empty_cache()
PY
# shellcheck disable=SC2086  # $sizes is a list of words
timeout 300 python3 "$work/make_checkpoints.py" "$work" $sizes >"$out/make_checkpoints.log" 2>&1 &
maker=$!

step "configure + build gemma-eval against PyTorch's CUDA LibTorch"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build-cuda "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$root/.devsys/usr" -DGEMMA_EVAL_SENTENCEPIECE=OFF \
  -DGEMMA_EVAL_BUILD_TESTS=OFF -DGEMMA_EVAL_BUILD_BENCH=OFF -DGEMMA_EVAL_SHARED_DIR="$root/.devref" >"$out/configure.log" 2>&1 \
  || { tail -40 "$out/configure.log"; exit 1; }
timeout 360 cmake --build build-cuda -j"$(nproc)" --target gemma-eval >"$out/build.log" 2>&1 \
  || { grep -B2 -A8 "error" "$out/build.log" | head -80; exit 1; }
export LD_LIBRARY_PATH="$root/.devsys/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bin=$root/build-cuda/gemma-eval
$bin --version

step "waiting for the checkpoints"
wait $maker || { echo "FAILED: making the checkpoints"; cat "$out/make_checkpoints.log"; exit 1; }
cat "$out/make_checkpoints.log"

# transformers on one checkpoint: prefill (all logits, last logit) and decode, eager and sdpa.
cat >"$work/hf_bench.py" <<'PY'
import json, statistics, sys, time
import torch, transformers
folder, out_path, prompt_tokens, decode_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
widths = [int(b) for b in sys.argv[5].split(",")]
H100_BF16_DENSE = 989e12
torch.backends.cuda.matmul.allow_tf32 = False
try:
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16, attn_implementation="eager")
except TypeError:
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.bfloat16, attn_implementation="eager")
model = model.cuda().eval()
c = model.config
matrices = sum(p.numel() for n, p in model.named_parameters() if p.dim() == 2 and "embed_tokens" not in n)
vocab_flops = 2.0 * c.vocab_size * c.hidden_size
def attention_flops(T):
    keys = 0
    for layer in range(c.num_hidden_layers):
        sliding = (layer + 1) % 6 != 0
        keys += sum(min(t + 1, c.sliding_window) if sliding else t + 1 for t in range(T))
    return 4.0 * c.num_attention_heads * c.head_dim * keys
def timed(work, reps=3):
    work(); torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        torch.cuda.synchronize(); start = time.perf_counter(); work(); torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
def set_attention(name):
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(name)
    else:
        model.config._attn_implementation = name
results = {"model": folder, "transformers": transformers.__version__, "torch": torch.__version__, "rows": []}
ids = torch.randint(3, c.vocab_size, (1, prompt_tokens), device="cuda", generator=torch.Generator("cuda").manual_seed(7))
with torch.inference_mode():
    for attention in ("eager", "sdpa"):
        try:
            set_attention(attention)
        except Exception as e:
            results["rows"].append({"attention": attention, "error": str(e)}); continue
        for all_logits in (True, False):
            kwargs = {} if all_logits else {"logits_to_keep": 1}
            def prefill():
                try:
                    model(input_ids=ids, use_cache=False, **kwargs)
                except TypeError:  # transformers before logits_to_keep
                    model(input_ids=ids, use_cache=False, num_logits_to_keep=1)
            seconds = timed(prefill)
            flops = prompt_tokens * matrices * 2.0 + attention_flops(prompt_tokens) + (prompt_tokens if all_logits else 1) * vocab_flops
            results["rows"].append({"attention": attention, "test": "prefill_all_logits" if all_logits else "prefill_last_logit",
                                    "tokens": prompt_tokens, "seconds": seconds, "tok_s": prompt_tokens / seconds,
                                    "mfu_percent": 100 * flops / seconds / H100_BF16_DENSE})
        for B in widths:
            def decode():
                start = torch.full((B, 1), 2, device="cuda")
                output = model(input_ids=start, use_cache=True)
                cache, nxt = output.past_key_values, output.logits[:, -1].argmax(-1, keepdim=True)
                for _ in range(decode_tokens):
                    output = model(input_ids=nxt, past_key_values=cache, use_cache=True)
                    cache, nxt = output.past_key_values, output.logits[:, -1].argmax(-1, keepdim=True)
            seconds = timed(decode)
            results["rows"].append({"attention": attention, "test": "decode", "batch": B, "tokens": B * decode_tokens,
                                    "seconds": seconds, "tok_s": B * decode_tokens / seconds})
        torch.cuda.empty_cache()
json.dump(results, open(out_path, "w"), indent=1)
for r in results["rows"]:
    print(r)
PY

# transformers log-likelihoods of gemma-eval's MMLU requests (from its samples), lm-eval's hf scheme.
cat >"$work/hf_mmlu.py" <<'PY'
import glob, json, sys, time
import torch, transformers
folder, run_dir, out_path = sys.argv[1:4]
tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
try:
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16, attn_implementation="sdpa")
except TypeError:
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.bfloat16, attn_implementation="sdpa")
model = model.cuda().eval()
docs = []
for path in sorted(glob.glob(f"{run_dir}/samples_*.jsonl")):
    docs += [json.loads(line) for line in open(path)]
def encode_pair(context, continuation):  # lm-eval's _encode_pair: whole string, then split
    spaces = len(context) - len(context.rstrip())
    if spaces:
        continuation, context = context[-spaces:] + continuation, context[:-spaces]
    whole = tokenizer(context + continuation).input_ids
    context_ids = tokenizer(context).input_ids
    return whole[:len(context_ids)], whole[len(context_ids):]
same_choice = 0
max_diff = 0.0
torch.cuda.synchronize()
start = time.perf_counter()
with torch.inference_mode():
    for doc in docs:
        pairs = [encode_pair(doc["prompt"], c) for c in doc["continuations"]]
        rows = [ctx + cont for ctx, cont in pairs]
        width = max(len(r) for r in rows) - 1
        inputs = torch.zeros(len(rows), width, dtype=torch.long)
        for i, r in enumerate(rows):
            inputs[i, :len(r) - 1] = torch.tensor(r[:-1])
        logprobs = torch.log_softmax(model(input_ids=inputs.cuda()).logits.float(), -1)
        ours = []
        for i, (ctx, cont) in enumerate(pairs):
            positions = torch.arange(len(ctx) - 1, len(ctx) - 1 + len(cont))
            ours.append(float(logprobs[i, positions, torch.tensor(cont)].sum()))
        same_choice += max(range(len(ours)), key=ours.__getitem__) == max(range(len(ours)), key=doc["loglikelihoods"].__getitem__)
        max_diff = max(max_diff, max(abs(a - b) for a, b in zip(ours, doc["loglikelihoods"])))
torch.cuda.synchronize()
seconds = time.perf_counter() - start
result = {"docs": len(docs), "requests": sum(len(d["continuations"]) for d in docs), "seconds": seconds,
          "docs_per_s": len(docs) / seconds, "same_choice_fraction": same_choice / max(len(docs), 1),
          "max_abs_loglikelihood_diff_bf16": max_diff}
json.dump(result, open(out_path, "w"), indent=1)
print(result)
PY

ran_sizes=()
for size in $sizes; do
  model=$work/gemma3-$size-random
  if (( $(left) < 150 )); then echo "skipping $size: $(left) s of the budget left"; continue; fi
  [[ -f $model/config.json ]] || { echo "FAILED: no checkpoint for $size"; status=1; continue; }
  ran_sizes+=("$size")

  step "$size: gemma-eval bench on cuda:0, bfloat16"
  timeout 150 "$bin" bench --model "$model" --device cuda:0 --dtype bfloat16 -p "$prompt_tokens" -n 64 --batch 1,8,32 \
    --repetitions 3 --format json >"$out/gemma-eval-bench_$size.json" 2>"$out/gemma-eval-bench_$size.log" \
    || { echo "FAILED: gemma-eval bench $size"; tail -20 "$out/gemma-eval-bench_$size.log"; status=1; }

  step "$size: transformers eager and sdpa"
  timeout 180 python3 "$work/hf_bench.py" "$model" "$out/transformers-bench_$size.json" "$prompt_tokens" 64 1,8,32 \
    >"$out/transformers-bench_$size.log" 2>&1 || { echo "FAILED: transformers bench $size"; tail -20 "$out/transformers-bench_$size.log"; status=1; }

  if [[ $size == "${sizes%% *}" ]]; then  # MMLU on the first size only: the time box
    step "$size: MMLU 5-shot, gemma-eval run vs a transformers loop over the same requests"
    run_dir=$out/mmlu_$size
    begin=$(date +%s.%N)
    timeout 150 "$bin" run --model "$model" --device cuda:0 --dtype bfloat16 --task mmlu --shots 5 --batch-size 16 \
      --no-cache --no-progress --log-samples --output "$run_dir" >"$out/mmlu_gemma-eval_$size.log" 2>&1 \
      || { echo "FAILED: gemma-eval run mmlu $size"; tail -20 "$out/mmlu_gemma-eval_$size.log"; status=1; }
    end=$(date +%s.%N)
    python3 -c "import sys; print(f'gemma-eval run wall (load included): {float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" "$begin" "$end" \
      | tee "$out/mmlu_gemma-eval_wall_$size.txt"
    timeout 150 python3 "$work/hf_mmlu.py" "$model" "$run_dir" "$out/mmlu_transformers_$size.json" \
      >"$out/mmlu_transformers_$size.log" 2>&1 || { echo "FAILED: transformers mmlu $size"; tail -20 "$out/mmlu_transformers_$size.log"; status=1; }
  fi
done

step "summary"
python3 - "$out" "${ran_sizes[@]}" <<'PY' | tee "$out/summary.md"
import json, os, sys
out, sizes = sys.argv[1], sys.argv[2:]
H100_BF16_DENSE = 989e12
def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None
print("| size | test | gemma-eval tok/s (% of bound, MFU) | transformers eager tok/s (MFU) | transformers sdpa tok/s (MFU) |")
print("|---|---|---|---|---|")
for size in sizes:
    ours, theirs = load(f"gemma-eval-bench_{size}.json"), load(f"transformers-bench_{size}.json")
    if ours:
        print(f"| {size} | peaks | " + ", ".join(f"GEMM {g['dtype']} {g['gflop_s'] / 1000:.0f} TFLOP/s" for g in ours["peaks"]["gemm"])
              + f", read {ours['peaks']['read_bandwidth']['gb_s']:.0f} GB/s | | |")
    peak = next((g["gflop_s"] * 1e9 for g in ours["peaks"]["gemm"] if g["dtype"] == "bfloat16"), None) if ours else None
    for row in (ours or {}).get("rows", []):
        cell = f"{row['tok_s']:.0f} ({row['percent_of_bound']:.0f}%"
        if row["test"].startswith("prefill") and peak:
            flops_per_token = peak / row["bound_tok_s"]
            cell += f", MFU {100 * row['tok_s'] * flops_per_token / H100_BF16_DENSE:.0f}%"
        cell += ")"
        other = []
        for attention in ("eager", "sdpa"):
            match = [r for r in (theirs or {}).get("rows", []) if r.get("attention") == attention and r.get("test") == row["test"]
                     and r.get("batch", 1) == row["batch"]]
            if match and "tok_s" in match[0]:
                m = match[0]
                other.append(f"{m['tok_s']:.0f}" + (f" (MFU {m['mfu_percent']:.0f}%)" if "mfu_percent" in m else ""))
            else:
                other.append("–")
        print(f"| {size} | {row['label']} | {cell} | {other[0]} | {other[1]} |")
for size in sizes:
    ours_results, theirs = load(f"mmlu_{size}/results.json"), load(f"mmlu_transformers_{size}.json")
    if ours_results and theirs:
        docs = sum(ours_results["n-samples"][t]["effective"] for t in ours_results["n-samples"])
        seconds = ours_results["total_evaluation_time_seconds"]
        seconds = float(seconds)
        print(f"\nMMLU 5-shot ({size}, bundled samples, {docs} docs): gemma-eval {docs / seconds:.1f} docs/s "
              f"(total_evaluation_time_seconds {seconds:.1f}; forward tokens {ours_results['config']['engine']['forward_tokens']}), "
              f"transformers sdpa loop {theirs['docs_per_s']:.1f} docs/s ({theirs['requests']} requests) → "
              f"{docs / seconds / theirs['docs_per_s']:.1f}x; same choice on {100 * theirs['same_choice_fraction']:.0f}% of docs, "
              f"max |Δ loglikelihood| {theirs['max_abs_loglikelihood_diff_bf16']:.3f} (bf16)")
PY
echo; echo "bench status: $status (${SECONDS}s)"
exit $status
