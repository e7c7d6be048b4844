#!/usr/bin/env python3
"""A random-weight Gemma 3 text checkpoint with a real model's shapes, in Hugging Face's layout
(config.json, model.safetensors in bfloat16 as Gemma 3 ships, the real tokenizer), for end-to-end
speed comparisons on a machine without the real weights. Needs only numpy.

  python3 bench/make_random_checkpoint.py OUT_DIR [--preset 1b|270m] [--layers N] [--seed 0]
      [--tokenizer ../shared/data/tokenizer/gemma3]
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np

# Gemma 3 text configs (transformers Gemma3TextConfig, the released config.json files).
PRESETS = {
    "270m": dict(hidden_size=640, intermediate_size=2048, num_attention_heads=4, num_key_value_heads=1,
                 head_dim=256, num_hidden_layers=18, sliding_window=512, query_pre_attn_scalar=256,
                 rope_scaling=None, max_position_embeddings=32768),
    "1b": dict(hidden_size=1152, intermediate_size=6912, num_attention_heads=4, num_key_value_heads=1,
               head_dim=256, num_hidden_layers=26, sliding_window=512, query_pre_attn_scalar=256,
               rope_scaling=None, max_position_embeddings=32768),
}


def bf16_bytes(array):
    """float32 -> bfloat16 by rounding to nearest even, as torch's .to(bfloat16) does."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16).tobytes()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--preset", default="1b", choices=sorted(PRESETS))
    parser.add_argument("--layers", type=int, default=0, help="decoder layers (default: the preset's)")
    parser.add_argument("--seed", type=int, default=0)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--tokenizer", default=os.path.join(here, "..", "..", "shared", "data", "tokenizer", "gemma3"))
    args = parser.parse_args()
    shape = dict(PRESETS[args.preset])
    if args.layers > 0:
        shape["num_hidden_layers"] = args.layers
    H, I, L = shape["hidden_size"], shape["intermediate_size"], shape["num_hidden_layers"]
    nh, nkv, hd = shape["num_attention_heads"], shape["num_key_value_heads"], shape["head_dim"]
    vocab = 262144
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if not os.path.isfile(os.path.join(args.tokenizer, name)):
            sys.exit(f"make_random_checkpoint: {args.tokenizer} has no {name} (--tokenizer: the Gemma 3 tokenizer folder)")
    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    tensors = {}
    def normal(name, *dims):
        tensors[name] = (dims, (rng.standard_normal(dims, dtype=np.float32) * 0.02))
    def norm(name, dim):
        tensors[name] = ((dim,), rng.standard_normal(dim, dtype=np.float32) * 0.1)
    normal("model.embed_tokens.weight", vocab, H)
    for i in range(L):
        p = f"model.layers.{i}."
        normal(p + "self_attn.q_proj.weight", nh * hd, H)
        normal(p + "self_attn.k_proj.weight", nkv * hd, H)
        normal(p + "self_attn.v_proj.weight", nkv * hd, H)
        normal(p + "self_attn.o_proj.weight", H, nh * hd)
        norm(p + "self_attn.q_norm.weight", hd)
        norm(p + "self_attn.k_norm.weight", hd)
        normal(p + "mlp.gate_proj.weight", I, H)
        normal(p + "mlp.up_proj.weight", I, H)
        normal(p + "mlp.down_proj.weight", H, I)
        for n in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"):
            norm(p + n + ".weight", H)
    norm("model.norm.weight", H)

    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, (dims, _) in tensors.items():
        size = 2 * int(np.prod(dims))
        header[name] = {"dtype": "BF16", "shape": list(dims), "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    staging = os.path.join(args.out_dir, "model.safetensors.partial")
    with open(staging, "wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for _, (_, values) in tensors.items():
            out.write(bf16_bytes(values))
    os.replace(staging, os.path.join(args.out_dir, "model.safetensors"))

    pattern = ["sliding_attention"] * 5 + ["full_attention"]
    config = {
        "architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "torch_dtype": "bfloat16",
        "vocab_size": vocab, "bos_token_id": 2, "eos_token_id": [1, 106], "pad_token_id": 0,
        "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
        "hidden_activation": "gelu_pytorch_tanh", "attn_logit_softcapping": None, "final_logit_softcapping": None,
        "layer_types": [pattern[i % 6] for i in range(L)], "sliding_window_pattern": 6,
        **shape,
    }
    with open(os.path.join(args.out_dir, "config.json"), "w") as out:
        json.dump(config, out, indent=2)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(args.tokenizer, name), os.path.join(args.out_dir, name))
    print(f"{args.out_dir}: Gemma 3 {args.preset} shapes, {L} layers, random bf16 weights ({offset / 1e9:.2f} GB)")


if __name__ == "__main__":
    main()
