"""Graph construction: the edge rule, padding, top-k, and agreement of the dense and edge-list forms."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import random_batch, to_left_padding

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.nn.graph import (
    build_dense_graph,
    build_sparse_graph,
    estimate_density,
    normalize_tokens,
)


def reference_edges(x: torch.Tensor, mask: torch.Tensor, threshold, top_k) -> set[tuple[int, int, int]]:
    """Edges (b, dst, src) by the definition, one sentence and one token pair at a time."""
    edges = set()
    for b in range(x.shape[0]):
        nodes = mask[b].nonzero().flatten().tolist()
        for i in nodes:
            sims = {j: F.cosine_similarity(x[b, i], x[b, j], dim=0).item() for j in nodes if j != i}
            keep = set(sims)
            if top_k is not None:
                keep = set(sorted(sims, key=sims.get, reverse=True)[:top_k])
            if threshold is not None:
                keep = {j for j in keep if sims[j] > threshold}
            edges |= {(b, i, j) for j in keep}
    return edges


def dense_edges(graph) -> set[tuple[int, int, int]]:
    return {tuple(e) for e in graph.adj.nonzero().tolist()}


def sparse_edges(graph) -> set[tuple[int, int, int]]:
    length = graph.nodes.batch_shape[1]
    flat_dst = graph.nodes.node_index[graph.dst]
    flat_src = graph.nodes.node_index[graph.src]
    return {(d // length, d % length, s % length) for d, s in zip(flat_dst.tolist(), flat_src.tolist())}


@pytest.mark.parametrize("threshold,top_k", [(0.3, None), (-0.2, None), (None, 3), (0.2, 4)])
def test_edges_follow_the_definition(threshold, top_k):
    x, mask = random_batch(4, 9, 16, seed=1)
    expected = reference_edges(x, mask, threshold, top_k)
    assert expected, "the test data should produce some edges"
    assert dense_edges(build_dense_graph(x, mask, threshold, top_k)) == expected
    assert sparse_edges(build_sparse_graph(x, mask, threshold, top_k)) == expected
    # with as many sampled rows as there are rows, the density estimate is the exact density
    exact = len(expected) / (x.shape[0] * x.shape[1] ** 2)
    assert estimate_density(x, mask, threshold, top_k, rows=x.shape[1]) == pytest.approx(exact)


def test_no_self_loops_and_padding_is_never_a_node():
    x, mask = random_batch(3, 8, 16, seed=2, min_length=2)
    x = torch.where(mask[..., None], x, torch.ones_like(x))  # padding identical to each other: cos = 1
    graph = build_dense_graph(x, mask, threshold=-1.0)
    assert not graph.adj.diagonal(dim1=1, dim2=2).any()
    pad = ~mask
    assert not graph.adj[pad].any() and not graph.adj.transpose(1, 2)[pad].any()
    # threshold -1 (strict >) connects every pair of distinct real tokens
    lengths = mask.sum(1)
    assert torch.equal(graph.adj.sum((1, 2)), (lengths * (lengths - 1)).float())
    sparse = build_sparse_graph(x, mask, threshold=-1.0)
    assert sparse.num_nodes == int(mask.sum())
    assert sparse.src.numel() == int((lengths * (lengths - 1)).sum())


def test_threshold_is_strict():
    x = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    graph = build_dense_graph(x, mask, threshold=1.0)
    assert not graph.adj.any()
    graph = build_dense_graph(x, mask, threshold=0.0)  # the orthogonal pair has cos 0: not > 0
    assert dense_edges(graph) == {(0, 0, 1), (0, 1, 0)}


def test_left_and_right_padding_give_the_same_graph():
    x, mask = random_batch(5, 10, 16, seed=3)
    x_left, mask_left = to_left_padding(x, mask)
    right = build_dense_graph(x * mask[..., None], mask, 0.2)
    left = build_dense_graph(x_left * mask_left[..., None], mask_left, 0.2)
    deg_right = right.adj.sum(-1)[mask]
    deg_left = left.adj.sum(-1)[mask_left]
    assert torch.equal(deg_right, deg_left)
    assert deg_right.sum() > 0


def test_top_k_larger_than_sentence_keeps_all_other_tokens():
    x, mask = random_batch(2, 5, 8, seed=4)
    graph = build_dense_graph(x, mask, threshold=None, top_k=50)
    lengths = mask.sum(1)
    assert torch.equal(graph.adj.sum((1, 2)), (lengths * (lengths - 1)).float())


def test_blockwise_sparse_build_equals_single_block():
    x, mask = random_batch(3, 40, 16, seed=5)
    one = build_sparse_graph(x, mask, 0.1, top_k=6)
    blocks = build_sparse_graph(x, mask, 0.1, top_k=6, block_elements=3 * 40 * 7)  # 7 rows a block
    assert torch.equal(one.dst, blocks.dst) and torch.equal(one.indptr, blocks.indptr)
    assert sparse_edges(one) == sparse_edges(blocks)
    assert torch.all(blocks.dst[1:] >= blocks.dst[:-1]), "edges must be sorted by destination"


def test_single_token_and_isolated_tokens_have_no_edges():
    x = torch.randn(2, 4, 8)
    mask = torch.tensor([[True, False, False, False], [True, True, True, True]])
    graph = build_sparse_graph(x, mask, threshold=0.9999)
    assert graph.src.numel() == 0
    assert graph.indptr.tolist() == [0, 0, 0, 0, 0, 0]


# ------------------------------------------------------------------------------------------------ windowed graph
@pytest.mark.parametrize("top_k", [None, 3])
@pytest.mark.parametrize("edge_weight", ["binary", "cosine"])
def test_a_window_covering_the_sentence_gives_the_full_graph(top_k, edge_weight):
    from sentence_transformers_glot.nn.band import build_window_graph
    from sentence_transformers_glot.nn.graph import build_sparse_graph
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


@pytest.mark.parametrize("conv", ["sage", "gat", "gcn", "gin"])
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
