"""The metrics at their old address are the same functions."""

from __future__ import annotations

from sentence_transformers_glot import metrics
from sentence_transformers_glot.training import metrics as old_address


def test_the_old_address_serves_the_same_metrics():
    assert old_address.compute_metric is metrics.compute_metric and old_address.METRICS == metrics.METRICS
