"""Dense, torch-scatter and native edge-list backends compute the same GLOT, forward and backward."""

from __future__ import annotations

import os
import warnings

import pytest
import torch
from helpers import random_batch

import sentence_transformers_glot.nn.functional as aggregation
from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.nn.backend import choose_backend
from sentence_transformers_glot.nn.graph import DenseTokenGraph, SparseTokenGraph, build_graph

BACKENDS = ["dense", "scatter-kernels", "scatter-native"]


def run(pooling: GlotPooling, backend: str, x: torch.Tensor, mask: torch.Tensor, monkeypatch):
    """Pooled output and input gradient of `pooling` forced onto one backend."""
    if backend == "scatter-kernels" and not aggregation.HAS_TORCH_SCATTER:
        pytest.skip("torch-scatter is not installed")
    with monkeypatch.context() as patch:
        if backend == "scatter-native":
            patch.setattr(aggregation, "HAS_TORCH_SCATTER", False)
        pooling.backend = "dense" if backend == "dense" else "scatter"
        x = x.clone().requires_grad_(True)
        out = pooling.pool(x, mask)
        (out * torch.linspace(-1, 1, out.shape[-1])).sum().backward()
        grads = [p.grad.clone() for p in pooling.parameters()]
        pooling.zero_grad()
        return out.detach(), x.grad, grads


@pytest.mark.parametrize("conv", ["sage", "gat", "gcn", "gin"])
@pytest.mark.parametrize("graph", [{"threshold": 0.2}, {"threshold": None, "top_k": 3}, {"threshold": 0.3, "top_k": 5}])
def test_backends_agree(conv, graph, monkeypatch):
    torch.manual_seed(0)
    x, mask = random_batch(6, 12, 24, seed=7)
    pooling = GlotPooling(24, num_layers=2, hidden_dim=16, conv=conv, **graph)
    results = {backend: run(pooling, backend, x, mask, monkeypatch) for backend in ("dense", "scatter-native")}
    if aggregation.HAS_TORCH_SCATTER:
        results["scatter-kernels"] = run(pooling, "scatter-kernels", x, mask, monkeypatch)
    out, x_grad, grads = results["dense"]
    for backend, (other_out, other_x_grad, other_grads) in results.items():
        assert torch.allclose(out, other_out, atol=1e-5), backend
        assert torch.allclose(x_grad, other_x_grad, atol=1e-5), backend
        for g, h in zip(grads, other_grads):
            assert torch.allclose(g, h, atol=1e-5), backend


@pytest.mark.parametrize("jk", ["none", "cat", "max", "mean"])
def test_backends_agree_for_every_jumping_knowledge(jk, monkeypatch):
    torch.manual_seed(1)
    x, mask = random_batch(4, 10, 16, seed=8)
    pooling = GlotPooling(16, threshold=0.1, num_layers=3, hidden_dim=32, jumping_knowledge=jk)
    dense = run(pooling, "dense", x, mask, monkeypatch)
    native = run(pooling, "scatter-native", x, mask, monkeypatch)
    assert torch.allclose(dense[0], native[0], atol=1e-5)
    assert torch.allclose(dense[1], native[1], atol=1e-5)


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
    kernels = run(pooling, "scatter-kernels", x, mask, monkeypatch) if options else None
    monkeypatch.setattr(aggregation, "HAS_TORCH_SCATTER", False)
    monkeypatch.setattr(aggregation, "_warned_fallback", False)
    with pytest.warns(RuntimeWarning, match="no-build-isolation torch-scatter"):
        with torch.no_grad():
            slow = pooling.pool(x, mask)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=0)
    if kernels is not None:
        native = run(pooling, "scatter-native", x, mask, monkeypatch)
        for a, b in zip(kernels[2], native[2]):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_auto_backend_rule():
    assert choose_backend("auto", 32, 64, None) == "dense"
    assert choose_backend("auto", 2, 2048, None) == "dense", "threshold graphs are built dense while they fit"
    assert choose_backend("auto", 4, 128, 16) == "dense", "short top-k graphs are dense"
    assert choose_backend("auto", 2, 2048, 16) == "scatter", "long top-k graphs are sparse from the start"
    assert choose_backend("auto", 1, 16384, None) == "scatter", "over AUTO_DENSE_MAX_BYTES: row-blocked edge list"
    assert choose_backend("scatter", 32, 64, None) == "scatter"
    with pytest.raises(MemoryError, match="backend='scatter'"):
        choose_backend("dense", 8, 16384, None)


@pytest.mark.parametrize("length,threshold,expected", [
    (300, 0.95, SparseTokenGraph),  # long and sparse: edge list
    (300, -1.0, DenseTokenGraph),  # long and complete: dense
    (40, 0.95, DenseTokenGraph),  # short: dense whatever the density
])
def test_auto_picks_by_measured_density_and_gives_the_same_result(length, threshold, expected):
    x, mask = random_batch(2, length, 16, seed=3)
    graph = build_graph(x * mask[..., None], mask, threshold, None, "auto")
    assert isinstance(graph, expected)
    torch.manual_seed(0)
    auto = GlotPooling(16, threshold=threshold, hidden_dim=8).eval()
    dense = GlotPooling(16, threshold=threshold, hidden_dim=8, backend="dense").eval()
    dense.load_state_dict(auto.state_dict())
    assert torch.allclose(auto.pool(x, mask), dense.pool(x, mask), atol=1e-5)


def test_an_edge_list_over_the_edge_budget_is_refused(monkeypatch):
    import sentence_transformers_glot.nn.graph as graph_module

    monkeypatch.setattr(graph_module, "MAX_EDGES", 50)
    x, mask = random_batch(1, 20, 8, seed=4)
    with pytest.raises(MemoryError, match="more than 50 edges.*`top_k`"):
        GlotPooling(8, threshold=-1.0, backend="scatter").pool(x, mask)
