"""One report from several ``glot benchmark`` result folders: both protocols, the margin table and the plots.

``glot benchmark`` writes one folder per command (``suite.json`` holds every cell). Runs of different sizes
(MiniLM on whole tasks, decoders on 2,000 / 1,000 / 1,000) and layers live in different folders; this script
reads their cells, keeps the first copy of any cell found twice, leaves out (and lists) every (backbone,
task, layer) that is not complete yet, and writes ``report.md`` (a table per
backbone and protocol, then GLOT's margin over the best baseline with the paired t-test), ``report.json``,
``suite.png`` (tuned protocol) and ``margins.png``, and with ``--readme`` puts the tables into a study's page
(``benchmarks/results/relational/README.md``) between ``<!-- report:start -->`` and ``<!-- report:end -->``. It
trains nothing.

Reproduce the relational study's report::

    cd benchmarks/results/relational && PYTHONPATH=../../.. python -m benchmarks.reports.report \\
        ../suite/suite-minilm suite-minilm-gat relational-minilm relational-minilm-L3 ../suite/suite-smollm2 \\
        suite-smollm2-gat relational-smollm2 relational-smollm2-L15 suite-gemma3 relational-gemma3 \\
        relational-gemma3-L9 --output report --readme README.md

(``PYTHONPATH=../../..`` puts the repository root on the path for ``-m`` from inside the study's folder
``benchmarks/results/relational``, where the folder names are as short as the study's page shows them.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sentence_transformers_glot.evaluation.methods import is_glot, task_label
from sentence_transformers_glot.evaluation.report import script_command, write_json
from sentence_transformers_glot.evaluation.suite_report import margin_table, markdown_tables, plot, plot_margins
from sentence_transformers_glot.evaluation.summary import PROTOCOLS
from sentence_transformers_glot.io import atomic_write_text

START, END = "<!-- report:start -->", "<!-- report:end -->"


def read_cells(folders: list[Path]) -> tuple[list[dict], list[dict]]:
    """(cells, the headers of the folders read); a folder without ``suite.json`` is skipped with a note."""
    cells, headers, seen = [], [], set()
    for folder in folders:
        path = folder / "suite.json"
        if not path.is_file():
            print(f"skipping {folder}: no suite.json yet", file=sys.stderr)
            continue
        data = json.loads(path.read_text())
        headers.append({"folder": str(folder), **data["header"]})
        for cell in data["cells"]:
            key = (cell["backbone"], task_label(cell), cell["method"], cell.get("lr"), cell["seed"])
            if key not in seen:
                seen.add(key)
                cells.append({"layer": -1, **cell})
    return cells, headers


def complete_groups(cells: list[dict]) -> tuple[list[dict], list[str]]:
    """(the cells to report, a line for each thing left out until it is complete).

    A method is complete in a (backbone, task, layer) when it has every learning rate and seed that the
    backbone's cells have. A group missing a complete baseline (one the backbone has elsewhere) is left out
    whole, since GLOT would be compared with only the baselines that happen to be done; an incomplete GLOT
    method is left out of its group.
    """
    from collections import defaultdict

    groups, methods, runs = defaultdict(list), defaultdict(set), defaultdict(set)
    for cell in cells:
        groups[(cell["backbone"], task_label(cell))].append(cell)
        methods[cell["backbone"]].add(cell["method"])
        runs[cell["backbone"]].add((cell["lr"], cell["seed"]))
    kept, left_out = [], []
    for (backbone, task), members in groups.items():
        done = {m for m in methods[backbone]
                if {(c["lr"], c["seed"]) for c in members if c["method"] == m} >= runs[backbone]}
        name = f"{Path(backbone).name} {task}"
        missing_baselines = sorted(m for m in methods[backbone] - done if not is_glot(m))
        if missing_baselines:
            left_out.append(f"{name}: {', '.join(missing_baselines)} not finished ({len(members)} cells so far)")
            continue
        for method in sorted(methods[backbone] - done):
            left_out.append(f"{name}: {method} not finished")
        kept += [c for c in members if c["method"] in done]
    return kept, left_out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="glot benchmark --output folders")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/relational/report"))
    parser.add_argument("--readme", type=Path, default=None,
                        help=f"also put the tables into this file, between {START} and {END}")
    args = parser.parse_args(argv)
    cells, headers = read_cells(args.folders)
    cells, left_out = complete_groups(cells)
    if not cells:
        raise SystemExit("no complete results in any of the folders")
    args.output.mkdir(parents=True, exist_ok=True)
    sources = "\n".join(f"- `{h['folder']}`: `{h['command']}` ({h['date']}, {h['machine']})" for h in headers)
    missing = "".join(f"- {line}\n" for line in left_out)
    text = ("Merged by `" + script_command(argv) + "` from:\n\n" + sources + "\n\n"
            + (f"Left out until complete:\n\n{missing}\n" if missing else "")
            + "\n".join(markdown_tables(cells, protocol, tasks_as_rows=True) for protocol in PROTOCOLS)
            + "\n" + margin_table(cells))
    atomic_write_text(args.output / "report.md", text)
    write_json(args.output / "report.json", script_command(argv), sources=headers, cells=cells)
    plot(cells, args.output / "suite.png")
    plot_margins(cells, args.output / "margins.png")
    if args.readme is not None:
        readme = args.readme.read_text()
        if START not in readme or END not in readme:
            raise SystemExit(f"{args.readme} has no {START} ... {END} block to fill")
        head, rest = readme.split(START, 1)
        atomic_write_text(args.readme, head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1])
    print(text)


if __name__ == "__main__":
    main()
