"""Choose among GlotPooling's options on validation only: per (backbone, task), each method's validation score
and each GLOT variant's validation margin over the best baseline, then a ranking of the variants.

It also counts *collapsed* runs per method and learning rate: runs whose validation score stays within
one point of chance (accuracy 50 on the balanced probes, MCC 0, Spearman 0; F1 cells are not counted, their
chance level depends on the class balance), the failure that input normalisation is meant to remove.

Reads ``glot benchmark`` folders (their ``suite.json``). Every method gets its learning rate from validation
(the *tuned* protocol); the best baseline of a cell is the one with the highest mean validation score, and a
variant's margin is its mean validation score minus that one's. Test scores are not read: a variant is chosen
here, and its test scores are reported afterwards by ``report.py``.

    python -m benchmarks.reports.options_search benchmarks/results/options/options-minilm \\
        --output benchmarks/results/options/options-minilm/search.json

``--compare glot+ln glot+seq2+cos+ln`` also ranks those variants on the cells all of them ran;
``--against OLD_FOLDER ...`` shows, for every method, its validation score in the folders minus its score in
the old ones, cell by cell: what a changed default did to each method (the evidence for changing it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.reports.report import read_cells  # one copy of each cell across folders
from sentence_transformers_glot.evaluation.methods import is_glot
from sentence_transformers_glot.evaluation.report import (
    script_command,
    write_json,
)
from sentence_transformers_glot.evaluation.summary import aggregate


def validation_table(rows: list[dict]) -> dict[tuple[str, str], dict[str, float]]:
    """(backbone, task label) -> {method: mean validation score at the method's chosen learning rate}."""
    table: dict[tuple[str, str], dict[str, float]] = {}
    for (backbone, task, method), summary in aggregate(rows, "tuned").items():
        table.setdefault((backbone, task), {})[method] = summary.validation[summary.lr]
    return table


def rank_variants(table: dict[tuple[str, str], dict[str, float]]) -> list[dict]:
    """Each GLOT variant's validation margin over the best baseline, per cell and on average, best first."""
    margins: dict[str, dict[str, float]] = {}
    for (backbone, task), scores in table.items():
        baselines = {m: v for m, v in scores.items() if not is_glot(m)}
        if not baselines:
            continue
        best = max(baselines.values())
        for method, value in scores.items():
            if is_glot(method):
                margins.setdefault(method, {})[f"{Path(backbone).name} {task}"] = value - best
    ranking = [{"method": method, "mean_margin": float(np.mean(list(cells.values()))),
                "wins": sum(v > 0 for v in cells.values()), "cells": len(cells), "margins": cells}
               for method, cells in margins.items()]
    return sorted(ranking, key=lambda r: -r["mean_margin"])


def compare_on_shared_cells(ranking: list[dict], methods: list[str]) -> list[dict]:
    """``methods`` ranked on the cells every one of them ran (a ranking over different cell sets is not a
    comparison): mean margin over the best baseline, wins, and the worst cell."""
    found = {row["method"]: row["margins"] for row in ranking if row["method"] in methods}
    missing = [m for m in methods if m not in found]
    if missing:
        raise SystemExit(f"--compare: no cells for {', '.join(missing)}")
    shared = sorted(set.intersection(*(set(cells) for cells in found.values())))
    rows = [{"method": m, "mean_margin": float(np.mean([found[m][c] for c in shared])),
             "wins": sum(found[m][c] > 0 for c in shared), "cells": len(shared),
             "worst": min((found[m][c], c) for c in shared)} for m in methods]
    return sorted(rows, key=lambda r: -r["mean_margin"])


def validation_changes(table: dict[tuple[str, str], dict[str, float]],
                       against: dict[tuple[str, str], dict[str, float]]) -> list[dict]:
    """Per method, its validation score in ``table`` minus its score in ``against`` (the same cells run under
    another configuration, e.g. before a default changed), in every cell both ran: the mean, the cells where it
    went up, the worst cell, and every cell's difference; largest mean first."""
    changes: dict[str, dict[str, float]] = {}
    for cell, scores in table.items():
        for method, value in scores.items():
            before = against.get(cell, {}).get(method)
            if before is not None:
                changes.setdefault(method, {})[f"{Path(cell[0]).name} {cell[1]}"] = value - before
    rows = [{"method": method, "mean_change": float(np.mean(list(cells.values()))),
             "up": sum(v > 0 for v in cells.values()), "cells": len(cells),
             "worst": min((v, c) for c, v in cells.items()), "changes": cells} for method, cells in changes.items()]
    return sorted(rows, key=lambda r: -r["mean_change"])


#: chance level of a metric on the suite's tasks (the probes are balanced); metrics not here are not counted
CHANCE = {"accuracy": 50.0, "mcc": 0.0, "spearman": 0.0}


def collapse_counts(rows: list[dict], margin: float = 1.0) -> dict[str, dict[str, dict[str, list[int]]]]:
    """backbone -> method -> learning rate -> [collapsed runs, runs]: a run collapsed when its validation score
    is at most ``margin`` points above its metric's chance level (:data:`CHANCE`)."""
    counts: dict[str, dict[str, dict[str, list[int]]]] = {}
    for row in rows:
        chance = CHANCE.get(row["metric"])
        if chance is None:
            continue
        by_lr = counts.setdefault(Path(row["backbone"]).name, {}).setdefault(row["method"], {})
        cell = by_lr.setdefault(f"{row['lr']:g}", [0, 0])
        cell[0] += int(row["validation"] <= chance + margin)
        cell[1] += 1
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="glot benchmark --output folders")
    parser.add_argument("--output", type=Path, default=None, help="also write the ranking as JSON here")
    parser.add_argument("--compare", nargs="+", default=None, metavar="METHOD",
                        help="also rank these variants on the cells all of them ran (the preset decision)")
    parser.add_argument("--against", nargs="+", type=Path, default=None, metavar="FOLDER",
                        help="folders of the same cells under another configuration: per method, the validation "
                             "score here minus there, cell by cell")
    args = parser.parse_args(argv)
    rows, _ = read_cells(args.folders)  # folders may share cells (a run resumed into a new folder): count once
    table = validation_table(rows)
    methods = list(dict.fromkeys(m for scores in table.values() for m in scores))
    print("| cell | " + " | ".join(methods) + " |")
    print("|---|" + "---|" * len(methods))
    for (backbone, task), scores in table.items():
        values = " | ".join(f"{scores[m]:.1f}" if m in scores else "" for m in methods)
        print(f"| {Path(backbone).name} {task} | {values} |")
    ranking = rank_variants(table)
    print("\nvalidation margin over the best baseline (mean over cells; wins = cells above it):")
    for row in ranking:
        print(f"  {row['method']:28s} {row['mean_margin']:+6.2f}  wins {row['wins']}/{row['cells']}")
    compared = compare_on_shared_cells(ranking, args.compare) if args.compare else None
    if compared:
        print(f"\non the {compared[0]['cells']} cells all of {', '.join(args.compare)} ran:")
        for row in compared:
            print(f"  {row['method']:28s} {row['mean_margin']:+6.2f}  wins {row['wins']}/{row['cells']}  "
                  f"worst {row['worst'][0]:+.1f} ({row['worst'][1]})")
    changes = validation_changes(table, validation_table(read_cells(args.against)[0])) if args.against else None
    if changes:
        cells = sorted({cell for row in changes for cell in row["changes"]})
        print(f"\nvalidation here minus in {', '.join(map(str, args.against))}, per method (cells both ran):")
        print("| cell | " + " | ".join(row["method"] for row in changes) + " |")
        print("|---|" + "---|" * len(changes))
        for cell in cells:
            print(f"| {cell} | " + " | ".join(f"{row['changes'][cell]:+.1f}" if cell in row["changes"] else ""
                                              for row in changes) + " |")
        print("| mean (up / cells) | " + " | ".join(f"{row['mean_change']:+.2f} ({row['up']}/{row['cells']})"
                                                   for row in changes) + " |")
    collapses = collapse_counts(rows)
    print("\ncollapsed runs (validation within 1 point of chance), per method and learning rate:")
    for backbone, cells in collapses.items():
        for method, by_lr in cells.items():
            print(f"  {backbone:14s} {method:24s} " + "  ".join(f"lr {lr}: {c}/{n}" for lr, (c, n) in by_lr.items()))
    if args.output:
        validation = {f"{Path(b).name} {t}": s for (b, t), s in table.items()}
        write_json(args.output, script_command(argv), validation=validation,
                   ranking=ranking, compared=compared, validation_changes=changes, collapses=collapses)


if __name__ == "__main__":
    main()
