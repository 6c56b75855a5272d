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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from sentence_transformers_glot.backbones.record import BackboneRecord
from sentence_transformers_glot.data import TaskData
from sentence_transformers_glot.evaluation.grid import run_cell
from sentence_transformers_glot.evaluation.methods import (
    LayerSpec,
    check_options_taken,
    default_methods,
    layer_options,
    method_pooling,
)
from sentence_transformers_glot.evaluation.suite_report import write_results
from sentence_transformers_glot.io import read_json
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.run_identity import run_name


def run_benchmark(
    backbones: Sequence[str],
    tasks: Sequence[str],
    methods: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    lrs: Sequence[float] = (2e-4,),
    layers: Sequence[LayerSpec] = (-1,),
    template: TrainConfig | None = None,
    output: str | Path = "benchmarks/results/suite",
    task_options: dict[str, dict[str, Any]] | None = None,
    command: str = "",
    only_finished: bool = False,
) -> list[dict[str, Any]]:
    """Train every (backbone, task, method, seed) cell, skipping finished ones; write JSON, Markdown and a plot.

    Args:
        methods: pooling methods; ``None`` picks :func:`default_methods` per backbone.
        lrs: learning rates to try for every method; selection is on validation (see the module docstring).
        layers: hidden layers whose states feed the pooling (``-1``: the last; see ``TrainConfig.layer``); every
            task runs on each. A list entry that is itself a list of layers is one cell of mixed layers
            (``GlotPooling(layers=...)``, for every method).
        template: every cell's :class:`TrainConfig` but for what the grid sets (backbone, task, pooling and its
            options, lr, layer, seed, task options): epochs, batch size, max length, samples (``max_train``,
            ``max_eval``), warm-up, clipping, heads, threads, cache dtype. Its GLOT options (``template.glot``,
            of pooling ``"glot"``) are the GLOT methods' base options; a baseline takes those it has. ``None``:
            TrainConfig's defaults.
        task_options: per task name, keyword arguments for its loader (e.g. ``{"sst2": {"dataset": path}}``).
        command: the command line, recorded in the results.
        only_finished: train nothing; report the cells whose run folder holds a finished run.
    Returns one row per cell (backbone, task, layer, method, lr, seed, metric, validation, test, epoch, times,
    ``run``, the run folder's name, which identifies the cell's whole configuration, and ``collapsed``).

    A finished cell is never trained again: its row is read back from the run folder, or from an earlier
    ``suite.json`` in ``output`` with the same ``run`` (committed results resume a benchmark without the run
    folders). ``suite.json`` is rewritten after every cell that trains, with every row finished so far or found
    in the earlier ``suite.json`` (this plan's in the cells' order, then those of other plans), and the Markdown
    and plots whenever a (backbone, task, layer) is complete: a benchmark loses nothing it finished or found.
    """
    output = Path(output)
    cells, configs, records = _plan(backbones, tasks, methods, seeds, lrs, layers, template, task_options)
    runs = [run_name(config, cell[3], records[cell[0]]) for cell, config in zip(cells, configs)]
    saved = output / "suite.json"
    earlier = {row["run"]: row for row in (read_json(saved)["cells"] if saved.is_file() else [])
               if "run" in row}
    # one row per cell, in the cells' order, then the rows of other plans (another --tasks into the same folder):
    # a run never leaves a suite.json with fewer rows than it started from
    found: dict[str, dict[str, Any]] = {run: earlier[run] for run in runs if run in earlier}
    others = [row for run, row in earlier.items() if run not in found]
    tasks_once = _TaskLoader(task_options)
    for number, (cell, config, run) in enumerate(tqdm(list(zip(cells, configs, runs)), desc="benchmark", unit="run")):
        trained = False
        if run not in earlier:
            result, _ = run_cell(config, output / "runs" / run, lambda name=cell[1]: tasks_once(name),
                                 train_missing=not only_finished, backbone=records[cell[0]])
            if result is not None:
                trained, found[run] = True, _row(cell, run, result)
        group_done = number + 1 == len(cells) or cells[number + 1][:3] != cell[:3]
        if found and (group_done or trained):  # this cell added a row, or its group is complete
            write_results([found[r] for r in runs if r in found] + others, output, command, figures=group_done)
    return [found[run] for run in runs if run in found]  # every cell has been reached


