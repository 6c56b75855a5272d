"""Task data as the trainer sees it: texts (or text pairs), targets, and fixed train/validation/test splits.

Loaders for the packaged offline data sets, GLUE and users' CSV/JSONL files live in
:mod:`sentence_transformers_glot.data`; they all return a :class:`TaskData`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

SPLITS = ("train", "validation", "test")
Objective = Literal["classification", "regression"]
Metric = Literal["accuracy", "f1", "macro_f1", "mcc", "spearman", "pearson"]


@dataclass
class Split:
    """One split: ``texts`` (and ``texts_b`` for pair tasks) with ``labels``.

    ``labels`` is int64 class ids for classification, float32 scores for regression.
    """

    texts: list[str]
    labels: np.ndarray
    texts_b: list[str] | None = None

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class TaskData:
    """A task with its three splits.

    Attributes:
        name: the task's name; part of the hidden-state cache key, so it must identify the data.
        objective: ``"classification"`` or ``"regression"``.
        metric: the reported metric (``accuracy``, ``f1`` (binary, positive class 1), ``macro_f1``, ``mcc``,
            ``spearman``, ``pearson``).
        num_labels: number of classes (classification), ``None`` for regression.
        splits: ``{"train": Split, "validation": Split, "test": Split}``; models are selected on
            validation and reported on test.
        label_names: optional class names, index = class id.
        description: where the data comes from and how the splits were made.
        version: changes whenever the loader's output for this name changes (cache key).
    """

    name: str
    objective: Objective
    metric: Metric
    num_labels: int | None
    splits: dict[str, Split]
    label_names: list[str] | None = None
    description: str = ""
    version: str = "1"
    extra: dict = field(default_factory=dict)

    @property
    def is_pair(self) -> bool:
        return self.splits["train"].texts_b is not None


def _sample(split: Split, size: int, seed: int) -> Split:
    keep = np.sort(np.random.default_rng(seed).permutation(len(split))[:size])
    return dataclasses.replace(
        split, texts=[split.texts[i] for i in keep], labels=split.labels[keep],
        texts_b=None if split.texts_b is None else [split.texts_b[i] for i in keep])


def subsample(task: TaskData, max_train: int | None = None, max_eval: int | None = None, seed: int = 13) -> TaskData:
    """``task`` with at most ``max_train`` training and ``max_eval`` validation and test examples.

    Each cut split is a seeded uniform sample (the same on every machine). The caps and the seed become
    part of the task's name and version, and so of the hidden-state cache key; an uncut task is returned
    unchanged.
    """
    for name, value in (("max_train", max_train), ("max_eval", max_eval)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"subsample: `{name}` must be an int >= 1 or None; got {value!r}.")
    splits, name, version = dict(task.splits), task.name, task.version
    if max_train is not None and len(splits["train"]) > max_train:
        splits["train"] = _sample(splits["train"], max_train, seed)
        name, version = f"{name}-train{max_train}", f"{version}+train{max_train}s{seed}"
    if max_eval is not None and any(len(splits[s]) > max_eval for s in ("validation", "test")):
        for split in ("validation", "test"):
            if len(splits[split]) > max_eval:
                splits[split] = _sample(splits[split], max_eval, seed)
        name, version = f"{name}-eval{max_eval}", f"{version}+eval{max_eval}s{seed}"
    if name == task.name:
        return task
    return dataclasses.replace(task, name=name, splits=splits, version=version)


@dataclass(frozen=True)
class PackagedTask:
    """An offline task, declared beside its loader: its name, the packaged source(s) its data comes from (see
    :data:`sentence_transformers_glot.data.packaged.SOURCES`), the loader and a one-line summary.

    A loader of one source (``source`` a name) gets that source's folder, a loader of several (a tuple of names)
    a mapping ``source name -> folder``; both take the task's options as keywords and return a :class:`TaskData`.
    """

    name: str
    source: str | tuple[str, ...]
    loader: Callable[..., Any]
    summary: str
    objective: Objective = "classification"
    pair: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,) if isinstance(self.source, str) else self.source
