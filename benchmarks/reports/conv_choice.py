"""Which conv should ``conv="auto"`` pick for each kind of backbone? The evidence on validation only.

Over the cells of every ``suite.json`` given (a cell: backbone, task, layer), under the tuned protocol (each method
at the learning rate with the best mean validation score over its seeds), the validation score of GLOT with SAGE
(``glot``) and with GAT (``glot-gat``) is set beside the best baseline's validation score (the baseline with the
highest mean validation score). Where a cell appears in several folders, the one with the most seeds is used.
Per backbone kind (decoder-only or encoder) the report gives the mean validation margin of each conv over the
best baseline and how many cells each conv wins; the rule is the conv with the larger mean margin. Test scores are
listed too, marked as not used for the choice, with the chosen conv's paired test margin over mean pooling (the
target: never below it beyond noise, a two-sided paired t-test over the seeds at p < 0.05).

Reproduce (from the repository root)::

    python -m benchmarks.reports.conv_choice <folders with suite.json> --output <study>/conv-choice.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from sentence_transformers_glot.evaluation.methods import task_label
from sentence_transformers_glot.evaluation.summary import aggregate, paired_difference
from sentence_transformers_glot.options import BASELINES

#: The benchmark methods of each conv: SAGE is ``glot-sage``, or ``glot`` in suites written before ``conv="auto"``
#: became the default (when ``glot`` was SAGE on every backbone).
CONVS = {"sage": ("glot-sage", "glot"), "gat": ("glot-gat",)}


def _is_decoder(backbone: str) -> bool:
    from sentence_transformers_glot.backbones.record import BackboneRecord

    return BackboneRecord.of(backbone).decoder


def _paired(ours: Any, mean: Any) -> tuple[float | None, float | None]:
    """Mean paired test difference over the seeds both ran, and its two-sided paired t-test p-value."""
    if mean is None:
        return None, None
    seeds = sorted(set(ours.test_by_seed) & set(mean.test_by_seed))
    difference, p = paired_difference(*([s.test_by_seed[seed] for seed in seeds] for s in (ours, mean)))
    return round(difference, 2), p


def cell_rows(folders: list[Path]) -> list[dict[str, Any]]:
    """One row per cell that ran both convs and a baseline: validation (and test) of SAGE, GAT and the best
    baseline, from the folder where the cell has the most seeds."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for folder in folders:
        cells = json.loads((folder / "suite.json").read_text())["cells"]
        tuned = aggregate(cells, "tuned")
        for backbone, task in {(c["backbone"], task_label(c)) for c in cells}:
            convs = {name: next((tuned[(backbone, task, m)] for m in methods if (backbone, task, m) in tuned), None)
                     for name, methods in CONVS.items()}
            baselines = {m: s for (b, t, m), s in tuned.items() if (b, t) == (backbone, task) and m in BASELINES}
            if None in convs.values() or not baselines:
                continue
            seeds = min(s.seeds for s in [*convs.values(), *baselines.values()])
            key = (Path(backbone).name, task)
            if key in best and best[key]["seeds"] >= seeds:
                continue
            name, base = max(baselines.items(), key=lambda item: item[1].validation[item[1].lr])
            row = {"backbone": key[0], "cell": task, "decoder": _is_decoder(backbone), "seeds": seeds,
                   "folder": str(folder), "baseline": name, "baseline_validation": base.validation[base.lr],
                   "baseline_test": base.mean}
            for conv, summary in convs.items():
                row[f"{conv}_validation"] = summary.validation[summary.lr]
                row[f"{conv}_test"] = summary.mean
            chosen = convs["gat" if row["decoder"] else "sage"]
            row["auto_vs_mean"], row["auto_vs_mean_p"] = _paired(chosen, tuned.get((backbone, task, "mean")))
            best[key] = row
    return sorted(best.values(), key=lambda r: (not r["decoder"], r["backbone"], r["cell"]))


def kind_summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per backbone kind: each conv's mean validation margin over the best baseline, its cells won, and the rule."""
    out = {}
    for kind, decoder in (("decoder", True), ("encoder", False)):
        cells = [r for r in rows if r["decoder"] is decoder]
        if not cells:
            continue
        margin = {conv: float(np.mean([r[f"{conv}_validation"] - r["baseline_validation"] for r in cells]))
                  for conv in CONVS}
        gat_wins = sum(r["gat_validation"] > r["sage_validation"] for r in cells)
        below = [f"{r['backbone']} {r['cell']}" for r in cells
                 if r["auto_vs_mean"] is not None and r["auto_vs_mean"] < 0 and r["auto_vs_mean_p"] < 0.05]
        out[kind] = {"cells": len(cells), "sage_margin": round(margin["sage"], 2),
                     "gat_margin": round(margin["gat"], 2), "gat_above_sage": gat_wins,
                     "choice": max(margin, key=margin.get),
                     "auto_below_mean_beyond_noise": below}
    return out


def markdown(rows: list[dict[str, Any]], summary: dict[str, dict[str, Any]]) -> str:
    lines = ["| kind | cells | SAGE - best baseline (validation) | GAT - best baseline (validation) | GAT above SAGE "
             "| choice | auto below mean pooling beyond noise (test*) |", "|---|---|---|---|---|---|---|"]
    for kind, s in summary.items():
        below = ", ".join(s["auto_below_mean_beyond_noise"]) or "none"
        lines.append(f"| {kind} | {s['cells']} | {s['sage_margin']:+.2f} | {s['gat_margin']:+.2f} | "
                     f"{s['gat_above_sage']} of {s['cells']} | **{s['choice']}** | {below} |")
    lines += ["", "| backbone | cell | seeds | SAGE val | GAT val | best baseline val | SAGE test* | GAT test* | "
              "baseline test* | auto - mean (test*, p) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        versus = "" if r["auto_vs_mean"] is None else f"{r['auto_vs_mean']:+.2f} (p {r['auto_vs_mean_p']:.2g})"
        lines.append(f"| {r['backbone']} | {r['cell']} | {r['seeds']} | {r['sage_validation']:.2f} | "
                     f"{r['gat_validation']:.2f} | {r['baseline']} {r['baseline_validation']:.2f} | "
                     f"{r['sage_test']:.2f} | {r['gat_test']:.2f} | {r['baseline_test']:.2f} | {versus} |")
    lines += ["", "\\* test scores: reported, not used for the choice."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="benchmark output folders (each with suite.json)")
    parser.add_argument("--output", type=Path, help="write the rows as JSON here (and the table beside it, .md)")
    args = parser.parse_args(argv)
    rows = cell_rows(args.folders)
    summary = kind_summary(rows)
    table = markdown(rows, summary)
    print(table)
    if args.output:
        command = ("python -m benchmarks.reports.conv_choice " + " ".join(str(f) for f in args.folders)
                   + f" --output {args.output}")
        args.output.write_text(json.dumps({"command": command, "summary": summary, "rows": rows}, indent=2) + "\n")
        args.output.with_suffix(".md").write_text(table + "\n")


if __name__ == "__main__":
    main()