def _plan(backbones: Sequence[str], tasks: Sequence[str], methods: Sequence[str] | None, seeds: Sequence[int],
          lrs: Sequence[float], layers: Sequence[LayerSpec], template: TrainConfig | None,
          task_options: dict[str, dict[str, Any]] | None) -> tuple[list[Cell], list[TrainConfig], dict]:
    """Every cell of the grid, in order, with its config, and each backbone's record (made once); every check
    that can fail (learning rates, layers, methods and the options they take) fails here, before any run."""
    if not lrs or any(not lr > 0 for lr in lrs):
        raise ValueError(f"run_benchmark: `lrs` must be a non-empty list of positive learning rates; got {lrs!r}.")
    if not layers:
        raise ValueError("run_benchmark: `layers` must name at least one layer (-1: the last).")
    template = template or TrainConfig()
    if template.pooling != "glot":
        raise ValueError("run_benchmark: `template` holds the GLOT methods' options: build it with pooling='glot' "
                         f"(the default); got pooling={template.pooling!r}.")
    glot = template.glot.changes("glot")
    for method in methods or ():
        method_pooling(method, glot)  # an unknown method fails before any training
    if methods:
        check_options_taken(methods, glot)
    layers = [layer if isinstance(layer, int) else [int(i) for i in layer] for layer in layers]
    records = {b: BackboneRecord.of(b) for b in backbones}  # each backbone worked out once, for every cell
    cells = [(b, t, layer, m, lr, s) for b in backbones for t in tasks for layer in layers
             for m in (methods or default_methods(records[b])) for lr in lrs for s in seeds]
    return cells, [_cell_config(cell, glot, template, task_options) for cell in cells], records


class _TaskLoader:
    """Each task's data, loaded once and only when a cell of it trains (loading can be slow)."""

    def __init__(self, task_options: dict[str, dict[str, Any]] | None) -> None:
        self.options, self.loaded = task_options or {}, {}

    def __call__(self, name: str) -> TaskData:
        from sentence_transformers_glot.data import load_task

        if name not in self.loaded:
            self.loaded[name] = load_task(name, **self.options.get(name, {}))
        return self.loaded[name]


def _row(cell: Cell, run: str, result: Any) -> dict[str, Any]:
    """A finished cell's row of ``suite.json``."""
    backbone, task_name, layer, method, lr, seed = cell
    return {"backbone": backbone, "task": task_name, "layer": layer, "method": method, "lr": lr, "seed": seed,
            "metric": result.metric, "validation": result.validation, "test": result.test,
            "best_epoch": result.best_epoch, "train_seconds": result.train_seconds,
            "trainable_parameters": result.trainable_parameters, "run": run, "collapsed": result.collapsed}


#: One benchmark cell: (backbone, task, layer, method, learning rate, seed).
Cell = tuple[str, str, LayerSpec, str, float, int]


def _cell_config(cell: Cell, glot: dict[str, Any], template: TrainConfig,
                 task_options: dict[str, dict[str, Any]] | None) -> TrainConfig:
    """The :class:`TrainConfig` of one (backbone, task, layer, method, lr, seed) cell: ``template`` with the
    cell's own settings."""
    backbone, task_name, layer, method, lr, seed = cell
    pooling, options = method_pooling(method, glot)
    hidden_layer, mix = layer_options(layer)
    return dataclasses.replace(template, backbone=backbone, task=task_name, pooling=pooling,
                               glot={**options, **mix}, lr=lr, layer=hidden_layer, seed=seed,
                               task_options=(task_options or {}).get(task_name, {}))
