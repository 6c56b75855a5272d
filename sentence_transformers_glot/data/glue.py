"""GLUE tasks from the Hugging Face hub (``nyu-mll/glue``) or a local copy, through the ``datasets`` package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from sentence_transformers_glot.data.splits import (
    DEFAULT_SEED,
    LabelledRows,
    assemble_task,
    carve_validation,
    non_default_options,
    split_sizes,
    task_version,
)
from sentence_transformers_glot.data.tasks import Metric, Objective, TaskData
from sentence_transformers_glot.data.user_files import check_pair

GLUE_HUB_ID = "nyu-mll/glue"


# --------------------------------------------------------------------------------------------------------------
# GLUE
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GlueSpec:
    columns: tuple[str, ...]
    objective: Objective
    metric: Metric
    label_names: tuple[str, ...] | None
    test_split: str = "validation"


GLUE_TASKS: Mapping[str, _GlueSpec] = MappingProxyType({
    "cola": _GlueSpec(("sentence",), "classification", "mcc", ("unacceptable", "acceptable")),
    "sst2": _GlueSpec(("sentence",), "classification", "accuracy", ("negative", "positive")),
    "stsb": _GlueSpec(("sentence1", "sentence2"), "regression", "spearman", None),
    "mrpc": _GlueSpec(("sentence1", "sentence2"), "classification", "f1", ("not_equivalent", "equivalent")),
    "qqp": _GlueSpec(("question1", "question2"), "classification", "f1", ("not_duplicate", "duplicate")),
    "mnli": _GlueSpec(("premise", "hypothesis"), "classification", "accuracy",
                      ("entailment", "neutral", "contradiction"), test_split="validation_matched"),
    "qnli": _GlueSpec(("question", "sentence"), "classification", "accuracy", ("entailment", "not_entailment")),
    "rte": _GlueSpec(("sentence1", "sentence2"), "classification", "accuracy", ("entailment", "not_entailment")),
    "wnli": _GlueSpec(("sentence1", "sentence2"), "classification", "accuracy", ("not_entailment", "entailment")),
})


def _glue_from_hub(config: str) -> Any:
    try:
        import datasets
    except ImportError:
        raise ImportError(f"GLUE task {config!r} needs the `datasets` package: pip install datasets "
                          "(or pass dataset= with a local copy)") from None
    try:
        return datasets.load_dataset(GLUE_HUB_ID, config)
    except Exception as error:  # the hub's errors vary by version: wrap them all with the way out
        raise RuntimeError(
            f"could not load GLUE {config!r} ({GLUE_HUB_ID}) from the Hugging Face hub: {type(error).__name__}: "
            f"{error}. GLUE needs internet access to the hub once (datasets caches it), or pass dataset= a "
            "DatasetDict or a folder written by DatasetDict.save_to_disk") from error


def _glue_from_disk(path: Path, config: str) -> Any:
    if not path.is_dir():
        raise ValueError(f"dataset={str(path)!r} for GLUE {config!r} is not a folder (expected one written by "
                         "DatasetDict.save_to_disk)")
    try:
        import datasets
    except ImportError:
        raise ImportError("loading a saved GLUE copy needs the `datasets` package: pip install datasets") from None
    return datasets.load_from_disk(str(path))


def _columns_of(split: Any) -> list[str]:
    names = getattr(split, "column_names", None)
    return list(names) if names is not None else list(split)


def _glue_rows(data: Any, split_name: str, config: str, spec: _GlueSpec) -> LabelledRows:
    if split_name not in data:
        raise ValueError(f"GLUE {config!r}: the data has no {split_name!r} split (it has {list(data)})")
    split = data[split_name]
    present = _columns_of(split)
    missing = [column for column in (*spec.columns, "label") if column not in present]
    if missing:
        raise ValueError(f"GLUE {config!r} {split_name!r} split lacks column(s) {missing}; its columns are {present}")
    texts = [list(split[column]) for column in spec.columns]
    labels = np.asarray(list(split["label"]), dtype=np.float32 if spec.objective == "regression" else np.int64)
    check_pair(texts[0], texts[1] if len(texts) > 1 else None, lambda row: f"{split_name!r} row {row}", spec.columns)
    if len(labels) != len(texts[0]):
        raise ValueError(f"GLUE {config!r} {split_name!r}: {len(labels)} labels for {len(texts[0])} texts")
    if spec.objective == "classification" and len(labels) and labels.min() < 0:
        raise ValueError(f"GLUE {config!r} {split_name!r} split has hidden labels (-1): it cannot be used for training "
                         "or evaluation")
    if spec.objective == "regression" and not np.isfinite(labels).all():
        row = int(np.flatnonzero(~np.isfinite(labels))[0])
        raise ValueError(f"GLUE {config!r} {split_name!r}: label is NaN or infinite at row {row}")
    return LabelledRows(texts[0], labels, texts[1] if len(texts) > 1 else None)


def _glue_label_names(data: Any, spec: _GlueSpec) -> list[str] | None:
    features = getattr(data["train"], "features", None)
    names = getattr(features.get("label"), "names", None) if features is not None else None
    if names:
        return list(names)
    return list(spec.label_names) if spec.label_names else None


def load_glue(config: str, *, dataset: Any = None, seed: int = DEFAULT_SEED) -> TaskData:
    spec = GLUE_TASKS[config]
    if dataset is None:
        data, origin = _glue_from_hub(config), f"{GLUE_HUB_ID} on the Hugging Face hub"
    elif isinstance(dataset, (str, os.PathLike)):
        data, origin = _glue_from_disk(Path(dataset), config), f"a local copy in {os.fspath(dataset)}"
    else:
        data, origin = dataset, "a DatasetDict passed as dataset="
    train, validation = carve_validation(_glue_rows(data, "train", config, spec), spec.objective, seed)
    test = _glue_rows(data, spec.test_split, config, spec)
    splits = {"train": train, "validation": validation, "test": test.take(np.arange(len(test)))}
    label_names = _glue_label_names(data, spec) if spec.objective == "classification" else None
    description = (
        f"GLUE {config} from {origin} (licences vary by GLUE task; see gluebenchmark.com). GLUE's test labels are "
        f"hidden, so test = the official {spec.test_split} split and validation = a seeded (seed {seed}) 10% of the "
        f"official train split{', stratified by class' if spec.objective == 'classification' else ''}, ranked by "
        f"SHA-256 of seed and text. Sizes {split_sizes(splits)}. Metric: {spec.metric}.")
    options = non_default_options(seed, dataset=None if dataset is None else "local")
    return assemble_task(
        config, spec.objective, spec.metric, splits, label_names, description, task_version(1, options),
        {"seed": seed, "source": origin, "official_test": spec.test_split})
