"""One report from several ``glot benchmark`` result folders: both protocols, the margin table and the plots.

``glot benchmark`` writes one folder per command (``suite.json`` holds every cell). Runs of different sizes
(MiniLM on whole tasks, decoders on 2,000 / 1,000 / 1,000) and layers live in different folders; this script
reads their cells, keeps the first copy of any cell found twice, and writes ``report.md`` (a table per
backbone and protocol, then GLOT's margin over the best baseline with the paired t-test), ``report.json``,
``suite.png`` (tuned protocol) and ``margins.png``, and with ``--readme`` puts the tables into the README
between ``<!-- report:start -->`` and ``<!-- report:end -->``. It trains nothing.

Reproduce the README's report::

    cd benchmarks/results && python ../report.py suite-minilm suite-minilm-gat relational-minilm \\
        relational-minilm-L3 suite-smollm2 suite-smollm2-gat relational-smollm2 relational-smollm2-L15 \\
        suite-gemma3 relational-gemma3 relational-gemma3-L9 --output report --readme ../../README.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sentence_transformers_glot.benchmark import (  # noqa: E402
    PROTOCOLS, margin_table, markdown_tables, plot, plot_margins, script_command, write_json,
)
from sentence_transformers_glot.files import atomic_write_text  # noqa: E402


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
            key = (cell["backbone"], cell["task"], cell.get("layer", -1), cell["method"], cell.get("lr"), cell["seed"])
            if key not in seen:
                seen.add(key)
                cells.append({"layer": -1, **cell})
    return cells, headers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="glot benchmark --output folders")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/report"))
    parser.add_argument("--readme", type=Path, default=None,
                        help=f"also put the tables into this file, between {START} and {END}")
    args = parser.parse_args(argv)
    cells, headers = read_cells(args.folders)
    if not cells:
        raise SystemExit("no results in any of the folders")
    args.output.mkdir(parents=True, exist_ok=True)
    sources = "\n".join(f"- `{h['folder']}`: `{h['command']}` ({h['date']}, {h['machine']})" for h in headers)
    text = ("Merged by `" + script_command(argv) + "` from:\n\n" + sources + "\n\n"
            + "\n".join(markdown_tables(cells, protocol, tasks_as_rows=True) for protocol in PROTOCOLS) + "\n" + margin_table(cells))
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
