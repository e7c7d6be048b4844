"""Compares `gemma-eval logits` outputs with Hugging Face transformers' Gemma 3 on the GPU.

Usage: hf_compare.py MODEL_DIR SEQUENCES_JSON LOGITS_ROOT SUMMARY_JSON
SEQUENCES_JSON is the `logits` input: id lists, or {"ids", "images"} whose images are .npy pixel values
(paths relative to the file). LOGITS_ROOT holds one folder per placement (logits_<device>_<dtype>/
logits_<i>.npy), as check.sh writes. float32 outputs must be within 2e-4 of transformers' float32 logits
(eager attention, no TF32); bfloat16 outputs are compared with transformers in bfloat16 (argmax agreement
and the largest difference). The image prompt is also compared with the fixture's gemma_pytorch logits.
"""
import glob
import json
import os
import sys

import numpy as np
import torch
import transformers

model_dir, sequences_path, root, summary_path = sys.argv[1:5]
base = os.path.dirname(os.path.abspath(sequences_path))
sequences = []
for entry in json.load(open(sequences_path))["sequences"]:
    if isinstance(entry, list):
        sequences.append({"ids": entry, "images": []})
    else:
        sequences.append({"ids": entry["ids"], "images": [os.path.join(base, p) for p in entry.get("images", [])]})
torch.backends.cuda.matmul.allow_tf32 = False
config = json.load(open(os.path.join(model_dir, "config.json")))
image_token = config.get("image_token_index", 262144)
print("transformers", transformers.__version__)


def load(dtype):
    cls = transformers.Gemma3ForConditionalGeneration if "vision_config" in config else transformers.AutoModelForCausalLM
    try:
        model = cls.from_pretrained(model_dir, dtype=dtype, attn_implementation="eager")
    except TypeError:
        model = cls.from_pretrained(model_dir, torch_dtype=dtype, attn_implementation="eager")
    return model.cuda().eval()


def reference(dtype):
    model, out = load(dtype), []
    with torch.no_grad():
        for seq in sequences:
            ids = torch.tensor([seq["ids"]]).cuda()
            kwargs = {}
            if seq["images"]:
                pixels = [np.load(p).reshape(-1, *np.load(p).shape[-3:]) for p in seq["images"]]
                kwargs["pixel_values"] = torch.from_numpy(np.concatenate(pixels)).cuda().to(dtype)
                # token_type_ids 1 on image tokens: transformers' bidirectional attention within each image.
                kwargs["token_type_ids"] = (ids == image_token).long()
            out.append(model(input_ids=ids, **kwargs).logits[0].float().cpu().numpy())
    return out


expected = {"float32": reference(torch.float32), "bfloat16": reference(torch.bfloat16)}
summary, ok = {}, True

# transformers vs the fixture's independent reference (gemma_pytorch), on the image prompt: both must agree
# before either judges us.
manifest = json.load(open(os.path.join(model_dir, "expected", "manifest.json")))
fixture = manifest["sequences"][0]
positions = fixture["last_logits_positions"]
gp_last = np.load(os.path.join(model_dir, "expected", "prompt.last_logits.npy"))
image_index = next(i for i, s in enumerate(sequences) if s["images"])
hf_vs_gp = float(np.abs(expected["float32"][image_index][positions] - gp_last).max())
summary["transformers_vs_gemma_pytorch_image_prompt"] = hf_vs_gp
print(f"transformers fp32 vs gemma_pytorch (image prompt): max|diff| {hf_vs_gp:.3e}")

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
    ours_image = np.load(os.path.join(folder, f"logits_{image_index}.npy"))
    vs_gp = float(np.abs(ours_image[positions] - gp_last).max())
    worst = max(diffs)
    passed = (worst < 2e-4 and vs_gp < 2e-4) if dtype == "float32" else agree / total > 0.95
    ok &= passed
    summary[name] = {"max_abs_diff": worst, "per_sequence": diffs, "argmax_agreement": agree / total,
                     "image_prompt_vs_gemma_pytorch": vs_gp, "passed": passed}
    print(f"{name:45s} max|diff| {worst:.3e} (image prompt {diffs[image_index]:.3e}, vs gemma_pytorch {vs_gp:.3e})"
          f"  argmax {agree}/{total}  {'ok' if passed else 'FAILED'}")
json.dump(summary, open(summary_path, "w"), indent=1)
sys.exit(0 if ok else 1)
