#!/usr/bin/env python3
"""Writes docs/tasks.md from the task names the binary knows.

    ./build/gemma-eval --list-tasks | python3 docs/generate_tasks_md.py > docs/tasks.md

`gemma-eval --list-tasks` prints every task and every group, one name a line. This script sorts them
into the families below (first matching family wins; groups are matched by exact name) and fails,
naming the name, when one fits no family: a new task family then has to be added here before the
list can be regenerated, so docs/tasks.md cannot silently miss tasks.
"""
import re
import sys

# (family, what it is, task-name pattern, group names)
FAMILIES = [
    ("MMLU-Pro", "TIGER-Lab/MMLU-Pro, 10 choices, CoT generation; 5-shot by default",
     r"mmlu_pro_\w+", {"mmlu_pro"}),
    ("MMLU", "hendrycks MMLU, 57 subjects, 4 choices by log-likelihood; 5-shot by default; "
     "`mmlu` weights its four category groups by size, as lm-eval",
     r"mmlu_\w+", {"mmlu", "mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities",
                   "mmlu_stem_tasks", "mmlu_other_tasks", "mmlu_social_sciences_tasks", "mmlu_humanities_tasks"}),
    ("Commonsense and reading (multiple choice)", "one task each; shots: HellaSwag 10, ARC-Challenge 25, "
     "WinoGrande 5, the others 0", r"hellaswag|boolq|piqa|social_iqa|arc_easy|arc_challenge|winogrande",
     {"ai2_arc", "super-glue-lm-eval-v1"}),
    ("GSM8K", "grade-school math, generation; 8-shot by default (`gsm8k_cot`: the chain-of-thought exemplars)",
     r"gsm8k|gsm8k_cot", {"chain_of_thought", "math_word_problems"}),
    ("BIG-Bench Hard", "suzgun/BIG-Bench-Hard, CoT few-shot prompts; 3-shot", r"bbh_cot_fewshot_\w+",
     {"bbh_cot_fewshot"}),
    ("MATH (Minerva)", "hendrycks MATH, Minerva prompt, sympy-equivalent answers; 4-shot",
     r"minerva_math_\w+", {"minerva_math"}),
    ("MGSM", "GSM8K translated into 10 languages (+ English), native chain of thought; 0-shot",
     r"mgsm_native_cot_\w+", {"mgsm_cot_native"}),
    ("AGIEval", "English and Chinese exam questions; AGIEval's own 3-5 demonstrations",
     r"agieval_\w+", {"agieval", "agieval_en", "agieval_cn"}),
    ("GPQA", "graduate-level science questions, log-likelihood (`n_shot`) or generation; 5-shot",
     r"gpqa_\w+", {"gpqa"}),
    ("Open QA", "TriviaQA and Natural Questions (5-shot), DROP (1-shot)", r"triviaqa|nq_open|drop|drop_fixed",
     set()),
    ("XQuAD", "google-deepmind/xquad, 12 languages, extractive QA", r"xquad_\w+", {"xquad"}),
    ("ECLeKTic", "cross-lingual knowledge transfer, containment judge", r"eclektic", set()),
    ("IndicGenBench", "google/IndicGenBench: XQuAD-IN, XorQA-IN, FLORES-IN, CrossSum-IN",
     r"indicgenbench_\w+", {"indicgenbench"}),
    ("Code", "HumanEval (0-shot) and MBPP (3-shot), pass@1 in the sandbox (`--allow-code-execution`)",
     r"humaneval|mbpp", set()),
    ("WMT24++", "google/wmt24pp, English into 55 language variants, chrF", r"wmt24pp_[\w-]+", {"wmt24pp"}),
    ("FLORES-200", "19 languages into and out of English, chrF", r"flores_[\w-]+", {"flores"}),
    ("Global-MMLU-Lite", "CohereForAI/Global-MMLU-Lite, 16 languages x 6 categories",
     r"global_mmlu_\w+", {"global_mmlu"} | {f"global_mmlu_{lang}" for lang in
     "ar bn de en es fr hi id it ja ko pt sw yo zh".split()}),
    ("Perplexity", "your own text, `<data-dir>/text_perplexity/*.txt` (one document per file), scored in rolling "
     "windows as lm-eval's `loglikelihood_rolling` tasks (wikitext): word_perplexity, byte_perplexity, bits_per_byte",
     r"text_perplexity", set()),
    ("BLINK (images)", "BLINK's perception subtasks, multiple choice", r"blink_\w+", {"blink"}),
    ("Images", "document, chart and photo QA, captioning, counting, spatial and multi-discipline questions "
     "(multimodal checkpoints: 4B, 12B, 27B)",
     r"coco2017_cap_val|docvqa_val|infovqa_val|chartqa|textvqa_val|vqav2_val|ok_vqa_val2014|ai2d|mmmu_val|"
     r"realworldqa|tallyqa_\w+|countbenchqa\w*|spatialsense|remi", {"tallyqa"}),
]


