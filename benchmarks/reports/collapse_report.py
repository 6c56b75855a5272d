"""Collapsed runs per cell, before and after the decoder fixes, by the issue's rule and by the runs' own flag.

A run is *collapsed* (issue 21's rule) when its test score is below mean pooling's seed mean on the same cell
(backbone, task, layer, learning rate chosen on validation for mean pooling) minus 10 points; a run written since
the collapse guard also says so itself (``collapsed`` in its row: constant predictions or a non-finite loss).
Over the cells of every ``suite.json`` given, this prints one row per (backbone, task, GLOT method): runs,
collapsed runs by the rule (at both learning rates, and at the one the tuned protocol chose), flagged runs,
the tuned protocol's test mean and seed std, and the level a constant answer reaches on the task's test split
(:func:`~sentence_transformers_glot.metrics.constant_level`: a score near it means the model learned nothing from
its input, whatever its method); and writes the rows as JSON.

Reproduce (from the repository root)::

    python -m benchmarks.reports.collapse_report benchmarks/results/suite/suite-smollm2 \\
        benchmarks/results/relational/suite-smollm2-gat \\
        benchmarks/results/relational/relational-smollm2 benchmarks/results/relational/relational-smollm2-L15 \\
        benchmarks/results/relational/suite-gemma3 \\
        benchmarks/results/relational/relational-gemma3 benchmarks/results/relational/relational-gemma3-L9 \\
        --output benchmarks/results/decoders/diagnosis/collapse-counts-before.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sentence_transformers_glot.evaluation.methods import is_glot, task_label
from sentence_transformers_glot.evaluation.summary import aggregate, margins
from sentence_transformers_glot.metrics import constant_level

#: Points below mean pooling's seed mean that make a run collapsed.
MARGIN = 10.0


def collapse_rows(folders: list[Path]) -> list[dict]:
    """One row per (backbone, task, GLOT method) over the cells of every ``folder/suite.json`` together (so that
    mean pooling may come from another folder of the same backbone)."""
    cells = list({c.get("run") or json.dumps(c, sort_keys=True): c for folder in folders
                  for c in json.loads((folder / "suite.json").read_text())["cells"]}.values())
    tuned = aggregate(cells, "tuned")
    gaps = margins(cells, "tuned")
    levels = constant_levels(cells)
    out = []
    for (backbone, task, method), summary in tuned.items():
        if not is_glot(method):
            continue
        mean = tuned.get((backbone, task, "mean"))
        runs = [c for c in cells if (c["backbone"], task_label(c), c["method"]) == (backbone, task, method)]
        chosen = [c for c in runs if c["lr"] == summary.lr]
        floor = mean.mean - MARGIN if mean is not None else None
        out.append({
            "backbone": Path(backbone).name, "task": task, "method": method, "runs": len(runs),
            "collapsed_by_rule": None if floor is None else sum(c["test"] < floor for c in runs),
            "collapsed_at_chosen_lr": None if floor is None else sum(c["test"] < floor for c in chosen),
            "flagged": sum(bool(c.get("collapsed")) for c in runs),
            "tuned_lr": summary.lr, "tuned_mean": round(summary.mean, 2), "tuned_std": round(summary.std, 2),
            "mean_pooling": None if mean is None else round(mean.mean, 2),
            "constant_level": levels.get(runs[0]["task"]),
            **_margin_fields(gaps.get((backbone, task, method))),
        })
    return out


def constant_levels(cells: list[dict]) -> dict[str, float | None]:
    """Per task of ``cells``, the best score of a constant answer on its whole test split (None when the task's
    data cannot be loaded here)."""
    from sentence_transformers_glot.data import load_task

    levels = {}
    for name, metric in sorted({(c["task"], c["metric"]) for c in cells}):
        try:
            labels = load_task(name).splits["test"].labels
        except (OSError, ValueError) as error:
            print(f"constant level of {name!r} left out: {error}")
            levels[name] = None
            continue
        levels[name] = round(constant_level(metric, labels), 2)
    return levels


def _margin_fields(gap) -> dict:
    """GLOT minus the best tuned baseline (paired over seeds), and whether it is a win beyond seed noise."""
    if gap is None:
        return {}
    p = None if np.isnan(gap.p) else round(gap.p, 3)
    return {"best_baseline": gap.baseline, "margin": round(gap.margin, 2), "margin_p": p,
            "win_beyond_noise": bool(gap.margin > 0 and p is not None and p < 0.05)}


def _before_text(before: dict, row: dict) -> str:
    old = before.get((row["backbone"], row["task"], row["method"]))
    return "" if old is None else f"{old['tuned_mean']} ± {old['tuned_std']} ({old['collapsed_by_rule']})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", help="benchmark result folders (each with a suite.json)")
    parser.add_argument("--output", help="write the rows here as JSON")
    parser.add_argument("--before", help="an earlier --output JSON: its tuned test and collapsed runs per row, "
                                         "shown beside these")
    args = parser.parse_args(argv)
    rows = collapse_rows([Path(folder) for folder in args.folders])
    before = {}
    if args.before:
        before = {(r["backbone"], r["task"], r["method"]): r for r in json.loads(Path(args.before).read_text())["rows"]}
    print("| backbone | task | method | runs | collapsed (rule, both lrs) | at the chosen lr | flagged | tuned test "
          "| mean pooling | constant answer | minus the best baseline (p) |"
          + (" before: tuned test (collapsed) |" if before else ""))
    print("|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if before else ""))
    for r in rows:
        gap = f"{r['margin']:+.2f} vs {r['best_baseline']} (p {r['margin_p']})" if "margin" in r else ""
        print(f"| {r['backbone']} | {r['task']} | {r['method']} | {r['runs']} | {r['collapsed_by_rule']} | "
              f"{r['collapsed_at_chosen_lr']} | {r['flagged']} | {r['tuned_mean']} ± {r['tuned_std']} (lr "
              f"{r['tuned_lr']:g}) | {r['mean_pooling']} | {r['constant_level']} | {gap} |"
              + (f" {_before_text(before, r)} |" if before else ""))
    total = sum(r["collapsed_by_rule"] or 0 for r in rows)
    chosen = sum(r["collapsed_at_chosen_lr"] or 0 for r in rows)
    print(f"\ncollapsed GLOT runs by the rule: {total} of {sum(r['runs'] for r in rows)} ({chosen} at the learning "
          f"rate the tuned protocol chose); cells with a tuned seed std above 3: "
          f"{sum(r['tuned_std'] > 3 for r in rows)} of {len(rows)}; GLOT above the best baseline beyond seed noise "
          f"(p < 0.05): {sum(r.get('win_beyond_noise', False) for r in rows)} of {len(rows)}")
    if args.output:
        Path(args.output).write_text(json.dumps({"margin": MARGIN, "rows": rows,
                                                 "std_above_3": int(np.sum([r["tuned_std"] > 3 for r in rows]))},
                                                indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
