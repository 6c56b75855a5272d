"""Dense, torch-scatter and native edge-list backends compute the same GLOT, forward and backward, with every
option; backend="auto" picks by length and measured density; the memory guards."""

from __future__ import annotations

import pytest
import torch
from helpers import pool_on_backend, pooled, random_batch, to_left_padding

import sentence_transformers_glot.nn.functional as aggregation
from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.nn.backend import choose_backend
from sentence_transformers_glot.nn.conv import CONVS
from sentence_transformers_glot.nn.graph import DenseTokenGraph, SparseTokenGraph
from sentence_transformers_glot.nn.graph_builders import build_graph


@pytest.mark.parametrize("conv", CONVS)
@pytest.mark.parametrize("graph", [{"threshold": 0.2}, {"threshold": None, "top_k": 3}, {"threshold": 0.3, "top_k": 5}])
def test_backends_agree(conv, graph, monkeypatch):
    torch.manual_seed(0)
    x, mask = random_batch(6, 12, 24, seed=7)
    pooling = GlotPooling(24, num_layers=2, hidden_dim=16, conv=conv, **graph)
    results = {backend: pool_on_backend(pooling, backend, x, mask, monkeypatch)
               for backend in ("dense", "scatter-native")}
    if aggregation.HAS_TORCH_SCATTER:
        results["scatter-kernels"] = pool_on_backend(pooling, "scatter-kernels", x, mask, monkeypatch)
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
    dense = pool_on_backend(pooling, "dense", x, mask, monkeypatch)
    native = pool_on_backend(pooling, "scatter-native", x, mask, monkeypatch)
    assert torch.allclose(dense[0], native[0], atol=1e-5)
    assert torch.allclose(dense[1], native[1], atol=1e-5)


@pytest.mark.parametrize("conv", CONVS)
@pytest.mark.parametrize("edge_weight", ["binary", "cosine"])
def test_options_agree_across_backends_and_padding_sides(conv, edge_weight):
    config = dict(threshold=0.0, conv=conv, sequence_window=2, edge_weight=edge_weight, input_norm="layer")
    torch.manual_seed(0)
    dense = GlotPooling(16, backend="dense", **config).eval()
    scatter = GlotPooling(16, backend="scatter", **config).eval()
    scatter.load_state_dict(dense.state_dict())
    x, mask = random_batch(5, 11, 16, seed=5)
    expected = pooled(dense, x, mask)
    torch.testing.assert_close(pooled(scatter, x, mask), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pooled(dense, *to_left_padding(x, mask)), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("conv", [conv for conv in CONVS if conv != "gin"])  # GIN sums: float order
def test_auto_threshold_gives_the_same_pooling_on_both_backends_and_padding_sides(conv):
    x, mask = random_batch(4, 11, 16, seed=6, min_length=3)
    dense = GlotPooling(16, threshold="auto", edge_density=0.1, hidden_dim=8, conv=conv, backend="dense",
                        attention_sink="exclude")
    sparse = GlotPooling(16, threshold="auto", edge_density=0.1, hidden_dim=8, conv=conv, backend="scatter",
                         attention_sink="exclude")
    sparse.load_state_dict(dense.state_dict())
    expected = dense.pool(x, mask)
    assert torch.allclose(sparse.pool(x, mask), expected, atol=1e-5)
    assert torch.allclose(dense.pool(*to_left_padding(x, mask)), expected, atol=1e-5)


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
    import sentence_transformers_glot.nn.graph_builders as graph_module

    monkeypatch.setattr(graph_module, "MAX_EDGES", 50)
    x, mask = random_batch(1, 20, 8, seed=4)
    with pytest.raises(MemoryError, match="more than 50 edges.*`top_k`"):
        GlotPooling(8, threshold=-1.0, backend="scatter").pool(x, mask)
