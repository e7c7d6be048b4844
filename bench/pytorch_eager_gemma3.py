#!/usr/bin/env python3
"""A minimal PyTorch eager Gemma 3 text decoder: the side-by-side baseline of `gemma-eval bench`.

Same math as model/gemma3.cpp and transformers' modeling_gemma3.py in eager mode (what lm-eval's
`hf` model runs): Gemma RMSNorm x * rsqrt(mean(x^2) + eps) * (1 + w) in float32, q/k norms before
RoPE, split-half RoPE (sliding layers base 10k, global layers base 1M with linear scaling where the
config has it), GQA, attention scale query_pre_attn_scalar^-0.5 with the softmax in float32,
sliding-window masks, GeGLU with tanh-approximated GELU, embeddings scaled by sqrt(H) rounded to the
compute dtype, tied LM head. The KV cache grows by concatenation as transformers' DynamicCache does.

It measures what `gemma-eval bench` measures on random weights of a preset's shapes (or a checkpoint
folder): prefill of -p tokens with logits at every position, prefill with the last logit only, and
decode of -n tokens for each --batch width, printed as the same rows (md) or JSON. With
--bounds-from FILE (a `gemma-eval bench --format json` output of the same run) the percentages use
that run's GEMM rate and bandwidth, so both tables share one bound.

  python3 bench/pytorch_eager_gemma3.py --preset 1b --dtype float32 -p 512 -n 16 --batch 1,8
  python3 bench/pytorch_eager_gemma3.py --check-reference ../shared/reference/tiny-text

Needs PyTorch (Debian: apt-get install python3-torch) and numpy; nothing else.
"""
import argparse
import json
import math
import os
import platform
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

# ---- configs: the released sizes' shapes (transformers Gemma3TextConfig defaults + the Hub configs) ----

def preset_config(size):
    common = dict(head_dim=256, query_pre_attn_scalar=256, rms_norm_eps=1e-6, rope_theta=1e6,
                  rope_local_base_freq=1e4, sliding_window_pattern=6)
    text_only = dict(common, vocab_size=262144, num_attention_heads=4, num_key_value_heads=1,
                     sliding_window=512, rope_scaling=None)
    multimodal = dict(common, vocab_size=262208, num_attention_heads=8, num_key_value_heads=4,
                      sliding_window=1024, rope_scaling={"rope_type": "linear", "factor": 8.0})
    presets = {
        "270m": dict(text_only, hidden_size=640, intermediate_size=2048, num_hidden_layers=18),
        "1b": dict(text_only, hidden_size=1152, intermediate_size=6912, num_hidden_layers=26),
        "4b": dict(multimodal, hidden_size=2560, intermediate_size=10240, num_hidden_layers=34),
        "12b": dict(multimodal, hidden_size=3840, intermediate_size=15360, num_hidden_layers=48,
                    num_attention_heads=16, num_key_value_heads=8),
        "27b": dict(multimodal, head_dim=128, hidden_size=5376, intermediate_size=21504, num_hidden_layers=62,
                    num_attention_heads=32, num_key_value_heads=16, query_pre_attn_scalar=168),
    }
    if size not in presets:
        sys.exit(f"pytorch_eager_gemma3.py: error: --preset {size}: expected one of {', '.join(presets)}")
    return presets[size]


def layer_is_sliding(config, layer):
    if "layer_types" in config:
        return config["layer_types"][layer] == "sliding_attention"
    return (layer + 1) % config.get("sliding_window_pattern", 6) != 0


# ---- weights: random (the preset's exact shapes) or read from safetensors without the safetensors package ----

def random_weights(config, dtype, seed=1):
    torch.manual_seed(seed)
    H, I, hd = config["hidden_size"], config["intermediate_size"], config["head_dim"]
    nh, nkv = config["num_attention_heads"], config["num_key_value_heads"]

    def matrix(rows, cols):
        return (torch.randn(rows, cols) / math.sqrt(cols)).to(dtype)

    def norm(n):  # stored as w, applied as (1 + w)
        return 0.1 * torch.randn(n)

    w = {"embed": (torch.randn(config["vocab_size"], H) * 0.05).to(dtype), "final_norm": norm(H), "layers": []}
    for _ in range(config["num_hidden_layers"]):
        w["layers"].append(dict(
            input_norm=norm(H), q=matrix(nh * hd, H), k=matrix(nkv * hd, H), v=matrix(nkv * hd, H),
            q_norm=norm(hd), k_norm=norm(hd), o=matrix(H, nh * hd), post_attention_norm=norm(H),
            pre_feedforward_norm=norm(H), gate=matrix(I, H), up=matrix(I, H), down=matrix(H, I),
            post_feedforward_norm=norm(H)))
    return w


