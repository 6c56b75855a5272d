"""Which of GLOT's leads survive many seeds: paired margins over the best baseline, corrected for the number of
cells (Holm), with effect sizes.

Over the cells of every ``suite.json`` given (each cell a backbone, task and layer), under the tuned protocol
(each method at its learning rate with the best mean validation score), every GLOT method (``glot``,
``glot-<conv>``) is compared with the cell's best baseline (the baseline with the highest test mean: the hardest
for GLOT) on the seeds both ran: the mean of the paired differences, their standard deviation, the effect size
``d_z = mean / std`` and the two-sided paired t-test p-value. The p-values of all the comparisons reported are
corrected together by Holm's step-down method. A *win* is a positive margin with a corrected p below 0.05, a
*loss* a negative one; everything else is a tie at this number of seeds. Only cells where every method has at
least ``--min-seeds`` seeds are reported (a cell still running is left out and listed as such).

Reproduce (from the repository root)::

    python -m benchmarks.reports.surviving_wins benchmarks/results/seeds10/*/ \\
        --output benchmarks/results/seeds10/surviving-wins.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sentence_transformers_glot.evaluation.summary import aggregate, margins

#: Family-wise error rate of the corrected tests.
ALPHA = 0.05


def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values (step-down, monotone, capped at 1), in the order given; NaN stays NaN and is not
    counted among the tests."""
    order = sorted((p, i) for i, p in enumerate(p_values) if not np.isnan(p))
    tests = len(order)
    adjusted = [float("nan")] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(order):
        running = max(running, min(1.0, (tests - rank) * p))
        adjusted[index] = running
    return adjusted


def survival_rows(folders: list[Path], min_seeds: int = 10) -> tuple[list[dict], list[str]]:
    """One row per (backbone, cell, GLOT method) whose cell has ``min_seeds`` seeds for every method, with its
    Holm-corrected verdict; and the labels of the cells left out as incomplete."""
    cells = list({c.get("run") or json.dumps(c, sort_keys=True): c for folder in folders
                  for c in json.loads((folder / "suite.json").read_text())["cells"]}.values())
    tuned = aggregate(cells, "tuned")
    complete, incomplete = set(), set()
    for (backbone, task, _method), summary in tuned.items():
        (complete if summary.seeds >= min_seeds else incomplete).add((backbone, task))
    complete -= incomplete
    rows = []
    for (backbone, task, method), margin in margins(cells, "tuned").items():
        if (backbone, task) not in complete:
            continue
        glot = tuned[(backbone, task, method)]
        base = tuned[(backbone, task, margin.baseline)]
        effect = margin.margin / margin.std if margin.std > 0 else float("nan")
        rows.append({"backbone": Path(backbone).name, "cell": task, "method": method, "seeds": margin.seeds,
                     "glot": round(glot.mean, 2), "glot_std": round(glot.std, 2), "baseline": margin.baseline,
                     "baseline_mean": round(base.mean, 2), "baseline_std": round(base.std, 2),
                     "margin": round(margin.margin, 2), "effect_size_dz": round(effect, 2), "p": margin.p})
    for row, adjusted in zip(rows, holm([row["p"] for row in rows])):
        row["p_holm"] = adjusted
        significant = adjusted < ALPHA
        row["verdict"] = "win" if significant and row["margin"] > 0 else "loss" if significant else "tie"
    labels = sorted(f"{Path(b).name} {t}" for b, t in incomplete)
    return rows, labels


def markdown(rows: list[dict], incomplete: list[str]) -> str:
    """The rows as a Markdown table, wins first, then the cells left out."""
    lines = ["| backbone | cell | GLOT | seeds | GLOT test | best baseline | margin | d_z | p | p (Holm) | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    order = {"win": 0, "loss": 1, "tie": 2}
    for r in sorted(rows, key=lambda r: (order[r["verdict"]], -r["margin"])):
        verdict = r["verdict"] if r["verdict"] == "tie" else f"**{r['verdict']}**"
        lines.append(f"| {r['backbone']} | {r['cell']} | {r['method']} | {r['seeds']} | {r['glot']:.2f} ± "
                     f"{r['glot_std']:.2f} | {r['baseline']} {r['baseline_mean']:.2f} ± {r['baseline_std']:.2f} | "
                     f"{r['margin']:+.2f} | {r['effect_size_dz']:.2f} | {r['p']:.3g} | {r['p_holm']:.3g} | "
                     f"{verdict} |")
    if incomplete:
        lines.append("")
        lines.append("Left out (fewer seeds than asked for, still running): " + ", ".join(incomplete) + ".")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="benchmark output folders (each with suite.json)")
    parser.add_argument("--min-seeds", type=int, default=10, help="report only cells with this many seeds")
    parser.add_argument("--output", type=Path, help="write the rows as JSON here (and the table beside it, .md)")
    args = parser.parse_args(argv)
    rows, incomplete = survival_rows(args.folders, args.min_seeds)
    table = markdown(rows, incomplete)
    print(table)
    if args.output:
        args.output.write_text(json.dumps({"command": "python -m benchmarks.reports.surviving_wins "
                                           + " ".join(str(f) for f in args.folders)
                                           + f" --min-seeds {args.min_seeds} --output {args.output}",
                                           "alpha": ALPHA, "rows": rows, "incomplete": incomplete}, indent=2) + "\n")
        args.output.with_suffix(".md").write_text(table + "\n")


if __name__ == "__main__":
    main()
