"""The sentence-transformers module base class, under its v6 path or its v5 one."""

from __future__ import annotations

try:  # sentence-transformers >= 6
    from sentence_transformers.base.modules.module import Module
except ImportError:  # sentence-transformers 5.x
    from sentence_transformers.models import Module

__all__ = ["Module"]
