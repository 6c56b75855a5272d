"""Training a pooling module and a task head on a frozen backbone, from the hidden-state cache.

- :mod:`.config`: :class:`TrainConfig`, :class:`RunResult`, :func:`run_name` (torch-free).
- :mod:`.cache`: the on-disk hidden-state cache (:class:`~.cache.StateCache`).
- :mod:`.heads`: task heads (classification, pairs, regression, similarity, contrastive).
- :mod:`.metrics`: the task metrics.
- :mod:`.inputs`: a run's task and token states; :mod:`.model`: its pooling and head.
- :mod:`.run`: :func:`train` (resumable, deterministic, data-parallel under ``torchrun``); :mod:`.loop`: the
  optimisation loop; :mod:`.evaluate`: :func:`evaluate`, predictions and the collapse guard.
- :mod:`.export`: the trained model as a sentence-transformers folder with its head.

The names below load lazily, so that the command line can read :mod:`.config` without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["POOLINGS", "RunResult", "TrainConfig", "evaluate", "run_name", "train"]

_PUBLIC = {"POOLINGS": "config", "RunResult": "config", "TrainConfig": "config", "run_name": "run_identity",
           "evaluate": "evaluate", "train": "run"}

if TYPE_CHECKING:
    from sentence_transformers_glot.training.config import POOLINGS, RunResult, TrainConfig
    from sentence_transformers_glot.training.evaluate import evaluate
    from sentence_transformers_glot.training.run import train
    from sentence_transformers_glot.training.run_identity import run_name


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
