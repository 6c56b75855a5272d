"""The token-GNN layers: each conv equals its formula on a small graph in both graph forms, GCN's normalisation with
soft edges, and SequenceConv's word-order relations."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch, to_left_padding

from sentence_transformers_glot.nn.conv import CONV_CLASSES, GCNConv, GINConv, SAGEConv, SequenceConv, gcn_propagate
from sentence_transformers_glot.nn.graph_builders import build_dense_graph, build_sparse_graph
from sentence_transformers_glot.nn.packing import PackedNodes


def neighbours(x: torch.Tensor, mask: torch.Tensor, threshold: float) -> list[list[int]]:
    """Each packed token's neighbours by the definition (same sentence, cosine > threshold, not itself)."""
    rows, h = mask.nonzero().tolist(), x[mask]
    return [[j for j, (c, _) in enumerate(rows) if c == b and j != i
             and torch.nn.functional.cosine_similarity(h[i], h[j], dim=0) > threshold]
            for i, (b, _) in enumerate(rows)]


def reference_conv(conv: torch.nn.Module, h: torch.Tensor, near: list[list[int]]) -> torch.Tensor:
    """The conv's formula from the module docstring, one token at a time."""
    out = []
    for i, js in enumerate(near):
        if isinstance(conv, SAGEConv):
            mean = h[js].mean(0) if js else torch.zeros_like(h[i])
            out.append(conv.lin_self(h[i]) + conv.lin_neigh(mean))
        elif isinstance(conv, GCNConv):
            degree = [1 + len(near[j]) for j in range(len(near))]
            total = sum(h[j] / (degree[i] * degree[j]) ** 0.5 for j in [i, *js])
            out.append(conv.lin(total) + conv.bias)
        elif isinstance(conv, GINConv):
            out.append(conv.mlp(h[i] + sum((h[j] for j in js), torch.zeros_like(h[i]))))
        else:  # GATConv: attention over the neighbours and the token itself
            wh = conv.lin(h)
            scores = torch.stack([torch.nn.functional.leaky_relu(wh[i] @ conv.att_dst + wh[j] @ conv.att_src, 0.2)
                                  for j in [i, *js]])
            out.append(torch.softmax(scores, 0) @ wh[[i, *js]] + conv.bias)
    return torch.stack(out)


@pytest.mark.parametrize("dims", [(6, 4), (4, 8)], ids=["narrowing", "widening"])
@pytest.mark.parametrize("build", [build_dense_graph, build_sparse_graph], ids=["dense", "edge-list"])
@pytest.mark.parametrize("name", list(CONV_CLASSES))
def test_each_conv_equals_its_formula_on_a_small_graph(name, build, dims):
    """Both orders of transform and aggregation (the output narrower or wider than the input) and both graph forms
    give the formula; a token without neighbours is included (threshold 0.6)."""
    torch.manual_seed(0)
    x, mask = random_batch(3, 6, dims[0], seed=2, min_length=1)
    x = torch.where(mask[..., None], x, 0.0)
    near = neighbours(x, mask, 0.6)
    assert any(near) and not all(near), "the graph should have edges and an isolated token"
    conv = CONV_CLASSES[name](*dims)
    graph = build(x, mask, 0.6)
    with torch.no_grad():
        torch.testing.assert_close(conv(x[mask], graph), reference_conv(conv, x[mask], near), atol=1e-5, rtol=1e-5)


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
