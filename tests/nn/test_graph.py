"""The two graph representations give the same maths: degrees, sums and means over neighbours, edge softmax and
propagation, self-loops, and weighted (cosine) edges."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch

from sentence_transformers_glot.nn.graph import DenseTokenGraph, SparseTokenGraph
from sentence_transformers_glot.nn.graph_builders import build_dense_graph, build_sparse_graph
from sentence_transformers_glot.nn.packing import PackedNodes


def both(edge_weight: str = "binary", seed: int = 0) -> tuple[DenseTokenGraph, SparseTokenGraph, torch.Tensor]:
    x, mask = random_batch(3, 9, 8, seed=seed)
    nodes = PackedNodes.from_mask(mask)
    dense = build_dense_graph(x, mask, 0.1, edge_weight=edge_weight, nodes=nodes)
    sparse = build_sparse_graph(x, mask, 0.1, edge_weight=edge_weight, nodes=nodes, use_torch_scatter=False)
    return dense, sparse, torch.randn(nodes.num_nodes, 5, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("edge_weight", ["binary", "cosine"])
def test_degree_sum_and_mean_agree_and_equal_the_definition(edge_weight):
    dense, sparse, h = both(edge_weight)
    assert sparse.num_nodes == len(h) and sparse.weighted is (edge_weight == "cosine")
    assert torch.allclose(dense.in_degree.float(), sparse.in_degree.float(), atol=1e-6)
    # by the definition, from the edge list: out_i = sum_{j -> i} w_ij h_j
    weight = sparse.edge_weight(torch.float32)
    expected = torch.zeros_like(h).index_add_(0, sparse.dst, weight[:, None] * h[sparse.src])
    for graph in (dense, sparse):
        assert torch.allclose(graph.aggregate(h, "sum"), expected, atol=1e-5)
        degree = graph.in_degree[:, None].float()
        assert torch.allclose(graph.aggregate(h, "mean"), expected / degree.clamp_min(1e-12) * (degree > 0), atol=1e-5)


def test_edge_softmax_and_propagate_agree_and_sum_to_one_per_node():
    dense, sparse, h = both(seed=1)
    score = torch.randn(len(h))
    alpha_dense = dense.edge_softmax(dense.dst_values(score) * dense.src_values(score))
    alpha_sparse = sparse.edge_softmax(sparse.dst_values(score) * sparse.src_values(score))
    sums = torch.zeros(len(h)).index_add_(0, sparse.dst, alpha_sparse)
    assert torch.allclose(sums[sparse.in_degree > 0], torch.ones(int((sparse.in_degree > 0).sum())), atol=1e-5)
    assert torch.allclose(dense.propagate(alpha_dense, h), sparse.propagate(alpha_sparse, h), atol=1e-5)


def test_self_loops_add_one_edge_of_weight_one_per_node():
    for edge_weight in ("binary", "cosine"):
        dense, sparse, h = both(edge_weight, seed=2)
        for graph in (dense, sparse):
            looped = graph.add_self_loops()
            assert looped is graph.add_self_loops()  # cached
            assert torch.allclose(looped.in_degree.float(), graph.in_degree.float() + 1, atol=1e-6)
            assert torch.allclose(looped.aggregate(h, "sum"), graph.aggregate(h, "sum") + h, atol=1e-5)
