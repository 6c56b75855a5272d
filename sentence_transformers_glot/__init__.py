"""GLOT pooling for sentence-transformers: token graphs, GNN refinement and attention readout.

The public names load lazily, so that ``glot --help`` and the data tools do not import torch and
sentence-transformers before they need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["GlotPooling", "freeze_backbone", "load_glot_model", "save_glot_model", "select_pooling"]
__version__ = "0.1.0"

_PUBLIC = {
    "GlotPooling": "sentence_transformers_glot.pooling",
    "freeze_backbone": "sentence_transformers_glot.freezing",
    "load_glot_model": "sentence_transformers_glot.loading",
    "save_glot_model": "sentence_transformers_glot.loading",
    "select_pooling": "sentence_transformers_glot.training.selection",
}

if TYPE_CHECKING:
    from sentence_transformers_glot.freezing import freeze_backbone
    from sentence_transformers_glot.loading import load_glot_model, save_glot_model
    from sentence_transformers_glot.pooling import GlotPooling
    from sentence_transformers_glot.training.selection import select_pooling


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'sentence_transformers_glot' has no attribute {name!r}")
