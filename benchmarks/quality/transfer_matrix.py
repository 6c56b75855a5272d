"""Does a GLOT pooling trained on one task help another? The transfer matrix (source task x target task).

For each source task a GLOT run trains on the source's training set and is exported. For each target task, each
number of target training examples and each seed, three runs train on the same target examples (the same seeded
sample for every mode and seed): GLOT from scratch, GLOT started from the source's pooling and kept frozen (only
the new head trains: ``--init-from ... --freeze-pooling``), and GLOT started from the source's pooling and trained
(a warm start: ``--init-from``). Every run is an ordinary ``glot train`` run from the hidden-state cache, with the
same settings (lr 2e-3, batch 32, at least ~60 optimiser steps: ``max(3, ceil(60 * 32 / n))`` epochs for ``n``
examples), validation and test capped at ``--max-eval``; the best validation epoch's test score is reported.

The table gives, per (source, target, examples, mode), the mean test score over seeds, its paired difference
from scratch and the two-sided paired t-test p-value; the plot is the matrix of those differences. Resumable: the
runs resume and ``transfer.json`` is rewritten after every target cell.

Reproduce (SmolLM2-135M from the caches the decoder benchmarks built; one torch thread)::

    python -m benchmarks.quality.transfer_matrix --backbone smollm2-135m \\
        --sources movie-polarity subjectivity tweet-sentiment acceptability \\
        --targets movie-polarity subjectivity tweet-sentiment acceptability --sizes 100 500 2000 --seeds 0 1 2 \\
        --output benchmarks/results/transfer
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from sentence_transformers_glot.evaluation.report import run_header
from sentence_transformers_glot.evaluation.summary import paired_difference
from sentence_transformers_glot.io import atomic_write_text
from sentence_transformers_glot.training import train
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.run_identity import run_name

MODES = ("scratch", "frozen", "warm")
#: Optimiser steps every run gets at least (a 100-example run would otherwise take 12 steps in 3 epochs).
MIN_STEPS = 60


def epochs_for(examples: int, batch_size: int = 32) -> int:
    """Epochs that give ``examples`` training examples at least :data:`MIN_STEPS` optimiser steps (3 at least)."""
    return max(3, math.ceil(MIN_STEPS * batch_size / examples))


def run_transfer(backbone: str, sources: Sequence[str], targets: Sequence[str], sizes: Sequence[int],
                 seeds: Sequence[int], output: Path, template: TrainConfig, load: Callable[[str], Any] | None = None,
                 cache: Any = None, command: str = "", runs: Path | None = None) -> list[dict[str, Any]]:
    """Train the sources, then every (target, examples, seed, mode) run; write ``transfer.json`` / ``.md`` / ``.png``
    under ``output`` (run folders in ``runs``, default ``output/runs``: two processes with other targets may share
    it) and return the rows (one per run)."""
    from sentence_transformers_glot.data import load_task

    load = load or load_task
    runs = runs or output / "runs"
    tasks: dict[str, Any] = {}

    def task(name: str) -> Any:
        if name not in tasks:
            tasks[name] = load(name)
        return tasks[name]

    source_dirs = {}
    for source in tqdm(sources, desc="sources", unit="run"):
        config = dataclasses.replace(template, backbone=backbone, task=source, seed=0)
        source_dirs[source] = runs / run_name(config, "source")
        train(config, source_dirs[source], task=task(source), cache=cache)
    rows: list[dict[str, Any]] = []
    plan = [(t, n, s) for t in targets for n in sizes for s in seeds]
    with tqdm(total=len(plan) * (1 + 2 * len(sources)), desc="transfer", unit="run") as bar:
        for target, examples, seed in plan:
            base = dataclasses.replace(template, backbone=backbone, task=target, seed=seed, max_train=examples,
                                       epochs=epochs_for(examples, template.batch_size))
            variants = [("scratch", None, base)] + [
                (mode, source, dataclasses.replace(base, init_from=str(source_dirs[source]),
                                                   freeze_pooling=mode == "frozen"))
                for source in sources for mode in ("frozen", "warm")]
            for mode, source, config in variants:
                bar.set_postfix_str(f"{target} n={examples} seed {seed} {mode} {source or ''}")
                result = train(config, runs / run_name(config, mode), task=task(target), cache=cache, export=False)
                rows.append({"target": target, "examples": examples, "seed": seed, "mode": mode, "source": source,
                             "metric": result.metric, "validation": result.validation, "test": result.test,
                             "epochs": config.epochs, "collapsed": result.collapsed})
                bar.update()
            write_results(rows, output, command)
    return rows


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (source, target, examples, mode): the mean test over seeds and the paired difference from scratch."""
    scratch = {(r["target"], r["examples"], r["seed"]): r["test"] for r in rows if r["mode"] == "scratch"}
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        if r["mode"] != "scratch":
            groups.setdefault((r["source"], r["target"], r["examples"], r["mode"]), []).append(r)
    out = []
    for (source, target, examples, mode), cell in sorted(groups.items()):
        pairs = [(r["test"], scratch[(target, examples, r["seed"])]) for r in cell
                 if (target, examples, r["seed"]) in scratch]
        if not pairs:
            continue
        ours, theirs = [p[0] for p in pairs], [p[1] for p in pairs]
        gain, p = paired_difference(ours, theirs)
        out.append({"source": source, "target": target, "examples": examples, "mode": mode, "seeds": len(pairs),
                    "test": float(np.mean(ours)), "scratch": float(np.mean(theirs)), "gain": gain, "p": p,
                    "beyond_noise": bool(p < 0.05)})
    return out


