"""Disk that the hidden-state cache needs per million texts, per backbone and task: when to train with
``--no-cache`` instead.

The cache stores the real (unpadded) token states of every text, ``tokens x d`` numbers, plus 8 bytes of
length per text. This script counts the tokens exactly as the cache build does (the backbone's own
tokenizer through sentence-transformers, truncated at ``--max-length``) on a seeded sample of each task's
training texts, and scales to one million texts, for a float16 last-layer cache (the default), a float32
one, and a 7-layer mix (``glot-plus``) in float16. Nothing is encoded, so it takes seconds.

Reproduce::

    python -m benchmarks.speed.cache_disk
"""

from __future__ import annotations

import argparse

import numpy as np

GB = 1e9


def mean_tokens(model, texts: list[str], batch_size: int = 256) -> float:
    """Mean number of real tokens per text, as the cache stores them."""
    tokenize = getattr(model, "preprocess", None) or model.tokenize
    counts = []
    for start in range(0, len(texts), batch_size):
        features = tokenize(texts[start : start + batch_size])
        counts.extend(features["attention_mask"].sum(dim=1).tolist())
    return float(np.mean(counts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbones", nargs="+", default=["minilm", "smollm2-135m", "gemma3-270m"])
    parser.add_argument("--tasks", nargs="+", default=["tweet-sentiment", "movie-polarity", "acceptability",
                                                      "20newsgroups", "fiqa-pairs"])
    parser.add_argument("--sample", type=int, default=2000, help="training texts counted per task")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--output", default="benchmarks/results/speed/cache_disk.json")
    args = parser.parse_args(argv)

    from sentence_transformers_glot.backbones.registry import resolve_backbone
    from sentence_transformers_glot.backbones.states import load_backbone
    from sentence_transformers_glot.data import load_task
    from sentence_transformers_glot.evaluation.report import markdown_table, script_command, write_json

    rng = np.random.default_rng(0)
    samples = {}
    for task_name in args.tasks:
        train = load_task(task_name).splits["train"]
        texts = list(train.texts) + (list(train.texts_b) if train.texts_b is not None else [])
        samples[task_name] = [texts[i] for i in rng.permutation(len(texts))[: args.sample]]
    rows = []
    for backbone in args.backbones:
        model = load_backbone(resolve_backbone(backbone), args.max_length)
        dim = model[0].auto_model.config.hidden_size
        for task_name, texts in samples.items():
            tokens = mean_tokens(model, texts)
            per_text = {"float16": tokens * dim * 2 + 8, "float32": tokens * dim * 4 + 8,
                        "float16, 7 layers": tokens * dim * 2 * 7 + 8}
            rows.append({"backbone": backbone, "dim": dim, "task": task_name, "mean_tokens": round(tokens, 1),
                         "gb_per_million_texts": {k: round(v * 1e6 / GB, 2) for k, v in per_text.items()}})
    table = markdown_table(
        ["backbone", "d", "task", "tokens/text", "GB / 1M texts, fp16", "fp32", "fp16, 7-layer mix"],
        [[r["backbone"], r["dim"], r["task"], r["mean_tokens"], *r["gb_per_million_texts"].values()] for r in rows],
        align="---:")
    print(table)
    write_json(args.output, script_command(argv), max_length=args.max_length, sample=args.sample, rows=rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
