"""Task data as the trainer sees it: texts (or text pairs), targets, and fixed train/validation/test splits.

Loaders for the packaged offline data sets, GLUE and users' CSV/JSONL files live in
:mod:`sentence_transformers_glot.datasets`; they all return a :class:`TaskData`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

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


def subsample_train(task: TaskData, max_train: int | None, seed: int = 13) -> TaskData:
    """``task`` with at most ``max_train`` training examples (a seeded sample; validation and test untouched).

    The sample's size and seed become part of the task's name and version, and so of the cache key.
    """
    train_split = task.splits["train"]
    if max_train is None or len(train_split) <= max_train:
        return task
    keep = np.sort(np.random.default_rng(seed).permutation(len(train_split))[:max_train])
    small = dataclasses.replace(
        train_split, texts=[train_split.texts[i] for i in keep], labels=train_split.labels[keep],
        texts_b=None if train_split.texts_b is None else [train_split.texts_b[i] for i in keep])
    return dataclasses.replace(task, name=f"{task.name}-train{max_train}", splits={**task.splits, "train": small},
                               version=f"{task.version}+train{max_train}s{seed}")
