"""``glot benchmark``: backbones x tasks x pooling methods x seeds under one protocol.

Every cell is one :func:`~sentence_transformers_glot.training.train` run with the same head, budget,
seeds and model selection: each method trains at every learning rate of a small grid, the learning rate
with the best mean validation score over seeds is kept (per backbone, task and method), and within a run
the best validation epoch is kept; only then is the test score read. Cells live in run folders
under ``<output>/runs``: a finished cell is read back instead of trained again, so an interrupted benchmark
resumes where it stopped, and the hidden-state cache is shared by every method and seed of a (backbone,
task). Results: ``<output>/suite.json`` (every cell and the mean and standard deviation over seeds),
``suite.md`` (one table per backbone) and ``suite.png``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
from tqdm.auto import tqdm

from sentence_transformers_glot.io import atomic_write_text
from sentence_transformers_glot.data import TaskData
from sentence_transformers_glot.training import TrainConfig, run_name, train

OFFLINE_SUITE = ("movie-polarity", "movie-rating", "tweet-sentiment", "subjectivity", "20newsgroups", "reuters-r8")
ENCODER_METHODS = ("glot", "glot-gat", "adapool", "mean", "max", "cls")


def default_methods(backbone: str) -> tuple[str, ...]:
    """GLOT with the paper's layer (``glot``, SAGE) and the reference code's (``glot-gat``), and the baselines:
    AdaPool, mean, max, first token ([CLS]); decoders also get the last token ([EOS]), since their first
    token sees no other token."""
    from sentence_transformers_glot.backbones import is_decoder

    return (*ENCODER_METHODS, "last") if is_decoder(backbone) else ENCODER_METHODS


#: Options beyond the paper a method name can add, as ``+<name>`` (e.g. ``glot-gat+seq2+ln``); ``seq<N>`` is
#: ``sequence_window=N``. Baselines take only the input normalisations.
VARIANTS: dict[str, dict[str, Any]] = {
    "cos": {"edge_weight": "cosine"},
    "ln": {"input_norm": "layer"},
    "rms": {"input_norm": "rms"},
}
BASELINE_VARIANTS = ("ln", "rms")

LayerSpec = Union[int, Sequence[int]]


def _variant(name: str, method: str) -> dict[str, Any]:
    if name in VARIANTS:
        return VARIANTS[name]
    if name.startswith("seq") and name[3:].isdigit() and int(name[3:]) > 0:
        return {"sequence_window": int(name[3:])}
    raise ValueError(
        f"benchmark: method {method!r} has an unknown option +{name}; options are "
        f"{', '.join('+' + v for v in VARIANTS)} and +seq<N> (sequence_window=N)."
    )


def method_pooling(method: str, glot: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """(``TrainConfig.pooling``, GlotPooling options) of a benchmark method.

    ``glot`` is GlotPooling with ``glot`` options; ``glot-<conv>`` (``glot-gat``, ``glot-gcn``, ``glot-gin``,
    ``glot-sage``) is the same with ``conv=<conv>``; a name from :data:`~sentence_transformers_glot.pooling.PRESETS`
    (``glot-plus``) is ``glot`` with that preset's options (its hidden layers come from the cell's ``--layers``);
    any other name is a baseline preset, which takes no options.
    Any of them may end in ``+<option>`` parts from :data:`VARIANTS` (``glot-gat+seq2+cos+ln``; baselines only
    ``+ln``/``+rms``).
    """
    from sentence_transformers_glot.nn.gnn import CONVS
    from sentence_transformers_glot.pooling import PRESETS
    from sentence_transformers_glot.training import POOLINGS

    base, *extras = method.split("+")
    choices = ", ".join([*POOLINGS, *(f"glot-{conv}" for conv in CONVS), *(p for p in PRESETS if p != "paper")])
    if base == "glot":
        pooling, options = "glot", dict(glot or {})
    elif base in PRESETS and base != "paper":  # the preset's options; its layers come from the cell (--layers)
        pooling, options = "glot", {**(glot or {}), **PRESETS[base]}
    elif base.startswith("glot-") and base[5:] in CONVS:
        pooling, options = "glot", {**(glot or {}), "conv": base[5:]}
    elif base in POOLINGS:
        pooling, options = base, {}
        wrong = [extra for extra in extras if extra not in BASELINE_VARIANTS]
        if wrong:
            raise ValueError(f"benchmark: method {method!r}: a baseline takes only +ln or +rms, not +{wrong[0]}.")
    else:
        raise ValueError(f"benchmark: unknown method {method!r}; use one of {choices}, optionally with +options.")
    for extra in extras:
        options.update(_variant(extra, method))
    return pooling, options


def layer_options(layer: LayerSpec) -> tuple[int, dict[str, Any]]:
    """(``TrainConfig.layer``, GlotPooling options) for a cell's layer: an int is one hidden layer
    (``TrainConfig.layer``); a list is mixed by ``GlotPooling(layers=...)``."""
    if isinstance(layer, int):
        return layer, {}
    return -1, {"layers": [int(i) for i in layer]}


def task_label(row: dict[str, Any]) -> str:
    """A row's task as tables show it: the task name, with ``@L<layer>`` when states come from a hidden layer
    other than the last (``@L8+9+10`` for a mix of layers)."""
    layer = row.get("layer", -1)
    if isinstance(layer, list):
        return f"{row['task']}@L" + "+".join(str(i) for i in layer)
    return row["task"] if layer == -1 else f"{row['task']}@L{layer}"


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
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_description(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "command": command}


def script_command(argv: Sequence[str] | None = None) -> str:
    """The command line of a benchmark script (``argv``, or the process's arguments when ``None``)."""
    import shlex
    import sys

    return "python " + shlex.join([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])


def write_json(path: str | Path, command: str, **payload: Any) -> None:
    """``{"header": run_header(command), **payload}`` as indented JSON at ``path``, written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"header": run_header(command), **payload}, indent=2))


def run_benchmark(
    backbones: Sequence[str],
    tasks: Sequence[str],
    methods: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    output: str | Path = "benchmarks/results/suite",
    epochs: int = 3,
    lrs: Sequence[float] = (2e-4,),
    batch_size: int = 32,
    max_length: int = 128,
    max_train: int | None = None,
    max_eval: int | None = None,
    layers: Sequence[LayerSpec] = (-1,),
    glot: dict[str, Any] | None = None,
    task_options: dict[str, dict[str, Any]] | None = None,
    threads: int = 1,
    command: str = "",
    only_finished: bool = False,
    cache_dtype: str = "float16",
) -> list[dict[str, Any]]:
    """Train every (backbone, task, method, seed) cell, skipping finished ones; write JSON, Markdown and a plot.

    Args:
        methods: pooling methods; ``None`` picks :func:`default_methods` per backbone.
        lrs: learning rates to try for every method; selection is on validation (see the module docstring).
        max_train: cap on training examples per task (see ``TrainConfig.max_train``), for quick runs.
        max_eval: cap on validation and test examples per task (see ``TrainConfig.max_eval``).
        layers: hidden layers whose states feed the pooling (``-1``: the last; see ``TrainConfig.layer``); every
            task runs on each. A list entry that is itself a list of layers is one cell of mixed layers
            (``GlotPooling(layers=...)``, for every method).
        glot: GlotPooling options for the ``glot`` method.
        task_options: per task name, keyword arguments for its loader (e.g. ``{"sst2": {"dataset": path}}``).
        command: the command line, recorded in the results.
        only_finished: train nothing; report the cells whose run folder holds a finished run (to read the
            results of a benchmark that is still running, or was stopped).
        cache_dtype: storage of the cached token states (``TrainConfig.cache_dtype``); ``"float32"`` for states
            beyond float16's range.
    Returns:
        One row per cell (backbone, task, layer, method, lr, seed, metric, validation, test, epoch, times, and
        ``run``, the run folder's name, which identifies the cell's whole configuration).

    A finished cell is never trained again: its row is read back from the run folder, or from an earlier
    ``suite.json`` in ``output`` with the same ``run`` (so committed results resume a benchmark on a machine
    without the run folders). ``suite.json`` is rewritten after every cell, the Markdown and the plots
    whenever a (backbone, task, layer) is complete, so an interrupted benchmark loses nothing it finished.
    """
    from sentence_transformers_glot.data import load_task

    output = Path(output)
    rows: list[dict[str, Any]] = []
    if not lrs or any(not lr > 0 for lr in lrs):
        raise ValueError(f"run_benchmark: `lrs` must be a non-empty list of positive learning rates; got {lrs!r}.")
    if not layers:
        raise ValueError("run_benchmark: `layers` must name at least one layer (-1: the last).")
    for method in methods or ():
        method_pooling(method, glot)  # an unknown method fails before any training
    layers = [layer if isinstance(layer, int) else [int(i) for i in layer] for layer in layers]
    cells = [(b, t, layer, m, lr, s) for b in backbones for t in tasks for layer in layers
             for m in (methods or default_methods(b)) for lr in lrs for s in seeds]
    saved = output / "suite.json"
    earlier = {row["run"]: row for row in (json.loads(saved.read_text())["cells"] if saved.is_file() else [])
               if "run" in row}
    loaded: dict[str, TaskData] = {}
    for number, (backbone, task_name, layer, method, lr, seed) in enumerate(tqdm(cells, desc="benchmark", unit="run")):
        pooling, options = method_pooling(method, glot)
        hidden_layer, mix = layer_options(layer)
        config = TrainConfig(backbone=backbone, task=task_name, pooling=pooling, glot={**options, **mix}, epochs=epochs,
                             lr=lr, batch_size=batch_size, max_length=max_length, layer=hidden_layer, seed=seed,
                             threads=threads, max_train=max_train, max_eval=max_eval, cache_dtype=cache_dtype,
                             task_options=(task_options or {}).get(task_name, {}))
        run = run_name(config, method)
        count = len(rows)
        if run in earlier:
            rows.append(earlier[run])
        elif not only_finished or (output / "runs" / run / "metrics.json").is_file():
            if task_name not in loaded:
                loaded[task_name] = load_task(task_name, **(task_options or {}).get(task_name, {}))
            result = train(config, output / "runs" / run, task=loaded[task_name], export=False)
            rows.append({"backbone": backbone, "task": task_name, "layer": layer, "method": method, "lr": lr,
                         "seed": seed, "metric": result.metric,
                         "validation": result.validation, "test": result.test, "best_epoch": result.best_epoch,
                         "train_seconds": result.train_seconds, "trainable_parameters": result.trainable_parameters,
                         "run": run})
        group_done = number + 1 == len(cells) or cells[number + 1][:3] != (backbone, task_name, layer)
        if rows and (group_done or len(rows) > count):  # this cell added a row, or its group is complete
            write_results(rows, output, command, figures=group_done)
    return rows


#: The paper's learning rate: the *paper* protocol trains every method at it (3 epochs, batch 32, AdamW).
PAPER_LR = 2e-4
#: ``paper``: every method at :data:`PAPER_LR`; ``tuned``: every method at its best learning rate on validation.
PROTOCOLS = ("paper", "tuned")
#: Margins with a two-sided paired p-value below this are marked significant.
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Summary:
    """One (backbone, task, method): the selected learning rate and its test mean and std over seeds."""

    lr: float | None  # None: rows written before learning-rate grids
    mean: float
    std: float
    seeds: int
    validation: dict[float | None, float]  # mean validation score over seeds, per learning rate tried
    test_by_seed: dict[int, float] = field(default_factory=dict)  # the selected learning rate's test scores


def aggregate(rows: list[dict[str, Any]], protocol: str = "tuned") -> dict[tuple[str, str, str], Summary]:
    """(backbone, task, method) -> :class:`Summary` under ``protocol``.

    ``tuned``: the learning rate with the best mean validation score over seeds; ``paper``: :data:`PAPER_LR`
    (methods never run at it are left out). Rows without an ``lr`` (results written before learning-rate
    grids) count as one learning rate, and as the paper's.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"aggregate: `protocol` must be one of {PROTOCOLS}; got {protocol!r}.")
    groups: dict[tuple[str, str, str], dict[float, list[dict[str, Any]]]] = {}
    for row in rows:
        key = (row["backbone"], task_label(row), row["method"])
        groups.setdefault(key, {}).setdefault(row.get("lr"), []).append(row)
    out = {}
    for key, by_lr in groups.items():
        validation = {lr: float(np.mean([r["validation"] for r in cell])) for lr, cell in by_lr.items()}
        if protocol == "tuned":
            lr = max(validation, key=validation.get)
        else:
            lr = next((lr for lr in by_lr if lr is None or np.isclose(lr, PAPER_LR)), "missing")
            if lr == "missing":
                continue
        test = [r["test"] for r in by_lr[lr]]
        out[key] = Summary(lr, float(np.mean(test)), float(np.std(test, ddof=1)) if len(test) > 1 else 0.0,
                           len(test), validation, {r["seed"]: r["test"] for r in by_lr[lr]})
    return out


@dataclass(frozen=True)
class Margin:
    """A GLOT method against the best baseline of a (backbone, task) under one protocol.

    ``baseline`` is the baseline with the highest mean test score (the hardest one for GLOT to beat);
    ``margin`` the mean over the seeds both ran of GLOT's score minus the baseline's (same seed, same split);
    ``p`` the two-sided paired t-test p-value over those seeds (``nan`` with fewer than 2 seeds, or when all
    differences are equal).
    """

    method: str
    baseline: str
    margin: float
    std: float
    seeds: int
    p: float

    @property
    def significant(self) -> bool:
        return bool(self.p < SIGNIFICANCE)


def margins(rows: list[dict[str, Any]], protocol: str = "tuned") -> dict[tuple[str, str, str], Margin]:
    """(backbone, task, GLOT method) -> :class:`Margin` over the best baseline, for every GLOT method
    (``glot``, ``glot-<conv>``) and every (backbone, task) that also has a baseline."""
    from scipy.stats import ttest_rel

    summary = aggregate(rows, protocol)
    out = {}
    for backbone, task in dict.fromkeys((b, t) for b, t, _ in summary):
        cells = {m: cell for (b, t, m), cell in summary.items() if (b, t) == (backbone, task)}
        baselines = {m: cell for m, cell in cells.items() if not is_glot(m)}
        if not baselines:
            continue
        baseline = max(baselines, key=lambda m: baselines[m].mean)
        for method, cell in cells.items():
            if not is_glot(method):
                continue
            seeds = sorted(set(cell.test_by_seed) & set(baselines[baseline].test_by_seed))
            ours = np.array([cell.test_by_seed[s] for s in seeds])
            theirs = np.array([baselines[baseline].test_by_seed[s] for s in seeds])
            difference = ours - theirs
            p = float(ttest_rel(ours, theirs).pvalue) if len(seeds) > 1 and np.ptp(difference) > 0 else float("nan")
            out[(backbone, task, method)] = Margin(
                method, baseline, float(difference.mean()) if seeds else float("nan"),
                float(difference.std(ddof=1)) if len(seeds) > 1 else 0.0, len(seeds), p)
    return out


def _ordered(methods) -> list[str]:
    """Methods in the order of :func:`default_methods` (others after them, in first-seen order)."""
    order = (*ENCODER_METHODS, "last")
    seen = list(dict.fromkeys(methods))
    return sorted(seen, key=lambda m: (order.index(m) if m in order else len(order), seen.index(m)))


def is_glot(method: str) -> bool:
    """Whether a benchmark method is GLOT (``glot`` or ``glot-<conv>``, with any ``+options``) rather than a
    baseline."""
    base = method.split("+")[0]
    return base == "glot" or base.startswith("glot-")


def markdown_tables(rows: list[dict[str, Any]], protocol: str = "tuned", tasks_as_rows: bool = False) -> str:
    """One Markdown table per backbone under ``protocol``: methods as rows and tasks as columns (or the other
    way round with ``tasks_as_rows``, for many tasks), test mean +- std over seeds (tuned: with the learning
    rate chosen on validation, when more than one was tried); best per task in bold; a cell with fewer
    seeds than the most in its table says how many."""
    summary = aggregate(rows, protocol)
    metrics = {task_label(row): row["metric"] for row in rows}
    out = []
    for backbone in dict.fromkeys(r["backbone"] for r in rows):
        tasks = [t for t in dict.fromkeys(task_label(r) for r in rows if r["backbone"] == backbone)
                 if any(key[:2] == (backbone, t) for key in summary)]
        methods = _ordered(r["method"] for r in rows if r["backbone"] == backbone)
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
            shown = f"{cell.mean:.2f} ± {cell.std:.2f}" if cell.seeds > 1 else f"{cell.mean:.2f}"
            shown = f"**{shown}**" if cell.mean == best[t] else shown
            shown = f"{shown} ({cell.lr:g})" if grid else shown
            return shown + (f" [{cell.seeds} seeds]" if cell.seeds < most else "")

        out.append(f"**{backbone}**, {protocol} protocol (test, mean ± std over seeds{note})\n")
        if tasks_as_rows:
            out.append("| task | " + " | ".join(methods) + " |")
            out.append("|---|" + "---|" * len(methods))
            out += [f"| {t} ({metrics[t]}) | " + " | ".join(text(t, m) for m in methods) + " |" for t in tasks]
        else:
            out.append("| method | " + " | ".join(f"{t} ({metrics[t]})" for t in tasks) + " |")
            out.append("|---|" + "---|" * len(tasks))
            out += [f"| {m} | " + " | ".join(text(t, m) for t in tasks) + " |" for m in methods]
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
           f"p < {SIGNIFICANCE}.\n",
           "| backbone | task | method | " + " | ".join(PROTOCOLS) + " |", "|---|---|---|" + "---|" * len(PROTOCOLS)]
    for backbone, task, method in keys:
        cells = []
        for protocol in PROTOCOLS:
            m = by_protocol[protocol].get((backbone, task, method))
            if m is None:
                cells.append("")
                continue
            text = f"{m.margin:+.2f} ± {m.std:.2f}"
            cells.append(f"{f'**{text}**' if m.significant else text} (vs {m.baseline}, p {m.p:.2g})")
        out.append(f"| {Path(backbone).name} | {task} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def plot_margins(rows: list[dict[str, Any]], path: Path) -> bool:
    """Bars of GLOT's margin over the best baseline per (backbone, task), one panel per protocol, error bars
    the std of the per-seed differences, ``*`` over significant margins. Returns False when there is none."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
                "std": cell.std, "seeds": cell.seeds,
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
    plot(rows, output / "suite.png")
    plot_margins(rows, output / "margins.png")
