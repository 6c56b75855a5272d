"""What every result file carries, and the pieces of tables and plots the reports share.

:func:`run_header` (date, machine, torch version, threads, command) heads every JSON result;
:func:`markdown_table` renders rows; :func:`pyplot` imports matplotlib only when a plot is drawn, with an
error naming the extra to install.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sentence_transformers_glot.io import atomic_write_text


def machine_description() -> str:
    """CPU model and core count (from ``/proc/cpuinfo`` where there is one), e.g. ``AMD EPYC 7B13, 2 cores``."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def run_header(command: str = "") -> dict[str, Any]:
    """Date, machine, torch version and threads, recorded with every result file."""
    import torch

    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_description(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "command": command}


def script_command(argv: Sequence[str] | None = None) -> str:
    """The command line of a benchmark script (``argv``, or the process's arguments when ``None``): ``python -m
    benchmarks.speed.flop_floor ...`` for a module run with ``-m``, ``python path/to/script.py ...`` otherwise."""
    import shlex
    import sys

    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    program = ["-m", spec.name.removesuffix(".__main__")] if spec is not None and spec.name else [sys.argv[0]]
    return "python " + shlex.join([*program, *(sys.argv[1:] if argv is None else argv)])


def write_json(path: str | Path, command: str, **payload: Any) -> None:
    """``{"header": run_header(command), **payload}`` as indented JSON at ``path``, written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"header": run_header(command), **payload}, indent=2))


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A Markdown table: ``header`` cells, then ``rows``; ``align`` gives each column's separator after the
    first (default ``---``; e.g. ``"---:"`` right-aligns the value columns)."""
    separator = "|" + "|".join(["---", *([align or "---"] * (len(header) - 1))]) + "|"
    body = [header, *rows]
    lines = ["| " + " | ".join(str(cell) for cell in line) + " |" for line in body]
    return "\n".join([lines[0], separator, *lines[1:]])


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend; an ``ImportError`` naming the extra to install
    when matplotlib is missing (callers that plot as a bonus catch it and warn)."""
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError("plots need matplotlib: pip install 'sentence-transformers-glot[eval]' "
                          "(or pip install matplotlib)") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
