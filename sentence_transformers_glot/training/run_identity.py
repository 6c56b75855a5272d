"""A run's identity, owned here: its config as JSON data (``run_config.json``), the folder name hashed from it,
the data files it reads, and reading a ``run_config.json`` back. Built from the config and the command's record
of the backbone (:class:`~sentence_transformers_glot.backbones.record.BackboneRecord`), so that naming a run reads
no backbone file; the values older runs had come from the one table of
:mod:`sentence_transformers_glot.legacy`. Run names never change: tests/training/test_config.py pins them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentence_transformers_glot.io import sha256_file
from sentence_transformers_glot.legacy import CHANGED_DEFAULTS, POOLING_BEFORE, TRAINING_BEFORE
from sentence_transformers_glot.training.config import TrainConfig

if TYPE_CHECKING:
    from sentence_transformers_glot.backbones.record import BackboneRecord


#: TrainConfig fields added after run folders were first written, with the value that reproduces a run made
#: before them (:data:`~sentence_transformers_glot.legacy.TRAINING_BEFORE`); left out of a run's identity at that
#: value, so older run folders (and their names) stay valid.
_LATER_FIELDS = TRAINING_BEFORE
#: GlotPooling options whose default changed after run folders were first written, with the value that
#: reproduces a run made before: a run's identity holds such an option as what it does for the run's backbone
#: (``input_norm="auto"``: ``"layer"`` on a decoder, ``"none"`` on an encoder), left out at that value.
_LATER_OPTIONS = {name: POOLING_BEFORE[name] for name in CHANGED_DEFAULTS}


def _concrete_options(config: TrainConfig, backbone: BackboneRecord | None = None) -> dict[str, Any]:
    """``config.glot``'s ``"auto"`` options made concrete for the run's backbone: from its ``backbone`` record,
    else read from the backbone (none if it cannot be read)."""
    from sentence_transformers_glot.backbones.registry import is_decoder
    from sentence_transformers_glot.options import resolve_auto_options

    options = dataclasses.asdict(config.glot)
    if "auto" not in (options[name] for name in _LATER_OPTIONS):
        return {}
    if backbone is not None:
        return resolve_auto_options(options, backbone.decoder)
    try:
        decoder = is_decoder(config.backbone)
    except (ValueError, OSError):  # a backbone that cannot be read cannot train either; name it as asked
        return {}
    return resolve_auto_options(options, decoder)


def config_dict(config: TrainConfig, backbone: BackboneRecord | None = None) -> dict[str, Any]:
    """The run's config as JSON data (``run_config.json`` and the run's identity); ``glot`` holds only the options
    that differ from the pooling's own, so that run names stay what they were when ``glot`` was that dict.

    ``input_norm`` and ``conv`` are stored as what they do on the run's backbone (:data:`_LATER_OPTIONS`): an
    encoder's run keeps its name, a decoder's default run is named as one with ``input_norm="layer"`` (and, for
    GLOT, ``conv="gat"``).
    ``head_norm`` is stored as what it does for the run's task where that is known without its data (a packaged
    or GLUE task, or an explicit ``head``): a run whose head does not normalise keeps the name it had before the
    option, one that does gets a new one; for a data file the default is stored as ``null`` (decided when the
    file is read). Read a ``run_config.json`` back with :func:`config_from_dict`. ``backbone``: the command's
    record of the backbone (:class:`~sentence_transformers_glot.backbones.record.BackboneRecord`); without it the
    backbone's config is read here."""
    from sentence_transformers_glot.data.registry import task_head
    from sentence_transformers_glot.options import options_taken

    glot = config.glot.changes(config.pooling)
    concrete = _concrete_options(config, backbone)
    for name, legacy in _LATER_OPTIONS.items():
        value = concrete.get(name, getattr(config.glot, name))
        glot.pop(name, None)
        if value != legacy and name in options_taken(config.pooling):  # a baseline has no conv
            glot[name] = value
    values = {**dataclasses.asdict(config), "glot": glot}
    values["head_norm"] = config.head_norm_for(task_head(config.task))
    for name, default in _LATER_FIELDS.items():
        if values[name] == default:
            del values[name]
    return json.loads(json.dumps(values))


def config_from_dict(values: dict[str, Any]) -> TrainConfig:
    """The config a ``run_config.json`` (:func:`config_dict`) describes: a field it does not hold takes the value
    that reproduces runs made before the field existed (no warm-up, no clipping, no head normalisation, ...), and
    likewise an option whose default changed since (no input normalisation, the SAGE layer)."""
    from sentence_transformers_glot.options import POOLINGS, options_taken

    values = dict(values)
    pooling = values.get("pooling", "glot")
    if isinstance(values.get("glot", {}), dict) and pooling in POOLINGS:  # (a bad pooling is TrainConfig's to name)
        later = {name: value for name, value in _LATER_OPTIONS.items() if name in options_taken(pooling)}
        values["glot"] = {**later, **values.get("glot", {})}
    return TrainConfig(**{**_LATER_FIELDS, **values})


def data_files(config: TrainConfig) -> dict[str, str]:
    """SHA-256 of each data file the run reads: the task when it is a file, any task option naming a file (e.g. a
    GLUE ``dataset`` file), and the pooling weights ``init_from`` starts from. Part of the run's identity, so that
    a file edited in place trains again."""
    task = config.task.removeprefix("spans:")  # a self-supervised task's documents may be a file too
    candidates = {"task": task, **{f"task_options.{k}": v for k, v in config.task_options.items()},
                  **{f"also_tasks.{i}": name.removeprefix("spans:") for i, name in enumerate(config.also_tasks or ())}}
    if config.init_from is not None:  # the weights a run starts from are part of what it is
        from sentence_transformers_glot.training.transfer import source_weights

        candidates["init_from"] = str(source_weights(config.init_from))
    return {key: sha256_file(value) for key, value in sorted(candidates.items())
            if isinstance(value, (str, os.PathLike)) and Path(value).is_file()}


def run_name(config: TrainConfig, label: str | None = None, backbone: BackboneRecord | None = None) -> str:
    """A readable, unique folder name: backbone, task, pooling (or ``label``), seed and a hash of the full config
    (:func:`config_dict`, with the command's ``backbone`` record) and of the content of the data files it reads
    (:func:`data_files`)."""
    import hashlib

    identity = config_dict(config, backbone)
    files = data_files(config)
    if files:  # only for data files, so that the runs of built-in tasks keep their names
        identity["data_sha256"] = files
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
    backbone = Path(config.backbone).name or config.backbone
    task = Path(config.task).stem if os.path.sep in config.task else config.task
    # "/" and ":" (a spans: task) are no folder-name characters on every system
    return f"{backbone}-{task}-{label or config.pooling}-seed{config.seed}-{digest}".replace("/", "_").replace(":", "_")
