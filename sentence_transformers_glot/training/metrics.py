"""The task metrics, at their old address: they live in :mod:`sentence_transformers_glot.metrics` (the data tools'
leak baselines use them too)."""

from sentence_transformers_glot.metrics import METRICS, compute_metric

__all__ = ["METRICS", "compute_metric"]
