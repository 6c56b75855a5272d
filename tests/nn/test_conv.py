"""The token-GNN layers: GCN's normalisation with soft edges, and SequenceConv's word-order relations."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch, to_left_padding

from sentence_transformers_glot.nn.conv import SequenceConv, gcn_propagate
from sentence_transformers_glot.nn.graph import build_dense_graph
from sentence_transformers_glot.nn.packing import PackedNodes


def test_gcn_on_cosine_edges_equals_the_pyg_normalisation_with_edge_weights():
    """GCN with soft edges is PyG's GCNConv(edge_weight=w): D^-1/2 (A_w + I) D^-1/2 with D = 1 + sum_j w_ij."""
    x, mask = random_batch(1, 7, 8, seed=9, min_length=7)
    graph = build_dense_graph(x, mask, threshold=0.0, edge_weight="cosine")
    a = graph.adj[0] + torch.eye(7)
    d = a.sum(-1)
    expected = a / torch.sqrt(d[:, None] * d[None, :])
    h = torch.randn(7, 3)
    torch.testing.assert_close(gcn_propagate(graph, h), expected @ h, atol=1e-6, rtol=0)


def reference_window_mean(h: torch.Tensor, mask: torch.Tensor, window: int, direction: int) -> torch.Tensor:
    """Per sentence, in Python: the mean of the states up to ``window`` real tokens before/after each token."""
    rows = []
    for b in range(mask.shape[0]):
        tokens = h[b][mask[b]]
        for i in range(len(tokens)):
            picked = [tokens[i + direction * k] for k in range(1, window + 1) if 0 <= i + direction * k < len(tokens)]
            rows.append(torch.stack(picked).mean(0) if picked else torch.zeros(h.shape[-1]))
    return torch.stack(rows)


@pytest.mark.parametrize("window", [1, 2, 5])
@pytest.mark.parametrize("direction", [-1, 1])
def test_window_mean_counts_over_real_tokens_for_either_padding(window, direction):
    x, mask = random_batch(4, 9, 5, seed=window, min_length=1)
    expected = reference_window_mean(x, mask, window, direction)
    for xs, ms in ((x, mask), to_left_padding(x, mask)):
        nodes = PackedNodes.from_mask(ms)
        got = SequenceConv.window_mean(nodes.pack(xs), nodes, window, direction)
        torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_sequence_conv_equals_its_formula():
    torch.manual_seed(0)
    conv = SequenceConv(6, 4, window=2)
    x, mask = random_batch(3, 8, 6, seed=3)
    nodes = PackedNodes.from_mask(mask)
    expected = (reference_window_mean(x, mask, 2, -1) @ conv.lin_prev.weight.T
                + reference_window_mean(x, mask, 2, 1) @ conv.lin_next.weight.T)
    torch.testing.assert_close(conv(nodes.pack(x), nodes), expected, atol=1e-5, rtol=0)
