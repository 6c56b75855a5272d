"""Check a GLOT preset against issue 11's targets: does it beat the best tuned baseline, and by how much?

For every (backbone, task) in the given ``glot benchmark`` folders, under the tuned protocol (every method at
its learning rate chosen on validation):

* the preset is the benchmark method ``--preset`` (e.g. ``glot+seq2+cos``, what ``GlotPooling.preset
  ("glot-plus")`` builds) on its cell of mixed layers (``task@L0+...``);
* the best baseline is the baseline (mean, max, cls, last, adapool, with or without ``+ln``) with the highest
  mean *validation* score over every layer configuration run for that task (last layer, a middle layer,
  the mix), so the preset must beat the baselines' best choice, not only those of its own cell; its test
  score is reported next to the preset's;
* beside it, the same-cell margin (preset minus the best baseline by test on the same mixed layers, paired
  t-test over seeds, as ``report.py``) and the paper's GLOT (``glot`` on the last layer).

Targets: the preset wins at least 80% of the cells, by at least 5 points on the relational probes. Writes
a Markdown table and, with ``--output``, JSON. Selection of the preset itself happens on validation
(``options_search.py``); this script only reads test scores to report them.

    cd benchmarks/results/options && PYTHONPATH=../../.. python -m benchmarks.reports.preset_targets \\
        options-minilm options-minilm-mix ../relational/relational-minilm ../relational/relational-minilm-L3 \\
        options-smollm2 ../relational/relational-smollm2 ../relational/relational-smollm2-L15 options-gemma3 \\
        ../relational/relational-gemma3 ../relational/relational-gemma3-L9 --preset glot+seq2+cos \\
        --output preset-targets.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.reports.report import read_cells  # one copy of each cell across folders
from sentence_transformers_glot.evaluation.methods import task_label
from sentence_transformers_glot.evaluation.report import script_command, write_json
from sentence_transformers_glot.evaluation.summary import (
    aggregate,
    is_glot,
    margins,
)

RELATIONAL = ("bigram-shift", "coordination-inversion", "acceptability")


def preset_rows(rows: list[dict], preset: str, paper: str = "glot") -> list[dict]:
    """One row per (backbone, task) that has the preset on mixed layers: its test, the paper's GLOT and the
    best baseline (chosen on validation over all layer configurations), and the same-cell margin."""
    summary = aggregate(rows, "tuned")
    same_cell = margins([r for r in rows if isinstance(r["layer"], list)], "tuned")
    layers_of: dict[tuple[str, str], dict[str, object]] = {}  # (backbone, task) -> {label: layer}
    for row in rows:
        layers_of.setdefault((row["backbone"], row["task"]), {})[task_label(row)] = row["layer"]
    out = []
    for (backbone, task), labels in layers_of.items():
        mixed = [lab for lab, layer in labels.items() if isinstance(layer, list) and (backbone, lab, preset) in summary]
        if not mixed:
            continue
        label = mixed[0]
        ours = summary[(backbone, label, preset)]
        baselines = {(lab, m): s for (b, lab, m), s in summary.items()
                     if b == backbone and lab in labels and not is_glot(m)}
        (where, method), best = max(baselines.items(), key=lambda item: item[1].validation[item[1].lr])
        paper_glot = summary.get((backbone, task, paper))
        margin = same_cell.get((backbone, label, preset))
        out.append({
            "backbone": Path(backbone).name, "task": task, "cell": label, "preset": ours.mean,
            "preset_std": ours.std, "paper_glot": None if paper_glot is None else paper_glot.mean,
            "best_baseline": f"{method} @ {where}", "baseline": best.mean, "baseline_std": best.std,
            "margin": ours.mean - best.mean, "same_cell_margin": None if margin is None else margin.margin,
            "same_cell_baseline": None if margin is None else margin.baseline,
            "same_cell_p": None if margin is None else margin.p,
        })
    return out


def markdown(rows: list[dict], preset: str) -> str:
    lines = [f"| backbone | task | {preset} (mixed layers) | paper GLOT (last layer) | best tuned baseline "
             "(chosen on validation) | margin | same-cell margin (p) |", "|---|---|---:|---:|---|---:|---:|"]
    for r in rows:
        paper = "" if r["paper_glot"] is None else f"{r['paper_glot']:.1f}"
        same = "" if r["same_cell_margin"] is None else (
            f"{r['same_cell_margin']:+.1f} vs {r['same_cell_baseline']} (p {r['same_cell_p']:.2g})")
        lines.append(f"| {r['backbone']} | {r['task']} | {r['preset']:.1f} ± {r['preset_std']:.1f} | {paper} | "
                     f"{r['baseline']:.1f} ± {r['baseline_std']:.1f} ({r['best_baseline']}) | {r['margin']:+.1f} | "
                     f"{same} |")
    wins = sum(r["margin"] > 0 for r in rows)
    relational = [r["margin"] for r in rows if r["task"] in RELATIONAL]
    lines.append("")
    lines.append(f"Cells won: {wins}/{len(rows)} ({100 * wins / max(len(rows), 1):.0f}%; target 80%). "
                 + (f"Smallest margin on the relational probes: {min(relational):+.1f} (target +5)."
                    if relational else ""))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="glot benchmark --output folders")
    parser.add_argument("--preset", required=True, help="the benchmark method of the preset (e.g. glot+seq2+cos)")
    parser.add_argument("--paper", default="glot", help="the paper's GLOT method (last layer)")
    parser.add_argument("--output", type=Path, default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    rows = preset_rows(read_cells(args.folders)[0], args.preset, args.paper)
    if not rows:
        raise SystemExit(f"no cell has {args.preset!r} on mixed layers in {', '.join(map(str, args.folders))}")
    print(markdown(rows, args.preset))
    if args.output:
        write_json(args.output, script_command(argv), preset=args.preset, rows=rows)


if __name__ == "__main__":
    main()
