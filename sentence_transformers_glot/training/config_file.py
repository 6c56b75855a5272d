"""``glot train``'s settings as a file, so that a run can be written down and repeated: ``--print-config``
writes them as YAML (every :class:`~sentence_transformers_glot.training.config.TrainConfig` field, defaults
included), ``--config FILE`` reads them back (flags given beside it win).

The file is one mapping: TrainConfig's fields, with ``pooling`` one name or a list (one run each, as
``--pooling``), ``glot`` the GlotPooling options that differ from the defaults (each pooling takes those it
has), and ``task_options`` the loader's keywords (a data file's columns). JSON is YAML too.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import yaml

from sentence_transformers_glot.io import read_text_file
from sentence_transformers_glot.training.config import TrainConfig


def config_text(configs: list[TrainConfig]) -> str:
    """The YAML of the runs ``configs`` (one per pooling, the rest shared): what ``--config`` reads back."""
    first = configs[0]
    values = {**dataclasses.asdict(first), "pooling": [c.pooling for c in configs] if len(configs) > 1 else
              first.pooling}
    glot = next((c for c in configs if c.pooling == "glot"), first)
    values["glot"] = glot.glot.changes(glot.pooling)
    return yaml.safe_dump(values, sort_keys=False, allow_unicode=True)


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """The settings in the YAML or JSON file ``path``, checked for their names and shapes (each value is
    checked when the TrainConfig is built); a problem raises ``ValueError`` naming the file."""
    try:
        values = yaml.safe_load(read_text_file(path))
    except yaml.YAMLError as err:
        raise ValueError(f"--config {path}: not valid YAML or JSON ({str(err).splitlines()[0]})") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValueError(f"--config {path}: must hold a mapping of settings (as --print-config writes), got "
                         f"{type(values).__name__}")
    fields = [spec.name for spec in dataclasses.fields(TrainConfig)]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"--config {path}: unknown setting{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(unknown)}; the settings are {', '.join(fields)}")
    pooling = values.get("pooling", "glot")
    if not (isinstance(pooling, str) or (isinstance(pooling, list) and pooling
                                          and all(isinstance(p, str) for p in pooling))):
        raise ValueError(f"--config {path}: `pooling` must be a name or a list of names; got {pooling!r}")
    for name in ("glot", "task_options"):
        if not isinstance(values.get(name, {}), dict):
            raise ValueError(f"--config {path}: `{name}` must be a mapping; got {values[name]!r}")
    return values