def wrapped(words, width=120):
    """Joins words with spaces into lines of at most `width` columns."""
    lines, line = [], ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if len(candidate) > width and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def main():
    names = [line.strip() for line in sys.stdin if line.strip()]
    if not names:
        sys.exit("generate_tasks_md.py: no names on stdin (pipe `gemma-eval --list-tasks` into it)")
    tasks = {family: [] for family, *_ in FAMILIES}
    groups = {family: [] for family, *_ in FAMILIES}
    for name in names:
        for family, _, pattern, group_names in FAMILIES:
            if name in group_names:
                groups[family].append(name)
                break
            if re.fullmatch(pattern, name):
                tasks[family].append(name)
                break
        else:
            sys.exit(f"generate_tasks_md.py: task or group \"{name}\" fits no family: add it to FAMILIES")

    task_count = sum(len(v) for v in tasks.values())
    group_count = sum(len(v) for v in groups.values())
    out = []
    out.append("# Tasks")
    out.append("")
    out.append(f"gemma-eval knows {task_count} tasks and {group_count} groups, all named as in lm-evaluation-harness")
    out.append("where it has them. `--task` takes any of these names, comma-separated; a group runs all of its")
    out.append("members and adds an aggregate row.")
    out.append("")
    out.append("Generated from the binary, so it lists exactly what `gemma-eval --list-tasks` accepts:")
    out.append("")
    out.append("```sh")
    out.append("./build/gemma-eval --list-tasks | python3 docs/generate_tasks_md.py > docs/tasks.md")
    out.append("```")
    out.append("")
    out.append("Data files for each family: [datasets.md](datasets.md); where a task departs from the reference")
    out.append("harness: [deviations.md](deviations.md).")
    out.append("")
    out.append("Each family's file in `evals/tasks/` (or, for the tasks lm-eval defines by configuration alone, its")
    out.append("task file in `tasks/`, [task_files.md](task_files.md)) registers its tasks, with an order key that")
    out.append("places them in this list (`evals/task_registry.h`). Groups include the task files' tags")
    out.append("(`ai2_arc`, `mmlu_stem_tasks`, ...), which name tasks without an aggregate row. A new family also")
    out.append("needs its entry in `FAMILIES` of")
    out.append("`docs/generate_tasks_md.py` and a regenerated `tests/data/task_names.txt`, the list the unit tests")
    out.append("hold the binary to.")
    out.append("")
    # Families in the order the binary lists their first task (the order --list-tasks and the code use).
    first_seen = {family: min((names.index(n) for n in tasks[family] + groups[family]), default=len(names))
                  for family, *_ in FAMILIES}
    ordered = sorted(FAMILIES, key=lambda f: first_seen[f[0]])
    out.append("| family | tasks | groups |")
    out.append("| --- | ---: | --- |")
    for family, *_ in ordered:
        group_list = ", ".join(f"`{g}`" for g in groups[family][:3]) or "-"
        if len(groups[family]) > 3:
            group_list += f" and {len(groups[family]) - 3} more"
        out.append(f"| [{family}](#{anchor(family)}) | {len(tasks[family])} | {group_list} |")
    out.append(f"| all | {task_count} | {group_count} groups |")
    for family, description, _, _ in ordered:
        out.append("")
        out.append(f"## {family}")
        out.append("")
        out.extend(wrapped(f"{len(tasks[family])} tasks: {description}.".split(" ")))
        if groups[family]:
            out.append("")
            out.extend(wrapped(["Groups:"] + [f"`{g}`," for g in groups[family][:-1]] + [f"`{groups[family][-1]}`."]))
        out.append("")
        out.extend(wrapped([f"`{n}`," for n in tasks[family][:-1]] + [f"`{tasks[family][-1]}`"]))
    print("\n".join(out))


def anchor(title):
    # GitHub's heading anchors: lower case, spaces to '-', punctuation other than '-' and '_' dropped.
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


if __name__ == "__main__":
    main()
