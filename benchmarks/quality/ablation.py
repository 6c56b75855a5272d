"""Why GLOT does or does not beat AdaPool on a backbone: one task, GLOT's knobs one at a time, on validation.

AdaPool is GLOT with K = 0 (the same attention readout, no graph), so the gap between the two is what the
token graph and message passing add. This script trains GLOT with the paper's GLUE config (tau 0.8, K 2,
hidden 256) and with one knob changed at a time: the threshold (0.5, 0.6, 0.9, or a top-8 graph), the
number of layers (1, 4), the hidden size (64), and which hidden layer's states feed the pooling (a layer
two thirds of the way up, against the last); AdaPool and mean pooling run at the same settings for
reference. Every variant runs under the benchmark's protocol: the same seeds and budget, and each
variant keeps the learning rate of the grid with the best mean validation score. Variants are compared
on the **validation** split only (mean +- std over seeds); the test
column is printed for completeness and was not used to choose anything.

Run folders go to ``<runs>`` (by default the offline suite's), so the base cells the suite already
trained are read back, not retrained.

Reproduce (SmolLM2 on movie-polarity: about 40 min of one core on 2 AMD EPYC cores at 1 thread, of which
about 5 min build the cache of the middle layer; ``--part 0/2`` and ``--part 1/2`` in two processes split
the variants, and a last run without ``--part`` reads every cell back and writes the table)::

    python -m benchmarks.quality.ablation --backbone smollm2-135m --task movie-polarity --max-train 2000 \\
        --max-eval 1000 --runs benchmarks/results/suite/suite-smollm2/runs \\
        --output benchmarks/results/suite/ablation-smollm2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

BASE = {"threshold": 0.8, "num_layers": 2, "hidden_dim": 256}


def variants(num_layers_backbone: int) -> list[tuple[str, str, dict, int]]:
    """(name, pooling, GlotPooling options, hidden layer) for every variant."""
    middle = round(2 * num_layers_backbone / 3)
    return [
        ("glot (tau 0.8, K 2, hidden 256)", "glot", {}, -1),
        ("glot tau 0.5", "glot", {"threshold": 0.5}, -1),
        ("glot tau 0.6", "glot", {"threshold": 0.6}, -1),
        ("glot tau 0.9", "glot", {"threshold": 0.9}, -1),
        ("glot top-8 graph", "glot", {"threshold": None, "top_k": 8}, -1),
        ("glot K 1", "glot", {"num_layers": 1}, -1),
        ("glot K 4", "glot", {"num_layers": 4}, -1),
        ("glot hidden 64", "glot", {"hidden_dim": 64}, -1),
        ("adapool", "adapool", {}, -1),
        ("mean", "mean", {}, -1),
        (f"glot, layer {middle}", "glot", {}, middle),
        (f"adapool, layer {middle}", "adapool", {}, middle),
        (f"mean, layer {middle}", "mean", {}, middle),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="smollm2-135m")
    parser.add_argument("--task", default="movie-polarity")
    parser.add_argument("--max-train", type=int, default=2000)
    parser.add_argument("--max-eval", type=int, default=1000)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--lrs", nargs="+", type=float, default=[2e-4, 2e-3],
                        help="learning-rate grid; each variant keeps the best on validation")
    parser.add_argument("--part", default="0/1", help="K/N: train only every N-th variant from the K-th, write nothing")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", default="benchmarks/results/suite/suite-smollm2/runs")
    parser.add_argument("--output", default="benchmarks/results/suite/ablation-smollm2")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from transformers import AutoConfig

    from sentence_transformers_glot.backbones.registry import resolve_backbone
    from sentence_transformers_glot.data import load_task
    from sentence_transformers_glot.evaluation.report import run_header, script_command, write_json
    from sentence_transformers_glot.training.config import TrainConfig
    from sentence_transformers_glot.training.run import train
    from sentence_transformers_glot.training.run_identity import run_name

    depth = AutoConfig.from_pretrained(resolve_backbone(args.backbone)).num_hidden_layers
    task = load_task(args.task)
    part, parts = (int(v) for v in args.part.split("/"))
    rows = []
    for name, pooling, options, layer in tqdm(variants(depth)[part::parts], desc="ablation", unit="variant"):
        by_lr = {}
        for lr in args.lrs:
            by_lr[lr] = []
            for seed in args.seeds:
                config = TrainConfig(backbone=args.backbone, task=args.task, pooling=pooling,
                                     glot=dict(options) if pooling == "glot" else {}, lr=lr, layer=layer, seed=seed,
                                     threads=args.threads, max_train=args.max_train, max_eval=args.max_eval)
                by_lr[lr].append(train(config, Path(args.runs) / run_name(config), task=task, export=False))
        lr = max(by_lr, key=lambda k: np.mean([c.validation for c in by_lr[k]]))
        cells = by_lr[lr]
        validation = [c.validation for c in cells]
        test = [c.test for c in cells]
        rows.append({"variant": name, "pooling": pooling, "glot": {**BASE, **options} if pooling == "glot" else None,
                     "layer": layer, "lr": lr, "validation": validation, "test": test,
                     "validation_mean": float(np.mean(validation)), "validation_std": float(np.std(validation, ddof=1)),
                     "test_mean": float(np.mean(test)), "test_std": float(np.std(test, ddof=1)),
                     "trainable_parameters": cells[0].trainable_parameters})

    if parts > 1:
        return 0
    metric = cells[0].metric
    lines = [f"**{args.backbone}, {args.task}** ({metric}; seeds {args.seeds}; learning rate from "
             f"{' / '.join(f'{lr:g}' for lr in args.lrs)} and variants compared on validation)", "",
             "| variant | lr | validation | test (not used to choose) | trainable |", "|---|---|---|---|---|"]
    best = max(r["validation_mean"] for r in rows)
    for r in rows:
        val = f"{r['validation_mean']:.2f} ± {r['validation_std']:.2f}"
        lines.append(f"| {r['variant']} | {r['lr']:g} | {'**' + val + '**' if r['validation_mean'] == best else val} | "
                     f"{r['test_mean']:.2f} ± {r['test_std']:.2f} | {r['trainable_parameters']:,} |")
    table = "\n".join(lines)
    print(table)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    command = script_command(argv)
    write_json(out / "ablation.json", command, rows=rows)
    header = run_header(command)
    (out / "ablation.md").write_text(f"Command: `{command}` ({header['date']}, {header['machine']})\n\n{table}\n")
    print(f"results: {out}/ablation.json, ablation.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