def markdown(summary: list[dict[str, Any]]) -> str:
    lines = ["| source | target | examples | mode | seeds | test | scratch | gain (p) |",
             "|---|---|---|---|---|---|---|---|"]
    for s in summary:
        mark = "**" if s["beyond_noise"] else ""
        lines.append(f"| {s['source']} | {s['target']} | {s['examples']} | {s['mode']} | {s['seeds']} | "
                     f"{s['test']:.2f} | {s['scratch']:.2f} | {mark}{s['gain']:+.2f}{mark} ({s['p']:.2g}) |")
    off = [s for s in summary if s["source"] != s["target"] and s["examples"] in (100, 500)]
    better = sum(s["gain"] > 0 and s["beyond_noise"] for s in off)
    worse = sum(s["gain"] < 0 and s["beyond_noise"] for s in off)
    lines += ["", f"Across tasks with 100 and 500 target examples ({len(off)} source-target-size-mode cells): better "
              f"than scratch beyond noise on {better}, worse beyond noise on {worse}, a tie on the rest (paired "
              "t-test over seeds, p < 0.05; bold: beyond noise)."]
    return "\n".join(lines)


def plot(summary: list[dict[str, Any]], path: Path) -> bool:
    """Gain over scratch as a source x target matrix, one panel per (examples, mode)."""
    from sentence_transformers_glot.evaluation.report import pyplot

    try:
        plt = pyplot()
    except ImportError:
        return False
    sources = sorted({s["source"] for s in summary})
    targets = sorted({s["target"] for s in summary})
    panels = sorted({(s["examples"], s["mode"]) for s in summary})
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 1, 3.4), squeeze=False)
    cells = {(s["source"], s["target"], s["examples"], s["mode"]): s for s in summary}
    limit = max(1.0, max(abs(s["gain"]) for s in summary))
    for number, (ax, (examples, mode)) in enumerate(zip(axes[0], panels)):
        grid = np.full((len(sources), len(targets)), np.nan)
        for i, source in enumerate(sources):
            for j, target in enumerate(targets):
                if (source, target, examples, mode) in cells:
                    grid[i, j] = cells[(source, target, examples, mode)]["gain"]
        image = ax.imshow(grid, cmap="RdBu", vmin=-limit, vmax=limit)
        for (i, j), value in np.ndenumerate(grid):
            if not np.isnan(value):
                ax.text(j, i, f"{value:+.1f}", ha="center", va="center", fontsize=7)
        ax.set_title(f"{mode}, {examples} examples", fontsize=9)
        ax.set_xlabel("target task", fontsize=8)
        ax.set_xticks(range(len(targets)), targets, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(sources)), sources if number == 0 else [], fontsize=7)  # the first panel names them
    axes[0][0].set_ylabel("source task")
    fig.colorbar(image, ax=axes[0].tolist(), label="test gain over scratch")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return True


def write_results(rows: list[dict[str, Any]], output: Path, command: str) -> None:
    output.mkdir(parents=True, exist_ok=True)
    summary = summarise(rows)
    plotted = plot(summary, output / "transfer.png") if summary else False
    atomic_write_text(output / "transfer.json", json.dumps({"header": run_header(command), "rows": rows,
                                                            "summary": summary,
                                                            "plot": "transfer.png" if plotted else None}, indent=2))
    atomic_write_text(output / "transfer.md", markdown(summary) + "\n")


def main(argv: list[str] | None = None) -> None:
    import shlex
    import sys

    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="smollm2-135m")
    parser.add_argument("--sources", nargs="+", default=[])
    parser.add_argument("--targets", nargs="+", default=[])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100, 500, 2000])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--max-eval", type=int, default=1000)
    parser.add_argument("--source-examples", type=int, default=2000, help="training examples of a source run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/transfer"))
    parser.add_argument("--runs", type=Path, default=None, help="run folders (default: OUTPUT/runs)")
    parser.add_argument("--merge", nargs="+", type=Path, default=None,
                        help="train nothing: combine the transfer.json of these folders into OUTPUT")
    args = parser.parse_args(argv)
    if args.merge:
        rows = [row for folder in args.merge for row in json.loads((folder / "transfer.json").read_text())["rows"]]
        write_results(rows, args.output, "python -m benchmarks.quality.transfer_matrix --merge "
                      + " ".join(map(str, args.merge)) + f" --output {args.output}")
        print(markdown(summarise(rows)))
        return
    torch.set_num_threads(args.threads)
    template = TrainConfig(lr=args.lr, max_train=args.source_examples, max_eval=args.max_eval, threads=args.threads)
    command = "python -m benchmarks.quality.transfer_matrix " + shlex.join(sys.argv[1:] if argv is None else argv)
    rows = run_transfer(args.backbone, args.sources, args.targets, args.sizes, args.seeds, args.output, template,
                        command=command, runs=args.runs)
    print(markdown(summarise(rows)))


if __name__ == "__main__":
    main()
