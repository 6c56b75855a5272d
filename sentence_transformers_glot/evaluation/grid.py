"""One grid runner for the benchmark and the stress test: every cell is one training run in its own folder.

A cell whose run folder holds ``metrics.json`` is read back and never trained again, so an interrupted grid
resumes where it stopped (an unfinished cell resumes from its checkpoint). :func:`mean_std` is the one
summary over seeds both reports print (``mean ± std``, sample std, ``0`` for one seed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers_glot.backbones.record import BackboneRecord
    from sentence_transformers_glot.data import TaskData
    from sentence_transformers_glot.training.cache import StateCache
    from sentence_transformers_glot.training.config import RunResult, TrainConfig


def run_cell(
    config: TrainConfig,
    run_dir: str | Path,
    task: Callable[[], TaskData],
    *,
    cache: StateCache | None = None,
    train_missing: bool = True,
    backbone: BackboneRecord | None = None,
) -> tuple[RunResult | None, bool]:
    """``(result, resumed)`` of one grid cell: read back when finished, else trained (without export).

    Args:
        config: the cell's run.
        run_dir: its run folder (see :func:`~sentence_transformers_glot.training.run_name`).
        task: returns the task's data; called only when the cell has to train (loading can be slow).
        cache: the hidden-state cache (default: the user cache).
        train_missing: ``False`` reads finished cells only and returns ``(None, False)`` for the others.
        backbone: the grid's record of the cell's backbone (made once per grid), passed on to ``train``.
    """
    from sentence_transformers_glot.training.config import finished_result

    result = finished_result(run_dir)
    if result is not None:
        return result, True
    if not train_missing:
        return None, False
    from sentence_transformers_glot.training import train  # looked up at call time (tests patch it)

    kwargs = {} if backbone is None else {"backbone": backbone}
    return train(config, run_dir, task=task(), cache=cache, export=False, **kwargs), False


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``; ``0.0`` for a single value)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def format_mean_std(mean: float, std: float, seeds: int, digits: int = 1) -> str:
    """``"71.2 ± 0.8"``, or ``"71.2"`` for one seed."""
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if seeds > 1 else f"{mean:.{digits}f}"
