"""Segment operations: torch-scatter's kernels and the native fallback (which warns once) give the same numbers,
the reductions and the softmax equal their definitions, and the first real token is left out on either side."""

from __future__ import annotations

import os
import warnings

import pytest
import torch
from helpers import pool_on_backend, random_batch

import sentence_transformers_glot.nn.functional as aggregation
from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.nn.functional import (
    exclude_first_token,
    indptr_from_index,
    segment_reduce,
    segment_softmax,
)


@pytest.mark.skipif(not os.environ.get("CI"), reason="CI installs torch-scatter; local runs may not have it")
def test_torch_scatter_is_installed_in_ci():
    assert aggregation.HAS_TORCH_SCATTER, "the test command must build torch-scatter (--no-build-isolation)"


def test_native_fallback_warns_once(monkeypatch):
    monkeypatch.setattr(aggregation, "HAS_TORCH_SCATTER", False)
    monkeypatch.setattr(aggregation, "_warned_fallback", False)
    x, mask = random_batch(2, 6, 8, seed=9)
    pooling = GlotPooling(8, threshold=0.0, backend="scatter", conv="gat")  # GAT's edge softmax reduces segments
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pooling.pool(x, mask)
        pooling.pool(x, mask)
    notes = [w for w in caught if "torch-scatter is not installed" in str(w.message)]
    assert len(notes) == 1
    assert "pip install --no-build-isolation torch-scatter" in str(notes[0].message)


@pytest.mark.skipif(not aggregation.HAS_TORCH_SCATTER, reason="torch-scatter is not installed")
def test_default_forward_calls_torch_scatter(monkeypatch):
    """GlotPooling(384) on a batch (dense graph, attention readout over packed tokens) runs segment_csr."""
    calls = []
    real = aggregation._segment_csr

    def spy(*args, **kwargs):
        calls.append(kwargs.get("reduce"))
        return real(*args, **kwargs)

    monkeypatch.setattr(aggregation, "_segment_csr", spy)
    x, mask = random_batch(3, 10, 384, seed=5)
    GlotPooling(384)({"token_embeddings": x, "attention_mask": mask.long()})
    assert "max" in calls and "sum" in calls, calls


@pytest.mark.skipif(not aggregation.HAS_TORCH_SCATTER, reason="torch-scatter is not installed")
@pytest.mark.parametrize("options", [{}, {"conv": "gat", "backend": "scatter"}, {"conv": "gcn", "backend": "scatter"}])
def test_native_fallback_matches_torch_scatter(options, monkeypatch):
    torch.manual_seed(0)
    x, mask = random_batch(4, 12, 32, seed=6)
    mask[1] = False  # an empty sentence
    pooling = GlotPooling(32, threshold=0.1, hidden_dim=16, **options)
    with torch.no_grad():
        fast = pooling.pool(x, mask)
    kernels = pool_on_backend(pooling, "scatter-kernels", x, mask, monkeypatch) if options else None
    monkeypatch.setattr(aggregation, "HAS_TORCH_SCATTER", False)
    monkeypatch.setattr(aggregation, "_warned_fallback", False)
    with pytest.warns(RuntimeWarning, match="no-build-isolation torch-scatter"):
        with torch.no_grad():
            slow = pooling.pool(x, mask)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=0)
    if kernels is not None:
        native = pool_on_backend(pooling, "scatter-native", x, mask, monkeypatch)
        for a, b in zip(kernels[2], native[2]):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


@pytest.mark.parametrize("use_torch_scatter", [False, True], ids=["native", "torch-scatter"])
def test_segment_reductions_and_softmax_equal_their_definitions(use_torch_scatter):
    """On sorted segments with an empty one: sum, mean and max per segment (0, 0 and -inf when empty), and the
    softmax within each segment, computed one segment at a time."""
    if use_torch_scatter and not aggregation.HAS_TORCH_SCATTER:
        pytest.skip("torch-scatter is not installed")
    index = torch.tensor([0, 0, 0, 2, 2, 3])  # segment 1 is empty
    indptr = indptr_from_index(index, 4)
    assert indptr.tolist() == [0, 3, 3, 5, 6]
    gen = torch.Generator().manual_seed(0)
    values, logits = torch.randn(6, 3, generator=gen), torch.randn(6, generator=gen)
    for reduce in ("sum", "mean", "max"):
        got = segment_reduce(values, index, indptr, 4, reduce, use_torch_scatter)
        for s in range(4):
            rows = values[index == s]
            if len(rows):
                expected = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.amax(0)}[reduce]
            else:
                expected = torch.full((3,), float("-inf") if reduce == "max" else 0.0)
            torch.testing.assert_close(got[s], expected, atol=1e-6, rtol=0)
    weights = segment_softmax(logits, index, indptr, 4, use_torch_scatter)
    for s in (0, 2, 3):
        torch.testing.assert_close(weights[index == s], torch.softmax(logits[index == s], 0), atol=1e-6, rtol=0)


def test_exclude_first_token_drops_the_first_real_token_on_either_padding_side():
    right = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=torch.bool)
    left = torch.tensor([[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=torch.bool)
    assert exclude_first_token(right).tolist() == [[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]]  # one token: kept
    assert exclude_first_token(left).tolist() == [[0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert exclude_first_token(torch.zeros(2, 0, dtype=torch.bool)).shape == (2, 0)
