"""The stress test's reports: mean ± std over seeds per (protocol, method, ratio), Markdown tables, the plot, and
``stress.json`` / ``stress.md`` / ``stress.png`` written atomically (:func:`write_stress_results`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentence_transformers_glot.evaluation.grid import format_mean_std, mean_std
from sentence_transformers_glot.evaluation.report import markdown_table, pyplot, run_header
from sentence_transformers_glot.io import atomic_write_text

logger = logging.getLogger(__name__)


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation over seeds of every (protocol, method, ratio); the length-only
    classifier appears as the methods ``length-only (words)`` and, where counted, ``length-only (tokens)``."""
    groups: dict[tuple[str, str, float], list[float]] = {}
    cells: dict[tuple[str, float, int], dict[str, Any]] = {}
    for row in rows:
        groups.setdefault((row["protocol"], row["method"], row["ratio"]), []).append(row["test"])
        cells[(row["protocol"], row["ratio"], row["seed"])] = row
    for (protocol, ratio, _), row in cells.items():
        groups.setdefault((protocol, "length-only (words)", ratio), []).append(row["length_only_words"])
        if "length_only_tokens" in row:
            groups.setdefault((protocol, "length-only (tokens)", ratio), []).append(row["length_only_tokens"])
    summary = []
    for (protocol, method, ratio), values in groups.items():
        mean, std = mean_std(values)
        summary.append({"protocol": protocol, "method": method, "ratio": ratio, "mean": mean, "std": std,
                        "seeds": len(values)})
    return summary


def markdown_tables(rows: Sequence[dict[str, Any]]) -> str:
    """One table per protocol: methods as rows, distractor ratios as columns, test accuracy mean ± std."""
    summary = {(s["protocol"], s["method"], s["ratio"]): s for s in summarise(rows)}
    out = []
    for protocol in dict.fromkeys(r["protocol"] for r in rows):
        ratios = sorted({r["ratio"] for r in rows if r["protocol"] == protocol})
        methods = list(dict.fromkeys(m for p, m, _ in summary if p == protocol))
        seeds = max(s["seeds"] for k, s in summary.items() if k[0] == protocol)
        out.append(f"**{protocol} protocol** (test accuracy x100, mean ± std over {seeds} seed(s); "
                   "columns: distractor ratio)\n")
        table = []
        for method in methods:
            cells = [summary.get((protocol, method, ratio)) for ratio in ratios]
            table.append([method, *("" if s is None else format_mean_std(s["mean"], s["std"], s["seeds"])
                                    for s in cells)])
        fractions = []
        for ratio in ratios:
            cell = [r for r in rows if r["protocol"] == protocol and r["ratio"] == ratio]
            words = np.mean([r["distractor_fraction_words"] for r in cell])
            tokens = [r["distractor_fraction_tokens"] for r in cell if "distractor_fraction_tokens" in r]
            fractions.append(f"{words:.2f}" + (f" / {np.mean(tokens):.2f}" if tokens else ""))
        table.append(["*distractor fraction, test (words / tokens)*", *fractions])
        out.append(markdown_table(["method", *(f"{r:g}" for r in ratios)], table, align="---:"))
        out.append("")
    return "\n".join(out)


def plot_stress(rows: Sequence[dict[str, Any]], path: Path) -> bool:
    """Accuracy vs distractor ratio, one line per method, one panel per protocol, length-only dashed.

    Returns False (and writes nothing) when matplotlib is not installed.
    """
    try:
        plt = pyplot()
    except ImportError as err:
        logger.warning("no plot: %s", err)
        return False
    summary = summarise(rows)
    protocols = list(dict.fromkeys(r["protocol"] for r in rows))
    fig, axes = plt.subplots(1, len(protocols), figsize=(6 * len(protocols), 4.4), squeeze=False, sharey=True)
    for ax, protocol in zip(axes[0], protocols):
        methods = list(dict.fromkeys(s["method"] for s in summary if s["protocol"] == protocol))
        for method in methods:
            points = sorted((s["ratio"], s["mean"], s["std"]) for s in summary
                            if s["protocol"] == protocol and s["method"] == method)
            x, y, e = (np.array(v) for v in zip(*points))
            if method.startswith("length-only"):
                ax.plot(x, y, "k--" if "words" in method else "k:", label=method, linewidth=1.2)
            else:
                ax.errorbar(x, y, yerr=e, marker="o", label=method, capsize=2)
        ax.axhline(50, color="grey", linewidth=0.6)
        ax.set_title(f"{protocol} protocol")
        ax.set_xlabel("distractor ratio (fraction of words)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("test accuracy (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def write_stress_results(rows: Sequence[dict[str, Any]], output_dir: str | Path, settings: dict[str, Any],
                         command: str = "", seconds: float | None = None) -> None:
    """``stress.json`` (settings, every cell, summary), ``stress.md`` and ``stress.png`` under ``output_dir``."""

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    header = {**run_header(command), "wall_seconds": seconds}
    plotted = plot_stress(rows, output_dir / "stress.png")
    atomic_write_text(output_dir / "stress.json", json.dumps(
        {"header": header, "settings": settings, "plot": "stress.png" if plotted else None,
         "cells": list(rows), "summary": summarise(rows)}, indent=2, default=_jsonable))
    text = (f"Stress test: backbone {settings['backbone']}, source {settings['source']}, "
            f"{settings['n_train']}/{settings['n_val']}/{settings['n_test']} examples, {settings['epochs']} epochs, "
            f"lr {settings['lr']:g}, GLOT {settings['glot']} ({header['date']}"
            + (f", {seconds:.0f} s" if seconds is not None else "") + ")\n\n" + markdown_tables(rows))
    atomic_write_text(output_dir / "stress.md", text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
