"""What ``glot train --pooling auto`` chooses on every cell of the committed benchmarks, against the best candidate.

``--pooling auto`` with its default budget trains five candidates (GLOT with SAGE and with GAT, AdaPool, mean
pooling, and the last token on a decoder or [CLS] on an encoder) at learning rates 2e-4 and 2e-3 with the run's
seed, and keeps the (candidate, learning rate) with the best validation score. Those candidate runs are the very
runs ``glot benchmark`` made for its cells: for each cell this script rebuilds the benchmark's settings from the
command in ``suite.json``'s header, asks :func:`~sentence_transformers_glot.training.selection.candidate_configs`
for the selection's runs, and finds each by its run name among the committed rows (a run's results depend only on
its configuration, which the hash ending its name covers; the name's label differs: ``glot`` in the benchmark,
``glot-sage`` in the selection). So the choice below is the one ``--pooling auto`` makes, seed by seed
(each seed one selection), without training anything again.

Per cell it reports: the candidate chosen on each seed and its test score; the *best candidate on test* (the
candidate with the highest mean test score at the learning rate validation picks for it: an oracle, which a user
cannot have); the gap between the two, paired over seeds, and whether it is beyond noise (two-sided paired t-test,
p < 0.05); and the chosen model against mean pooling the same way. And the cost: the training seconds of the ten
candidate runs over those of one default GLOT run (``glot`` at the chosen learning rate), from the committed rows.

Reproduce (from the repository root)::

    python -m benchmarks.reports.selection_table <folders with suite.json> \\
        --output benchmarks/results/selection/selection-table.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from sentence_transformers_glot.backbones.record import BackboneRecord
from sentence_transformers_glot.evaluation.methods import task_label
from sentence_transformers_glot.evaluation.summary import paired_difference
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.run_identity import run_name
from sentence_transformers_glot.training.selection import SelectionBudget, candidate_configs

ALPHA = 0.05


def benchmark_template(command: str) -> TrainConfig:
    """The cells' TrainConfig template of a recorded ``glot benchmark`` command (what ``glot benchmark`` builds)."""
    from sentence_transformers_glot.cli import build_parser
    from sentence_transformers_glot.cli_args import dataclass_kwargs, glot_kwargs

    words = shlex.split(command)
    args = build_parser().parse_args(words[1:])
    return TrainConfig(**dataclass_kwargs(args, TrainConfig), glot=glot_kwargs(args))


def cell_selection(rows: list[dict[str, Any]], template: TrainConfig, record: BackboneRecord) -> dict[str, Any] | None:
    """The selection on one cell (its rows), seed by seed; ``None`` when a candidate run is missing."""
    by_run = {row["run"].rsplit("-", 1)[1]: row for row in rows}  # by the configuration's hash
    first = rows[0]
    cell = dataclasses.replace(template, backbone=first["backbone"], task=first["task"],
                               layer=first.get("layer", -1) if isinstance(first.get("layer", -1), int) else -1)
    seeds = sorted({row["seed"] for row in rows})
    chosen, candidates_test, costs = [], {}, []
    for seed in seeds:
        plan = candidate_configs(dataclasses.replace(cell, seed=seed), SelectionBudget(), record)
        found = [(name, config, by_run.get(run_name(config, name, record).rsplit("-", 1)[1])) for name, config in plan]
        if any(row is None for _, _, row in found):
            return None
        name, config, row = max(found, key=lambda item: item[2]["validation"])  # the first on a tie, as the rule
        chosen.append({"seed": seed, "candidate": name, "lr": config.lr, "validation": row["validation"],
                       "test": row["test"]})
        for candidate, config, row in found:
            candidates_test.setdefault(candidate, {}).setdefault(config.lr, []).append(row)
        default = next(r for n, c, r in found if n == ("glot-gat" if record.decoder else "glot-sage")
                       and c.lr == config.lr)
        costs.append(sum(r["train_seconds"] for _, _, r in found) / max(default["train_seconds"], 1e-9))
    # each candidate at the learning rate with its best mean validation (the tuned protocol); the oracle on test
    tuned = {}
    for candidate, by_lr in candidates_test.items():
        lr = max(by_lr, key=lambda lr: np.mean([r["validation"] for r in by_lr[lr]]))
        tuned[candidate] = [r["test"] for r in sorted(by_lr[lr], key=lambda r: r["seed"])]
    oracle = max(tuned, key=lambda c: np.mean(tuned[c]))
    picked = [c["test"] for c in chosen]
    gap, gap_p = paired_difference(picked, tuned[oracle])
    versus_mean, mean_p = paired_difference(picked, tuned["mean"])
    return {"backbone": Path(first["backbone"]).name, "cell": task_label(first), "seeds": len(seeds),
            "chosen": dict(Counter(c["candidate"] for c in chosen)), "per_seed": chosen,
            "chosen_test": float(np.mean(picked)), "chosen_test_std": float(np.std(picked, ddof=1)) if len(picked) > 1
            else 0.0, "best_on_test": oracle, "best_test": float(np.mean(tuned[oracle])),
            "best_test_std": float(np.std(tuned[oracle], ddof=1)) if len(seeds) > 1 else 0.0,
            "gap": gap, "gap_p": gap_p, "gap_beyond_noise": bool(gap < 0 and gap_p < ALPHA),
            "mean_test": float(np.mean(tuned["mean"])), "versus_mean": versus_mean, "versus_mean_p": mean_p,
            "below_mean_beyond_noise": bool(versus_mean < 0 and mean_p < ALPHA),
            "cost_in_glot_runs": float(np.median(costs))}


