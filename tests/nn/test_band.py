"""The band graph for long documents: a window covering the sentence gives the full graph, a narrower one keeps
only the pairs within it, and GlotPooling with ``graph_window`` is batch and padding invariant."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch, to_left_padding

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.nn.similarity import normalize_tokens
from sentence_transformers_glot.options import CONVS


@pytest.mark.parametrize("top_k", [None, 3])
@pytest.mark.parametrize("edge_weight", ["binary", "cosine"])
def test_a_window_covering_the_sentence_gives_the_full_graph(top_k, edge_weight):
    from sentence_transformers_glot.nn.band import build_window_graph
    from sentence_transformers_glot.nn.graph_builders import build_sparse_graph
    from sentence_transformers_glot.nn.packing import PackedNodes

    x, mask = random_batch(4, 10, 16, seed=11, min_length=2)
    x = torch.where(mask[..., None], x, 0.0)
    nodes = PackedNodes.from_mask(mask)
    unit = normalize_tokens(nodes.pack(x))
    full = build_sparse_graph(x, mask, 0.2, top_k, edge_weight=edge_weight)
    band = build_window_graph(unit, nodes, 9, 0.2, top_k, edge_weight=edge_weight)
    assert torch.equal(band.indptr, full.indptr) and torch.equal(band.src, full.src)
    if edge_weight == "cosine":
        assert torch.allclose(band.weight, full.weight, atol=1e-6)


def test_a_window_keeps_only_nearby_pairs_whatever_the_padding():
    from sentence_transformers_glot.nn.band import build_window_graph
    from sentence_transformers_glot.nn.packing import PackedNodes

    x, mask = random_batch(3, 12, 16, seed=12, min_length=4)
    positions = (mask.cumsum(1) - 1)[mask]  # each real token's position in its sentence
    for xs, ms in ((x, mask), to_left_padding(x, mask)):
        nodes = PackedNodes.from_mask(ms)
        graph = build_window_graph(normalize_tokens(nodes.pack(xs)), nodes, 2, None)
        assert bool(((positions[graph.src] - positions[graph.dst]).abs() <= 2).all())
        assert bool((nodes.batch_index[graph.src] == nodes.batch_index[graph.dst]).all())
        n = ms.sum(1)
        expected = sum(int(sum(min(2, i) + min(2, int(k) - 1 - i) for i in range(int(k)))) for k in n)
        assert graph.src.numel() == expected  # every pair within 2 positions, and only those


@pytest.mark.parametrize("conv", CONVS)
def test_graph_window_pooling_is_batch_invariant_and_equals_the_full_graph_when_it_covers(conv):
    x, mask = random_batch(4, 9, 16, seed=13, min_length=2)
    full = GlotPooling(16, threshold=0.2, hidden_dim=8, conv=conv, backend="scatter")
    band = GlotPooling(16, threshold=0.2, hidden_dim=8, conv=conv, graph_window=8)
    narrow = GlotPooling(16, threshold=0.2, hidden_dim=8, conv=conv, graph_window=2)
    band.load_state_dict(full.state_dict())
    narrow.load_state_dict(full.state_dict())
    assert torch.allclose(band.pool(x, mask), full.pool(x, mask), atol=1e-5)
    together = narrow.pool(x, mask)
    for i in range(4):
        alone = narrow.pool(x[i : i + 1, : int(mask[i].sum())], mask[i : i + 1, : int(mask[i].sum())])
        assert torch.allclose(alone, together[i : i + 1], atol=1e-5)
    assert torch.allclose(narrow.pool(*to_left_padding(x, mask)), together, atol=1e-5)
    with pytest.raises(ValueError, match="graph_window"):
        GlotPooling(16, graph_window=0)
    with pytest.raises(ValueError, match="threshold='auto'"):
        GlotPooling(16, threshold="auto", graph_window=4)


def test_a_window_wider_than_the_text_costs_the_texts_length_not_the_window(monkeypatch):
    """W = 20,000 on four 30-token texts: the same graph as W = 29 (every pair), computed over a band of 29."""
    from sentence_transformers_glot.nn import band
    from sentence_transformers_glot.nn.packing import PackedNodes

    torch.manual_seed(0)
    nodes = PackedNodes.from_mask(torch.ones(4, 30, dtype=torch.bool))
    unit = normalize_tokens(torch.randn(120, 16))
    widths = []
    cosines = band._band_cosines
    monkeypatch.setattr(band, "_band_cosines", lambda u, w: widths.append(w) or cosines(u, w))
    wide = band.build_window_graph(unit, nodes, 20_000, 0.1)
    exact = band.build_window_graph(unit, nodes, 29, 0.1)
    assert torch.equal(wide.src, exact.src) and torch.equal(wide.dst, exact.dst)
    assert widths == [29, 29]  # the (N, 2W) buffers are sized by the text: 120 x 58, not 120 x 40,000
