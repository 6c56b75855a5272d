"""The benchmark's reports: Markdown tables per backbone, the margin table, the bar plots, and
``suite.json`` / ``suite.md`` / ``suite.png`` / ``margins.png`` (:func:`write_results`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from sentence_transformers_glot.evaluation.grid import format_mean_std
from sentence_transformers_glot.evaluation.methods import ordered_methods, task_label
from sentence_transformers_glot.evaluation.report import markdown_table, pyplot, run_header
from sentence_transformers_glot.evaluation.summary import (
    PAPER_LR,
    PROTOCOLS,
    SIGNIFICANCE,
    aggregate,
    margins,
)
from sentence_transformers_glot.io import atomic_write_text

logger = logging.getLogger(__name__)


def markdown_tables(rows: list[dict[str, Any]], protocol: str = "tuned", tasks_as_rows: bool = False) -> str:
    """One Markdown table per backbone under ``protocol``: methods as rows and tasks as columns (or the other
    way round with ``tasks_as_rows``, for many tasks), test mean +- std over seeds (tuned: with the learning
    rate chosen on validation, when more than one was tried); best per task in bold; a cell with fewer
    seeds than the most in its table says how many; a cell with collapsed runs (constant predictions or a
    non-finite loss, ``RunResult.collapsed``) says how many, ``⚠ 2/3 collapsed``."""
    summary = aggregate(rows, protocol)
    metrics = {task_label(row): row["metric"] for row in rows}
    out = []
    for backbone in dict.fromkeys(r["backbone"] for r in rows):
        tasks = [t for t in dict.fromkeys(task_label(r) for r in rows if r["backbone"] == backbone)
                 if any(key[:2] == (backbone, t) for key in summary)]
        methods = ordered_methods(r["method"] for r in rows if r["backbone"] == backbone)
        if not tasks:
            continue
        best = {t: max(summary[(backbone, t, m)].mean for m in methods if (backbone, t, m) in summary) for t in tasks}
        most = max(cell.seeds for key, cell in summary.items() if key[0] == backbone)
        grid = protocol == "tuned" and len(
            {lr for key, cell in summary.items() if key[0] == backbone for lr in cell.validation}) > 1
        note = ("; learning rate chosen on validation in brackets" if grid
                else f"; every method at lr {PAPER_LR:g}" if protocol == "paper" else "")

        def text(t: str, m: str) -> str:
            if (backbone, t, m) not in summary:
                return ""
            cell = summary[(backbone, t, m)]
            shown = format_mean_std(cell.mean, cell.std, cell.seeds, digits=2)
            shown = f"**{shown}**" if cell.mean == best[t] else shown
            shown = f"{shown} ({cell.lr:g})" if grid else shown
            shown += f" [{cell.seeds} seeds]" if cell.seeds < most else ""
            return shown + (f" ⚠ {cell.collapsed}/{cell.seeds} collapsed" if cell.collapsed else "")

        out.append(f"**{backbone}**, {protocol} protocol (test, mean ± std over seeds{note})\n")
        if tasks_as_rows:
            out.append(markdown_table(["task", *methods],
                                      [[f"{t} ({metrics[t]})", *(text(t, m) for m in methods)] for t in tasks]))
        else:
            out.append(markdown_table(["method", *(f"{t} ({metrics[t]})" for t in tasks)],
                                      [[m, *(text(t, m) for t in tasks)] for m in methods]))
        out.append("")
    return "\n".join(out)


def margin_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: for every (backbone, task) and GLOT method, its margin over the best baseline under each
    protocol, ``+1.23 ± 0.45 (vs adapool, p 0.03)``; significant margins (paired t-test, p < 0.05) in bold."""
    by_protocol = {protocol: margins(rows, protocol) for protocol in PROTOCOLS}
    keys = list(dict.fromkeys(key for found in by_protocol.values() for key in found))
    if not keys:
        return ""
    out = ["GLOT minus the best baseline (the baseline with the highest mean test score), test, mean ± std of the "
           "per-seed differences; p: two-sided paired t-test over seeds (same seed, same split); **bold**: "
           f"p < {SIGNIFICANCE}.\n"]
    table = []
    for backbone, task, method in keys:
        cells = []
        for protocol in PROTOCOLS:
            m = by_protocol[protocol].get((backbone, task, method))
            if m is None:
                cells.append("")
                continue
            text = f"{m.margin:+.2f} ± {m.std:.2f}"
            cells.append(f"{f'**{text}**' if m.significant else text} (vs {m.baseline}, p {m.p:.2g})")
        table.append([Path(backbone).name, task, method, *cells])
    out.append(markdown_table(["backbone", "task", "method", *PROTOCOLS], table))
    return "\n".join(out) + "\n"


