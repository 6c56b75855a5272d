"""GLOT's forward pass over packed tokens is the composition of its parts: graph, GNN, readout; empty batches pool
to zeros, and the parameter-free path equals the masked reductions."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch

from sentence_transformers_glot.nn.gnn import TokenGNN
from sentence_transformers_glot.nn.graph_builders import build_graph
from sentence_transformers_glot.nn.packing import PackedNodes
from sentence_transformers_glot.nn.pipeline import pool_nodes, pool_padded
from sentence_transformers_glot.nn.readout import AttentionReadout
from sentence_transformers_glot.options import CONVS

GRAPH = {"threshold": 0.2, "top_k": None, "backend": "dense", "edge_weight": "binary", "edge_density": 0.05,
         "graph_window": None}


@pytest.mark.parametrize("conv", CONVS)
@pytest.mark.parametrize("readout", ["attention", "mean"])
def test_pool_nodes_is_graph_then_gnn_then_readout(conv, readout):
    torch.manual_seed(0)
    x, mask = random_batch(3, 7, 8, seed=3)
    nodes = PackedNodes.from_mask(mask)
    gnn = TokenGNN(8, 6, 2, conv, "cat")
    attention = AttentionReadout(gnn.out_dim, 5) if readout == "attention" else None
    h = gnn(nodes.pack(x), build_graph(x, mask, 0.2, backend="dense"))
    if attention is not None:
        expected = attention(h, nodes.batch_index, nodes.ptr, 3)
    else:
        expected = torch.stack([h[nodes.batch_index == b].mean(0) for b in range(3)])
    got = pool_nodes(nodes.pack(x), nodes, mask, gnn, attention, readout, GRAPH)
    assert got.shape == (3, gnn.out_dim) and torch.allclose(got, expected, atol=1e-5)


def test_a_batch_without_positions_pools_to_zeros_of_the_output_width():
    mask = torch.zeros(2, 0, dtype=torch.bool)
    nodes = PackedNodes.from_mask(mask)
    gnn = TokenGNN(4, 3, 1, "sage", "cat")
    assert torch.equal(pool_nodes(torch.zeros(0, 4), nodes, mask, gnn, None, "mean", GRAPH), torch.zeros(2, 7))
    assert torch.equal(pool_padded(torch.zeros(2, 0, 4), mask, "max"), torch.zeros(2, 4))


@pytest.mark.parametrize("readout", ["mean", "max", "cls", "last"])
def test_pool_padded_reduces_only_the_masked_tokens(readout):
    x, mask = random_batch(4, 6, 5, seed=1)
    rows = [x[b][mask[b]] for b in range(4)]
    reduce = {"mean": lambda r: r.mean(0), "max": lambda r: r.amax(0), "cls": lambda r: r[0], "last": lambda r: r[-1]}
    expected = torch.stack([reduce[readout](r) for r in rows])
    assert torch.allclose(pool_padded(torch.where(mask[..., None], x, 0.0), mask, readout), expected, atol=1e-6)
    x[0] = float("nan")  # a sentence of non-finite states is an error, not a NaN embedding
    with pytest.raises(ValueError, match="NaN or Inf"):
        pool_padded(x, mask, readout)
