"""Graph construction: the edge rule, padding, top-k, agreement of the dense and edge-list forms, soft (cosine)
edges, and threshold="auto"'s per-sentence density."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import random_batch, to_left_padding

from sentence_transformers_glot.nn.conv import gcn_propagate
from sentence_transformers_glot.nn.graph_builders import build_dense_graph, build_graph, build_sparse_graph
from sentence_transformers_glot.nn.similarity import density_thresholds, estimate_density, normalize_tokens


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


# ---------------------------------------------------------------------------------------------------------- soft edges
def test_cosine_edges_weigh_each_neighbour_by_its_cosine():
    x, mask = random_batch(3, 9, 8, seed=7)
    graph = build_dense_graph(x, mask, threshold=0.1, edge_weight="cosine")
    xn = torch.nn.functional.normalize(x, dim=-1)
    cos = xn @ xn.transpose(1, 2)
    binary = build_dense_graph(x, mask, threshold=0.1).adj
    torch.testing.assert_close(graph.adj, torch.where(binary > 0, cos, 0.0), atol=1e-6, rtol=0)
    h = torch.randn(int(mask.sum()), 5)
    padded = graph.nodes.to_padded(h)
    weights = graph.adj
    expected = (weights @ padded) / weights.sum(-1, keepdim=True).where(weights.sum(-1, keepdim=True) > 0, 1.0)
    torch.testing.assert_close(graph.aggregate(h, "mean"), graph.nodes.pack(expected), atol=1e-6, rtol=0)
    sparse = build_sparse_graph(x, mask, threshold=0.1, edge_weight="cosine")
    torch.testing.assert_close(sparse.aggregate(h, "mean"), graph.aggregate(h, "mean"), atol=1e-6, rtol=0)
    torch.testing.assert_close(gcn_propagate(sparse, h), gcn_propagate(graph, h), atol=1e-6, rtol=0)


def test_cosine_edges_drop_pairs_with_a_negative_cosine():
    x, mask = random_batch(2, 12, 8, seed=8)
    graph = build_dense_graph(x, mask, threshold=-1.0, edge_weight="cosine")
    xn = torch.nn.functional.normalize(x, dim=-1)
    cos = xn @ xn.transpose(1, 2)
    assert (cos < 0).any()
    assert not (graph.adj[cos <= 0] != 0).any()
    assert (graph.adj >= 0).all()


# ---------------------------------------------------------------------------------------------------- threshold="auto"
def test_auto_threshold_keeps_the_asked_density_in_every_sentence():
    x, mask = random_batch(5, 12, 16, seed=4, min_length=4)
    unit = normalize_tokens(torch.where(mask[..., None], x, 0.0))
    for density in (0.05, 0.2, 1.0):
        graph = build_graph(unit, mask, "auto", backend="dense", normalized=True, edge_density=density)
        n = mask.sum(1)
        wanted = 2 * torch.round(density * n * (n - 1) / 2)  # m pairs, both directions
        assert torch.equal(graph.adj.sum((1, 2)), wanted.float())


def test_auto_threshold_is_batch_and_padding_invariant():
    x, mask = random_batch(4, 10, 16, seed=5, min_length=3)
    unit = normalize_tokens(torch.where(mask[..., None], x, 0.0))
    together = density_thresholds(unit, mask, 0.1)
    lengths = [int(n) for n in mask.sum(1)]
    alone = torch.stack([density_thresholds(unit[i : i + 1, :n], mask[i : i + 1, :n], 0.1)[0]
                         for i, n in enumerate(lengths)])
    assert torch.allclose(together, alone, atol=1e-6)  # equal up to float rounding of differently shaped products
    left_x, left_mask = to_left_padding(x, mask)
    left_unit = normalize_tokens(torch.where(left_mask[..., None], left_x, 0.0))
    assert torch.allclose(density_thresholds(left_unit, left_mask, 0.1), together, atol=1e-6)


def test_token_graph_is_the_full_graph_or_its_band():
    from sentence_transformers_glot.nn.band import build_window_graph
    from sentence_transformers_glot.nn.graph_builders import token_graph
    from sentence_transformers_glot.nn.packing import PackedNodes

    x, mask = random_batch(3, 10, 8, seed=5)
    nodes = PackedNodes.from_mask(mask)
    packed = nodes.pack(x)
    full = token_graph(packed, nodes, mask, 0.1, backend="dense")
    assert dense_edges(full) == dense_edges(build_dense_graph(x, mask, 0.1))
    band = token_graph(packed, nodes, mask, 0.1, graph_window=2)
    expected = build_window_graph(normalize_tokens(packed), nodes, 2, 0.1)
    assert sparse_edges(band) == sparse_edges(expected) and sparse_edges(band) < dense_edges(full)
    assert sparse_edges(token_graph(packed, nodes, mask, 0.1, graph_window=9)) == dense_edges(full)
