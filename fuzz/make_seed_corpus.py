#!/usr/bin/env python3
"""Regenerates the binary seeds in fuzz/corpus/safetensors/, and the seeds of fuzz/corpus/jinja/ and
fuzz/corpus/task_file/ from the test data (tests/data/jinja/cases.json, tests/data/task_files/); the other
text seeds are written by hand.

Run from the repository root: python3 fuzz/make_seed_corpus.py
"""
import json
import os
import struct

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
OUT = os.path.join(FUZZ, "corpus", "safetensors")


def safetensors(header, data=b"", pad=True, declared=None):
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    size = len(text) if declared is None else declared
    return struct.pack("<Q", size) + text + data


def write(name, blob):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(blob)


def main():
    os.makedirs(OUT, exist_ok=True)
    f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.25)
    bf16 = struct.pack("<3H", 0x3F80, 0xC000, 0x7FC0)
    f16 = struct.pack("<2H", 0x3C00, 0x0001)
    write("valid_three_dtypes.safetensors", safetensors({
        "__metadata__": {"format": "pt"},
        "a.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
        "b.bias": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]},
        "c": {"dtype": "F16", "shape": [2], "data_offsets": [22, 26]},
    }, f32 + bf16 + f16))
    write("valid_int_and_scalar.safetensors", safetensors({
        "ids": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]},
        "flag": {"dtype": "BOOL", "shape": [], "data_offsets": [16, 17]},
        "u8": {"dtype": "U8", "shape": [1, 3], "data_offsets": [17, 20]},
    }, struct.pack("<2q", 7, -1) + b"\x01" + b"abc"))
    write("valid_empty_tensor.safetensors", safetensors({
        "empty": {"dtype": "F32", "shape": [0, 4], "data_offsets": [0, 0]},
    }))
    write("valid_empty_header.safetensors", safetensors({}, pad=False))
    write("edge_gap.safetensors", safetensors({
        "x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
    }, b"\0" * 8))
    write("edge_overlap.safetensors", safetensors({
        "x": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
        "y": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]},
    }, b"\0" * 4))
    write("edge_header_too_long.safetensors", safetensors({"x": 1}, declared=1 << 40))
    write("edge_fp8_and_u64.safetensors", safetensors({
        "f8": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [8, 10]},
        "u64": {"dtype": "U64", "shape": [1], "data_offsets": [0, 8]},
    }, b"\xff" * 10))


def text_seeds():
    """Every 5th template of the Jinja test cases (both option sets, errors included), and every task file
    of tests/data/task_files (tasks, groups, includes, refusals) as fuzz_task_file reads them: as task.yaml."""
    jinja = os.path.join(FUZZ, "corpus", "jinja")
    os.makedirs(jinja, exist_ok=True)
    with open(os.path.join(ROOT, "tests", "data", "jinja", "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    for i, case in enumerate(cases[::5]):
        name = "".join(c if c.isalnum() else "_" for c in case["name"])[:40]
        with open(os.path.join(jinja, f"{i:02d}_{name}.jinja"), "w", encoding="utf-8") as f:
            f.write(case["template"])
    task_files = os.path.join(FUZZ, "corpus", "task_file")
    os.makedirs(task_files, exist_ok=True)
    source = os.path.join(ROOT, "tests", "data", "task_files")
    for folder in ("mine", "lm_eval", "errors"):
        for file in sorted(os.listdir(os.path.join(source, folder))):
            if file.endswith(".yaml"):
                with open(os.path.join(source, folder, file), "rb") as f:
                    data = f.read()
                with open(os.path.join(task_files, f"{folder}_{file}"), "wb") as f:
                    f.write(data)


if __name__ == "__main__":
    main()
    text_seeds()