def selection_rows(folders: list[Path]) -> list[dict[str, Any]]:
    """One row per cell of every folder (a cell in several folders: the one with the most seeds)."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for folder in folders:
        suite = json.loads((folder / "suite.json").read_text())
        template = benchmark_template(suite["header"]["command"])
        cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in suite["cells"]:
            cells.setdefault((row["backbone"], task_label(row)), []).append(row)
        for (backbone, _), rows in cells.items():
            result = cell_selection(rows, template, BackboneRecord.of(backbone))
            if result is None:
                continue
            key = (result["backbone"], result["cell"])
            if key not in best or best[key]["seeds"] < result["seeds"]:
                best[key] = {**result, "folder": str(folder)}
    return sorted(best.values(), key=lambda r: (r["backbone"] == "minilm", r["backbone"], r["cell"]))


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| backbone | cell | seeds | chosen (seeds) | chosen test | best on test (oracle) | gap (p) "
             "| mean pooling | chosen − mean (p) | cost (GLOT runs) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        chosen = ", ".join(f"{k} {v}" for k, v in sorted(r["chosen"].items(), key=lambda kv: -kv[1]))
        flag = " **beyond noise**" if r["gap_beyond_noise"] else ""
        below = " **below**" if r["below_mean_beyond_noise"] else ""
        lines.append(f"| {r['backbone']} | {r['cell']} | {r['seeds']} | {chosen} | {r['chosen_test']:.2f} ± "
                     f"{r['chosen_test_std']:.2f} | {r['best_on_test']} {r['best_test']:.2f} ± "
                     f"{r['best_test_std']:.2f} | {r['gap']:+.2f} ({r['gap_p']:.2g}){flag} | {r['mean_test']:.2f} | "
                     f"{r['versus_mean']:+.2f} ({r['versus_mean_p']:.2g}){below} | {r['cost_in_glot_runs']:.1f} |")
    non_glot = sum(v for r in rows for k, v in r["chosen"].items() if not k.startswith("glot"))
    total = sum(r["seeds"] for r in rows)
    lines += ["", f"{len(rows)} cells, {total} selections: a baseline was chosen in {non_glot}; the gap to the best "
              f"candidate on test is beyond noise on {sum(r['gap_beyond_noise'] for r in rows)} cells; the chosen "
              f"model is below mean pooling beyond noise on {sum(r['below_mean_beyond_noise'] for r in rows)}; the "
              f"median cost is {np.median([r['cost_in_glot_runs'] for r in rows]):.1f} GLOT runs."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="benchmark output folders (each with suite.json)")
    parser.add_argument("--output", type=Path, help="write the rows as JSON here (and the table beside it, .md)")
    args = parser.parse_args(argv)
    rows = selection_rows(args.folders)
    table = markdown(rows)
    print(table)
    if args.output:
        command = ("python -m benchmarks.reports.selection_table " + " ".join(str(f) for f in args.folders)
                   + f" --output {args.output}")
        args.output.write_text(json.dumps({"command": command, "alpha": ALPHA, "rows": rows}, indent=2) + "\n")
        args.output.with_suffix(".md").write_text(table + "\n")


if __name__ == "__main__":
    main()