def plot_margins(rows: list[dict[str, Any]], path: Path) -> bool:
    """Bars of GLOT's margin over the best baseline per (backbone, task), one panel per protocol, error bars
    the std of the per-seed differences, ``*`` over significant margins. Returns False when there is none."""
    plt = pyplot()

    by_protocol = {protocol: margins(rows, protocol) for protocol in PROTOCOLS}
    places = list(dict.fromkeys(key[:2] for found in by_protocol.values() for key in found))
    methods = list(dict.fromkeys(key[2] for found in by_protocol.values() for key in found))
    if not places:
        return False
    fig, axes = plt.subplots(len(PROTOCOLS), 1, figsize=(max(8, 0.45 * len(places) + 2), 4.6 * len(PROTOCOLS)),
                             squeeze=False)
    width = 0.8 / len(methods)
    for ax, protocol in zip(axes[:, 0], PROTOCOLS):
        for i, method in enumerate(methods):
            found = [by_protocol[protocol].get((*place, method)) for place in places]
            x = np.arange(len(places)) + i * width - 0.4 + width / 2
            ax.bar(x, [m.margin if m else np.nan for m in found], width, yerr=[m.std if m else 0 for m in found],
                   label=method, capsize=2)
            for xi, m in zip(x, found):
                if m is not None and m.significant:
                    ax.annotate("*", (xi, m.margin + np.sign(m.margin) * (m.std + 0.3)), ha="center",
                                va="bottom" if m.margin >= 0 else "top")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(np.arange(len(places)), [f"{Path(b).name}: {t}" for b, t in places], fontsize=7, rotation=60,
                      ha="right", rotation_mode="anchor")
        ax.set_ylabel("GLOT - best baseline")
        ax.set_title(f"{protocol} protocol (* paired t-test p < {SIGNIFICANCE})")
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(ncols=len(methods), fontsize=8, loc="upper right", frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Grouped bars: one panel per backbone, tasks on the x axis, one bar per method with seed std as error."""
    plt = pyplot()

    summary = aggregate(rows)
    backbones = list(dict.fromkeys(r["backbone"] for r in rows))
    fig, axes = plt.subplots(len(backbones), 1, figsize=(11, 3.6 * len(backbones)), squeeze=False)
    for ax, backbone in zip(axes[:, 0], backbones):
        tasks = list(dict.fromkeys(task_label(r) for r in rows if r["backbone"] == backbone))
        methods = list(dict.fromkeys(r["method"] for r in rows if r["backbone"] == backbone))
        width = 0.8 / len(methods)
        for i, method in enumerate(methods):
            stats = [summary.get((backbone, t, method)) for t in tasks]
            ax.bar(np.arange(len(tasks)) + i * width - 0.4 + width / 2,
                   [s.mean if s else np.nan for s in stats], width,
                   yerr=[s.std if s else 0.0 for s in stats], label=method, capsize=2)
        ax.set_xticks(np.arange(len(tasks)), tasks)
        ax.set_ylabel("test score (x100)")
        ax.set_title(f"{Path(backbone).name}: pooling methods under one protocol")
        ax.legend(ncols=len(methods), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_results(rows: list[dict[str, Any]], output: Path, command: str = "", figures: bool = True) -> None:
    """``suite.json`` (cells, per-protocol summaries and margins) under ``output``, and with ``figures``
    ``suite.md`` (both protocols' tables and the margin table), ``suite.png`` (tuned protocol) and
    ``margins.png``."""
    output.mkdir(parents=True, exist_ok=True)
    header = run_header(command)
    summary = [{"protocol": protocol, "backbone": b, "task": t, "method": m, "lr": cell.lr, "mean": cell.mean,
                "std": cell.std, "seeds": cell.seeds, "collapsed": cell.collapsed,
                "validation_by_lr": {str(lr): v for lr, v in cell.validation.items()}}
               for protocol in PROTOCOLS for (b, t, m), cell in aggregate(rows, protocol).items()]
    found = [{"protocol": protocol, "backbone": b, "task": t, **dataclasses.asdict(m)}
             for protocol in PROTOCOLS for (b, t, _), m in margins(rows, protocol).items()]
    atomic_write_text(output / "suite.json", json.dumps({"header": header, "cells": rows, "summary": summary,
                                                         "margins": found}, indent=2))
    if not figures:
        return
    tables = "\n".join(markdown_tables(rows, protocol) for protocol in PROTOCOLS)
    atomic_write_text(output / "suite.md", f"Command: `{command}` ({header['date']}, {header['machine']})\n\n"
                      + tables + "\n" + margin_table(rows))
    try:
        plot(rows, output / "suite.png")
        plot_margins(rows, output / "margins.png")
    except ImportError as err:  # the tables and JSON are the results; the plots are a bonus
        logger.warning("no plots: %s", err)
