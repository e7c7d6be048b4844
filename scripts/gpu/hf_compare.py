"""Compares `gemma-eval logits` outputs with Hugging Face transformers' Gemma 3 on the GPU.

Usage: hf_compare.py MODEL_DIR SEQUENCES_JSON LOGITS_ROOT SUMMARY_JSON
LOGITS_ROOT holds one folder per placement (logits_<device>_<dtype>/logits_<i>.npy), as check.sh writes.
float32 outputs must be within 2e-4 of transformers' float32 logits (eager attention); bfloat16
outputs are compared with transformers in bfloat16 (argmax agreement and the largest difference).
"""
import glob
import json
import os
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM

model_dir, sequences_path, root, summary_path = sys.argv[1:5]
sequences = json.load(open(sequences_path))["sequences"]
torch.backends.cuda.matmul.allow_tf32 = False


def reference(dtype):
    model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=dtype, attn_implementation="eager").cuda().eval()
    with torch.no_grad():
        return [model(torch.tensor([ids]).cuda()).logits[0].float().cpu().numpy() for ids in sequences]


expected = {"float32": reference(torch.float32), "bfloat16": reference(torch.bfloat16)}
summary, ok = {}, True
for folder in sorted(glob.glob(os.path.join(root, "logits_*"))):
    if not os.path.isdir(folder):
        continue
    name = os.path.basename(folder)
    dtype = "bfloat16" if name.endswith("bfloat16") else "float32"
    diffs, agree, total = [], 0, 0
    for i, ref in enumerate(expected[dtype]):
        ours = np.load(os.path.join(folder, f"logits_{i}.npy"))
        diffs.append(float(np.abs(ours - ref).max()))
        agree += int((ours.argmax(-1) == ref.argmax(-1)).sum())
        total += ref.shape[0]
    worst = max(diffs)
    passed = worst < 2e-4 if dtype == "float32" else agree / total > 0.95
    ok &= passed
    summary[name] = {"max_abs_diff": worst, "argmax_agreement": agree / total, "passed": passed}
    print(f"{name:45s} max|diff| {worst:.3e}  argmax agreement {agree}/{total}  {'ok' if passed else 'FAILED'}")
json.dump(summary, open(summary_path, "w"), indent=1)
sys.exit(0 if ok else 1)