SAFETENSORS_DTYPES = {"BF16": (np.int16, torch.bfloat16), "F16": (np.float16, None), "F32": (np.float32, None)}


def read_safetensors(path):
    """name -> tensor: 8 bytes of little-endian header length, the JSON header, then the raw data."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        np_dtype, view_as = SAFETENSORS_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(info["shape"])
        tensor = torch.from_numpy(array.copy())
        tensors[name] = tensor.view(view_as) if view_as is not None else tensor
    return tensors


def checkpoint_weights(folder, dtype):
    config = json.load(open(os.path.join(folder, "config.json")))
    config = config.get("text_config", config) | {}
    if "rope_scaling" not in config:
        config["rope_scaling"] = None
    tensors = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".safetensors"):
            tensors.update(read_safetensors(os.path.join(folder, name)))
    prefix = next(p for p in ("model.language_model.", "language_model.model.", "model.")
                  if p + "embed_tokens.weight" in tensors)

    def get(name, as_norm=False):
        t = tensors[prefix + name]
        return t.float() if as_norm else t.to(dtype)

    w = {"embed": get("embed_tokens.weight"), "final_norm": get("norm.weight", True), "layers": []}
    for i in range(config["num_hidden_layers"]):
        p = f"layers.{i}."
        w["layers"].append(dict(
            input_norm=get(p + "input_layernorm.weight", True), q=get(p + "self_attn.q_proj.weight"),
            k=get(p + "self_attn.k_proj.weight"), v=get(p + "self_attn.v_proj.weight"),
            q_norm=get(p + "self_attn.q_norm.weight", True), k_norm=get(p + "self_attn.k_norm.weight", True),
            o=get(p + "self_attn.o_proj.weight"), post_attention_norm=get(p + "post_attention_layernorm.weight", True),
            pre_feedforward_norm=get(p + "pre_feedforward_layernorm.weight", True),
            gate=get(p + "mlp.gate_proj.weight"), up=get(p + "mlp.up_proj.weight"), down=get(p + "mlp.down_proj.weight"),
            post_feedforward_norm=get(p + "post_feedforward_layernorm.weight", True)))
    return config, w


# ---- the decoder ----

def rms_norm(x, w, eps):
    # transformers Gemma3RMSNorm: float32 throughout, (1 + w), then back to the activations' dtype.
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + w.float())).to(x.dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class EagerGemma3:
    def __init__(self, config, weights, dtype):
        self.c, self.w, self.dtype = config, weights, dtype
        hd = config["head_dim"]
        exponents = torch.arange(0, hd, 2, dtype=torch.int64).float() / hd
        self.inv_freq_local = 1.0 / (config["rope_local_base_freq"] ** exponents)
        self.inv_freq_global = 1.0 / (config["rope_theta"] ** exponents)
        scaling = config.get("rope_scaling")
        if scaling and scaling.get("rope_type", scaling.get("type")) == "linear":
            self.inv_freq_global = self.inv_freq_global / scaling["factor"]
        # Gemma3TextScaledWordEmbedding: sqrt(H) as a tensor of the compute dtype.
        self.embed_scale = torch.tensor(config["hidden_size"] ** 0.5, dtype=dtype)

    def rope(self, positions, inv_freq):
        freqs = positions.float()[..., None] * inv_freq  # [B, T, hd/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(self.dtype)[:, None], emb.sin().to(self.dtype)[:, None]  # [B, 1, T, hd]

    def forward(self, ids, positions, cache):
        """ids, positions [B, T]; cache: a list of (keys, values) per layer, extended in place. -> [B, T, H]."""
        c, w = self.c, self.w
        B, T = ids.shape
        nh, nkv, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        eps = c["rms_norm_eps"]
        x = F.embedding(ids, w["embed"]) * self.embed_scale
        rope_local, rope_global = self.rope(positions, self.inv_freq_local), self.rope(positions, self.inv_freq_global)
        past = cache[0][0].shape[2] if cache[0] is not None else 0
        q_pos = torch.arange(past, past + T)[:, None]
        k_pos = torch.arange(past + T)[None, :]
        causal = k_pos <= q_pos
        masks = {False: causal, True: causal & (q_pos - k_pos < c["sliding_window"])}
        minimum = torch.finfo(self.dtype).min
        additive = {s: torch.zeros(m.shape, dtype=self.dtype).masked_fill(~m, minimum) for s, m in masks.items()}
        scaling = c["query_pre_attn_scalar"] ** -0.5
        for i, lw in enumerate(w["layers"]):
            sliding = layer_is_sliding(c, i)
            residual = x
            h = rms_norm(x, lw["input_norm"], eps)
            q = F.linear(h, lw["q"]).view(B, T, nh, hd).transpose(1, 2)
            k = F.linear(h, lw["k"]).view(B, T, nkv, hd).transpose(1, 2)
            v = F.linear(h, lw["v"]).view(B, T, nkv, hd).transpose(1, 2)
            q, k = rms_norm(q, lw["q_norm"], eps), rms_norm(k, lw["k_norm"], eps)
            cos, sin = rope_local if sliding else rope_global
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            if cache[i] is not None:
                k, v = torch.cat((cache[i][0], k), dim=2), torch.cat((cache[i][1], v), dim=2)
            cache[i] = (k, v)
            k, v = k.repeat_interleave(nh // nkv, dim=1), v.repeat_interleave(nh // nkv, dim=1)  # repeat_kv
            scores = torch.matmul(q, k.transpose(2, 3)) * scaling + additive[sliding]
            probs = torch.softmax(scores.float(), dim=-1).to(self.dtype)
            attn = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, nh * hd)
            h = rms_norm(F.linear(attn, lw["o"]), lw["post_attention_norm"], eps)
            x = residual + h
            residual = x
            h = rms_norm(x, lw["pre_feedforward_norm"], eps)
            h = F.linear(F.gelu(F.linear(h, lw["gate"]), approximate="tanh") * F.linear(h, lw["up"]), lw["down"])
            x = residual + rms_norm(h, lw["post_feedforward_norm"], eps)
        return rms_norm(x, w["final_norm"], eps)

    def logits(self, hidden):
        return F.linear(hidden, self.w["embed"]).float()

    def new_cache(self):
        return [None] * self.c["num_hidden_layers"]


# ---- measuring ----

def seconds_of(work):
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def median_rate(work, work_per_call, repetitions, min_seconds=0.25):
    work()
    rates = []
    for _ in range(repetitions):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < min_seconds:
            work()
            calls += 1
        rates.append(work_per_call * calls / (time.perf_counter() - start))
    return statistics.median(rates)


def dtype_name(dtype):
    return {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}[dtype]


def measure_peaks(compute_dtype, weight_bytes, repetitions):
    gemm = []
    M, K, N = 1024, 2048, 4096  # gemma-eval bench's CPU shape
    for dtype in sorted({torch.float32, torch.bfloat16, compute_dtype}, key=dtype_name, reverse=True):
        a, b = torch.randn(M, K).to(dtype), torch.randn(N, K).to(dtype)
        rate = median_rate(lambda: F.linear(a, b), 2.0 * M * K * N / 1e9, repetitions)
        gemm.append({"dtype": dtype_name(dtype), "shape": f"{M}x{K}x{N}", "gflop_s": rate})
    # As gemma-eval bench does (without its plain read loop): sgemv over a buffer of the weights' size.
    size = int(min(max(weight_bytes, 64 << 20), 2 << 30)) // (4096 * 4) * (4096 * 4)
    buffer, vector = torch.ones(size // (4096 * 4), 4096), torch.ones(4096)
    rate = median_rate(lambda: torch.mv(buffer, vector), size / 1e9, repetitions)
    return {"gemm": gemm, "read_bandwidth": {"what": f"sgemv over {size >> 20} MiB (the weights' size)", "gb_s": rate}}


def visible_keys(config, layer, t):
    return min(t + 1, config["sliding_window"]) if layer_is_sliding(config, layer) else t + 1


def run(args):
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "auto": torch.float32}[args.dtype]
    if args.model:
        config, weights = checkpoint_weights(args.model, dtype)
        source = args.model
    else:
        config = preset_config(args.preset)
        weights = random_weights(config, dtype)
        source = f"preset {args.preset} (random weights)"
    model = EagerGemma3(config, weights, dtype)
    matrices = [m for lw in weights["layers"] for k, m in lw.items() if m.dim() == 2]
    matrix_flops = sum(2.0 * m.numel() for m in matrices)
    head_flops = 2.0 * weights["embed"].numel()
    all_tensors = [weights["embed"], weights["final_norm"]] + [m for lw in weights["layers"] for m in lw.values()]
    weight_bytes = sum(t.numel() * t.element_size() for t in all_tensors)
    parameters = sum(t.numel() for t in all_tensors)

    if args.bounds_from:
        peaks = json.load(open(args.bounds_from))["peaks"]
    else:
        peaks = measure_peaks(dtype, weight_bytes, args.repetitions)
    peak = next(g["gflop_s"] for g in peaks["gemm"] if g["dtype"] == dtype_name(dtype)) * 1e9
    bandwidth = peaks["read_bandwidth"]["gb_s"] * 1e9

    T, steps, reps, L = args.prompt_tokens, args.decode_tokens, args.repetitions, config["num_hidden_layers"]
    c = config
    generator = torch.Generator().manual_seed(7)
    prompt = torch.randint(3, c["vocab_size"], (1, T), generator=generator)
    rows = []
    with torch.inference_mode():
        warm = model.new_cache()
        model.logits(model.forward(prompt[:, :16], torch.arange(min(T, 16))[None], warm))
        for all_logits in (True, False):
            def prefill():
                hidden = model.forward(prompt, torch.arange(T)[None], model.new_cache())
                model.logits(hidden if all_logits else hidden[:, -1])
            seconds = statistics.median(seconds_of(prefill) for _ in range(reps))
            attention = 4.0 * c["num_attention_heads"] * c["head_dim"] * sum(
                visible_keys(c, layer, t) for layer in range(L) for t in range(T))
            flops = T * matrix_flops + attention + (T if all_logits else 1) * head_flops
            bound = peak / (flops / T)
            rows.append(dict(test="prefill_all_logits" if all_logits else "prefill_last_logit",
                             label=f"prefill 1x{T}, " + ("logits at every position" if all_logits else "last logit only"),
                             batch=1, tokens=T, seconds=seconds, tok_s=T / seconds, bound_tok_s=bound,
                             percent_of_bound=100 * T / seconds / bound,
                             bound=f"GEMM {dtype_name(dtype)} peak / {flops / T / 1e9:.2f} GFLOP per token"))
        kv_element = torch.finfo(dtype).bits // 8
        for B in args.batch:
            def decode_once():
                cache = model.new_cache()
                start = torch.tensor([[2 + b % (c["vocab_size"] - 2)] for b in range(B)])
                last = model.forward(start, torch.zeros(B, 1, dtype=torch.int64), cache)[:, -1]
                begin = time.perf_counter()
                for s in range(steps):
                    nxt = model.logits(last).argmax(-1).view(B, 1)
                    last = model.forward(nxt, torch.full((B, 1), 1 + s, dtype=torch.int64), cache)[:, -1]
                return time.perf_counter() - begin
            seconds = statistics.median(decode_once() for _ in range(reps))
            kv = statistics.mean(2.0 * sum(visible_keys(c, layer, 1 + s) for layer in range(L))
                                 * c["num_key_value_heads"] * c["head_dim"] * kv_element for s in range(steps))
            per_step = weight_bytes + B * kv
            bound = B * bandwidth / per_step
            rows.append(dict(test="decode", label=f"decode {B} sequence{'' if B == 1 else 's'}, {steps} steps",
                             batch=B, tokens=B * steps, seconds=seconds, tok_s=B * steps / seconds, bound_tok_s=bound,
                             percent_of_bound=100 * B * steps / seconds / bound,
                             bound=f"{B} x read bandwidth / {per_step / 1e9:.3f} GB per step"))
    return {
        "implementation": "PyTorch eager (bench/pytorch_eager_gemma3.py)",
        "kernel_path": {"device": "cpu", "dtype": dtype_name(dtype), "threads": torch.get_num_threads(),
                        "torch_version": torch.__version__,
                        "aten_cpu_capability_env": os.environ.get("ATEN_CPU_CAPABILITY", ""),
                        "config": next((l.strip(" -") for l in torch.__config__.show().splitlines()
                                        if "CPU capability" in l), "")},
        "machine": {"python": platform.python_version()},
        "model": {"source": source, "parameters": parameters, "weight_bytes": weight_bytes, "layers": L},
        "settings": {"prompt_tokens": T, "decode_tokens": steps, "batch": args.batch, "repetitions": reps,
                     "bounds_from": args.bounds_from or "measured here"},
        "peaks": peaks,
        "rows": rows,
    }


def number(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def markdown(result):
    k = result["kernel_path"]
    lines = [f"# {result['implementation']}", "",
             f"- model: {result['model']['source']}, {result['model']['parameters']} parameters",
             f"- {k['dtype']}, {k['threads']} thread(s), torch {k['torch_version']}, {k['config']}",
             f"- bounds: {result['settings']['bounds_from']}", "",
             "| test | rate | bound | % of bound | bound from |", "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['label']} | {number(r['tok_s'])} tok/s | {number(r['bound_tok_s'])} tok/s | "
                     f"{r['percent_of_bound']:.0f}% | {r['bound']} |")
    return "\n".join(lines) + "\n"


# ---- parity with the reference fixtures (../shared/reference/README.md) ----

def check_reference(folder):
    """Logits of the fixture's sequences against the reference's top-5 logits and logsumexp (float32)."""
    config, weights = checkpoint_weights(folder, torch.float32)
    model = EagerGemma3(config, weights, torch.float32)
    manifest = json.load(open(os.path.join(folder, "expected", "manifest.json")))
    worst = 0.0
    with torch.inference_mode():
        for seq in manifest["sequences"]:
            ids = torch.tensor([seq["ids"]])
            logits = model.logits(model.forward(ids, torch.arange(ids.shape[1])[None], model.new_cache()))[0]
            top5_ids = np.load(os.path.join(folder, "expected", seq["files"]["top5_ids"]))
            top5_logits = np.load(os.path.join(folder, "expected", seq["files"]["top5_logits"]))
            lse = np.load(os.path.join(folder, "expected", seq["files"]["logsumexp"]))
            ours = logits.gather(1, torch.from_numpy(top5_ids.astype(np.int64))).numpy()
            ours_lse = torch.logsumexp(logits.double(), -1).numpy()
            diff = max(np.abs(ours - top5_logits).max(), np.abs(ours_lse - lse).max())
            same_argmax = bool((logits.argmax(-1).numpy() == top5_ids[:, 0]).all())
            # Greedy decoding through the KV cache, one token per step, as the decode rows run it.
            expected_greedy = seq["greedy"]["new_tokens"]
            cache, generated = model.new_cache(), []
            last = model.forward(ids, torch.arange(ids.shape[1])[None], cache)[:, -1]
            for step in range(len(expected_greedy)):
                token = int(model.logits(last).argmax(-1))
                generated.append(token)
                last = model.forward(torch.tensor([[token]]), torch.tensor([[ids.shape[1] + step]]), cache)[:, -1]
            same_greedy = generated == expected_greedy
            print(f"{seq['name']}: {ids.shape[1]} tokens, max |logit - reference| {diff:.2e}, argmax equal: {same_argmax}, "
                  f"greedy {len(generated)} tokens through the KV cache equal: {same_greedy}")
            same_argmax = same_argmax and same_greedy
            worst = max(worst, diff)
            if not same_argmax:
                worst = float("inf")
    print(f"worst {worst:.2e} ({'OK' if worst < 1e-3 else 'MISMATCH'}: tolerance 1e-3)")
    return 0 if worst < 1e-3 else 1


def batch_widths(text):
    try:
        widths = [int(item) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'")
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"every batch width must be >= 1, got '{text}'")
    return widths


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got '{text}'")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", help="checkpoint folder (Hugging Face layout, safetensors)")
    source.add_argument("--preset", default="1b", help="random weights shaped as 270m, 1b, 4b, 12b or 27b")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "auto"],
                        help="compute dtype (auto = float32 on the CPU, as gemma-eval today)")
    parser.add_argument("-p", "--prompt-tokens", type=positive, default=512)
    parser.add_argument("-n", "--decode-tokens", type=positive, default=16)
    parser.add_argument("--batch", type=batch_widths, default=[1, 8])
    parser.add_argument("--repetitions", type=positive, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = its default)")
    parser.add_argument("--format", choices=["md", "json"], default="md")
    parser.add_argument("--bounds-from", help="gemma-eval bench --format json output: use its GEMM rate and bandwidth")
    parser.add_argument("--check-reference", metavar="FIXTURE_DIR",
                        help="compare logits with a ../shared/reference fixture instead of measuring")
    args = parser.parse_args()
    if args.check_reference:
        return check_reference(args.check_reference)
    result = run(args)
    print(json.dumps(result, indent=2) if args.format == "json" else markdown(result), end="\n" if args.format == "json" else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
