"""Choose among GlotPooling's options on validation only: per (backbone, task), each method's validation score
and each GLOT variant's validation margin over the best baseline, then a ranking of the variants.

Reads ``glot benchmark`` folders (their ``suite.json``). Every method gets its learning rate from validation
(the *tuned* protocol); the best baseline of a cell is the one with the highest mean validation score, and a
variant's margin is its mean validation score minus that one's. Test scores are not read: a variant is chosen
here, and its test scores are reported afterwards by ``report.py``.

    python benchmarks/options_search.py benchmarks/results/options-minilm --output benchmarks/results/options-minilm/search.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sentence_transformers_glot.benchmark import aggregate, is_glot, script_command, write_json  # noqa: E402


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="glot benchmark --output folders")
    parser.add_argument("--output", type=Path, default=None, help="also write the ranking as JSON here")
    args = parser.parse_args(argv)
    rows = [cell for folder in args.folders for cell in json.loads((folder / "suite.json").read_text())["cells"]]
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
    if args.output:
        write_json(args.output, script_command(argv), validation={f"{Path(b).name} {t}": s for (b, t), s in table.items()},
                   ranking=ranking)


if __name__ == "__main__":
    main()
