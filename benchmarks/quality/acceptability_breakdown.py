"""Which corruptions does each reader catch? The acceptability task, corruption by corruption, on validation.

``acceptability`` mixes four corruptions (adjacent swap, a function word deleted, one doubled, an agreement
flip). This script trains GLOT (the paper's config), AdaPool, mean pooling and the 1-D convolution reader of
``conv_probe.py`` on the cached states of one backbone, at one learning rate, 3 seeds, the benchmark's budget
(3 epochs, batch 32, AdamW, the best validation epoch), and reports on the **validation** split how often
each kind of corrupted sentence is flagged (recall of "unacceptable") and how often a real sentence is
kept (recall of "acceptable"). It reads the kinds back from the task's deterministic builder
(:func:`sentence_transformers_glot.data.probing.acceptability_examples`).

Reproduce (MiniLM, last layer and layer 3, about 15 minutes of one core once the caches exist)::

    python -m benchmarks.quality.acceptability_breakdown --backbone minilm --layers -1 3 --max-train 4000 \\
        --output benchmarks/results/relational/acceptability-breakdown-minilm.json
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmarks.quality.conv_probe import ConvReader, fit, predict
from sentence_transformers_glot.data.probing import CORRUPTIONS
from sentence_transformers_glot.evaluation.report import (
    script_command,
    write_json,
)

METHODS = ("glot", "adapool", "mean", "conv")


def reader(method: str, dim: int):
    """The model of ``method``: a pooling with a linear head, or the convolution reader."""
    from sentence_transformers_glot.pooling import GlotPooling
    from sentence_transformers_glot.training.heads import TaskHead
    from sentence_transformers_glot.training.model import PoolingWithHead

    if method == "conv":
        return ConvReader(dim, 2)
    pooling = GlotPooling(dim) if method == "glot" else GlotPooling.baseline(method, dim)
    return PoolingWithHead(pooling, TaskHead("classification", pooling.get_embedding_dimension(), num_labels=2))


def kinds_of(task) -> list[str]:
    """The validation split's kinds: a corruption name, or ``"kept"``."""
    from sentence_transformers_glot.data import SOURCES, data_dir
    from sentence_transformers_glot.data.probing import acceptability_examples
    from sentence_transformers_glot.data.probing_tasks import PROBING_SOURCES, sentence_pool

    pool, _ = sentence_pool({name: data_dir() / SOURCES[name].folder_name for name in PROBING_SOURCES})
    kind = {text: k or "kept" for text, _, k in acceptability_examples(pool, task.extra["seed"], task.extra["size"])}
    return [kind[text] for text in task.splits["validation"].texts]


def main(argv: list[str] | None = None) -> None:
    from sentence_transformers_glot.training.config import TrainConfig
    from sentence_transformers_glot.training.inputs import cache_task_states, resolve_task

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="minilm")
    parser.add_argument("--layers", nargs="+", type=int, default=[-1, 3])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--max-train", type=int, default=4000)
    parser.add_argument("--max-eval", type=int, default=None)
    parser.add_argument("--output", default="benchmarks/results/relational/acceptability-breakdown-minilm.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    rows = []
    for layer in args.layers:
        config = TrainConfig(backbone=args.backbone, task="acceptability", layer=layer, max_train=args.max_train,
                             max_eval=args.max_eval)
        task = resolve_task(config, None)
        states = cache_task_states(config, task)
        kinds = np.array(kinds_of(task))
        labels = task.splits["validation"].labels
        for method, seed in tqdm([(m, s) for m in args.methods for s in args.seeds], desc=f"layer {layer}"):
            torch.manual_seed(seed)
            validation, test, model = fit(reader(method, states["train"][0].dim), states, task, args.lr, seed)
            predicted = predict(model, states["validation"][0])
            recall = {kind: float(100 * np.mean(predicted[kinds == kind] == labels[kinds == kind]))
                      for kind in ("kept", *CORRUPTIONS)}
            rows.append({"layer": layer, "method": method, "seed": seed, "validation_mcc": validation,
                         "test_mcc": test, "recall": recall,
                         "count": {kind: int((kinds == kind).sum()) for kind in recall}})

    print(f"\n{args.backbone}, acceptability, validation: % of each kind classified right (mean over seeds), lr "
          f"{args.lr:g}\n")
    kinds = ("kept", *CORRUPTIONS)
    print("| layer | method | MCC | " + " | ".join(kinds) + " |\n|---|---|---|" + "---|" * len(kinds))
    summary = []
    for layer in args.layers:
        for method in args.methods:
            cell = [r for r in rows if (r["layer"], r["method"]) == (layer, method)]
            mcc = np.array([r["validation_mcc"] for r in cell])
            recall = {k: float(np.mean([r["recall"][k] for r in cell])) for k in kinds}
            summary.append({"layer": layer, "method": method, "validation_mcc": float(mcc.mean()), "recall": recall})
            print(f"| {layer} | {method} | {mcc.mean():.1f} ± {mcc.std(ddof=1) if len(mcc) > 1 else 0:.1f} | "
                  + " | ".join(f"{recall[k]:.1f}" for k in kinds) + " |")
    write_json(args.output, script_command(argv), backbone=args.backbone, lr=args.lr, max_train=args.max_train,
               cells=rows, summary=summary)


if __name__ == "__main__":
    main()
