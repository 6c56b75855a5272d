"""Seeded, order-independent train/validation/test splits and the assembly of a :class:`TaskData`.

Rows are ranked by the SHA-256 of ``"split\\x1f<seed>\\x1f<text>"``; each class is cut at 10% and 20% of its
ranks (validation, test; the rest is train). :data:`SPLIT_LOGIC_VERSION` changes whenever this logic changes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sentence_transformers_glot.data.tasks import SPLITS, Metric, Objective, Split, TaskData

#: The default seed of every split and subsample.
DEFAULT_SEED = 13
#: Part of every ``TaskData.version``: bump it whenever the split logic changes.
SPLIT_LOGIC_VERSION = 1
#: Fraction of rows in the validation and in the test split where a data set has no official split.
HELD_OUT_FRACTION = 0.1


# --------------------------------------------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------------------------------------------


def hash_rank(keys: Sequence[str], seed: int, salt: str = "split") -> np.ndarray:
    """Row indices ordered by SHA-256 of ``salt, seed, key`` (ties by index): a seeded, order-free shuffle."""
    def value(key: str) -> int:
        digest = hashlib.sha256(f"{salt}\x1f{seed}\x1f{key}".encode("utf-8", "surrogatepass")).digest()
        return int.from_bytes(digest[:8], "big")

    values = np.fromiter((value(key) for key in keys), dtype=np.uint64, count=len(keys))
    return np.lexsort((np.arange(len(keys)), values))


def _held_out_count(n: int, fraction: float) -> int:
    return int(math.floor(n * fraction + 0.5))


def _carve(keys: Sequence[str], strata: np.ndarray | None, seed: int,
           parts: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Split row indices into ``parts`` (name -> fraction, taken in order) plus ``"train"`` (the rest).

    Rows are ranked by :func:`hash_rank`; with ``strata`` each stratum is cut separately. Every returned
    split lists its rows in rank order.
    """
    rank = hash_rank(keys, seed)
    position = np.empty(len(keys), dtype=np.int64)
    position[rank] = np.arange(len(keys))
    groups = [rank] if strata is None else [rank[strata[rank] == value] for value in np.unique(strata)]
    chosen: dict[str, list[np.ndarray]] = {name: [] for name in [*parts, "train"]}
    for members in groups:
        start = 0
        for name, fraction in parts.items():
            count = _held_out_count(len(members), fraction)
            chosen[name].append(members[start:start + count])
            start += count
        chosen["train"].append(members[start:])
    result = {}
    for name in sorted(chosen, key=lambda name: SPLITS.index(name) if name in SPLITS else len(SPLITS)):
        rows = np.concatenate(chosen[name]) if chosen[name] else np.empty(0, dtype=np.int64)
        result[name] = rows[np.argsort(position[rows], kind="stable")]
    return result


def split_80_10_10(keys: Sequence[str], strata: np.ndarray | None, seed: int) -> dict[str, np.ndarray]:
    return _carve(keys, strata, seed, {"validation": HELD_OUT_FRACTION, "test": HELD_OUT_FRACTION})


def _pair_keys(texts: Sequence[str], texts_b: Sequence[str] | None) -> list[str]:
    return list(texts) if texts_b is None else [f"{a}\x1f{b}" for a, b in zip(texts, texts_b)]


# --------------------------------------------------------------------------------------------------------------
# Building a TaskData
# --------------------------------------------------------------------------------------------------------------


@dataclass
class LabelledRows:
    """Texts (and second texts) with their targets, before splitting."""

    texts: list[str]
    labels: np.ndarray
    texts_b: list[str] | None = None

    def subset(self, rows: np.ndarray) -> LabelledRows:
        rows = np.asarray(rows, dtype=np.int64)
        return LabelledRows([self.texts[i] for i in rows], self.labels[rows].copy(),
                     None if self.texts_b is None else [self.texts_b[i] for i in rows])

    def take(self, rows: np.ndarray) -> Split:
        subset = self.subset(rows)
        return Split(texts=subset.texts, labels=subset.labels, texts_b=subset.texts_b)

    def keys(self) -> list[str]:
        return _pair_keys(self.texts, self.texts_b)

    def __len__(self) -> int:
        return len(self.texts)


def split_by_rank(rows: LabelledRows, objective: Objective, seed: int) -> dict[str, Split]:
    strata = rows.labels if objective == "classification" else None
    return {name: rows.take(index) for name, index in split_80_10_10(rows.keys(), strata, seed).items()}


def carve_validation(train: LabelledRows, objective: Objective, seed: int) -> tuple[Split, Split]:
    """(train, validation): a seeded, stratified 10% of an official train split becomes validation."""
    strata = train.labels if objective == "classification" else None
    parts = _carve(train.keys(), strata, seed, {"validation": HELD_OUT_FRACTION})
    return train.take(parts["train"]), train.take(parts["validation"])


def split_sizes(splits: Mapping[str, Split]) -> str:
    return "/".join(f"{len(splits[name]):,}" for name in SPLITS) + " (train/validation/test)"


def _check_splits(name: str, splits: Mapping[str, Split]) -> None:
    total = sum(len(split) for split in splits.values())
    if total == 0:
        raise ValueError(f"task {name!r} has no examples")
    for split_name in SPLITS:
        if len(splits[split_name]) == 0:
            raise ValueError(f"task {name!r}: the {split_name!r} split is empty ({total} examples in all); every split "
                             "needs examples: use more data, or give a split column that names all three splits")


def task_version(data_version: int | str, options: Mapping[str, Any]) -> str:
    """``<split logic>.<data version>`` plus ``+key=value`` for each non-default option."""
    suffix = "".join(f"+{key}={value}" for key, value in sorted(options.items()))
    return f"{SPLIT_LOGIC_VERSION}.{data_version}{suffix}"


def non_default_options(seed: int, **others: Any) -> dict[str, Any]:
    options = {key: value for key, value in others.items() if value is not None}
    if seed != DEFAULT_SEED:
        options["seed"] = seed
    return options


def assemble_task(name: str, objective: Objective, metric: Metric, splits: dict[str, Split],
                  label_names: list[str] | None, description: str, version: str, extra: dict[str, Any]) -> TaskData:
    """A checked :class:`TaskData` (every split non-empty; classes counted when not named)."""
    _check_splits(name, splits)
    num_labels = len(label_names) if objective == "classification" and label_names else None
    if objective == "classification" and num_labels is None:
        num_labels = int(max(int(split.labels.max()) for split in splits.values() if len(split)) + 1)
    return TaskData(name=name, objective=objective, metric=metric, num_labels=num_labels, splits=splits,
                    label_names=label_names, description=description, version=version, extra=extra)


def dedupe(texts: Sequence[str], labels: Sequence[Any]) -> tuple[np.ndarray, int, int]:
    """Rows to keep: the first of each exact-duplicate text whose copies agree on the label, none if they disagree.

    Returns (kept row indices in file order, rows dropped as repeats, rows dropped for conflicting labels).
    """
    groups: dict[str, list[int]] = {}
    for row, text in enumerate(texts):
        groups.setdefault(text, []).append(row)
    keep, repeats, conflicts = [], 0, 0
    for rows in groups.values():
        if len({labels[row] for row in rows}) > 1:
            conflicts += len(rows)
        else:
            keep.append(rows[0])
            repeats += len(rows) - 1
    return np.sort(np.asarray(keep, dtype=np.int64)), repeats, conflicts
