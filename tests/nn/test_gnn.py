"""The token GNN: jumping knowledge combines the layers' outputs, and order edges make GLOT see word order."""

from __future__ import annotations

import pytest
import torch
from helpers import pooled, random_batch

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.nn.gnn import CONVS, JUMPING_KNOWLEDGE, TokenGNN
from sentence_transformers_glot.nn.graph_builders import build_dense_graph


@pytest.mark.parametrize("jumping_knowledge", JUMPING_KNOWLEDGE)
def test_jumping_knowledge_combines_the_outputs_of_the_layers(jumping_knowledge):
    """h^k = ReLU(conv_k(h^{k-1})); "none" is h^K, "cat" [x | h^1 | ... | h^K] (or its blocks), "max" and "mean"
    reduce h^1..h^K element-wise; with no layer the input passes through."""
    torch.manual_seed(0)
    x, mask = random_batch(3, 7, 8, seed=1)
    graph = build_dense_graph(torch.where(mask[..., None], x, 0.0), mask, 0.1)
    h0 = graph.nodes.pack(x)
    gnn = TokenGNN(8, 5, num_layers=2, conv="gcn", jumping_knowledge=jumping_knowledge).eval()
    with torch.no_grad():
        h1 = torch.relu(gnn.layers[0](h0, graph))
        h2 = torch.relu(gnn.layers[1](h1, graph))
        expected = {"none": h2, "cat": torch.cat([h0, h1, h2], -1), "max": torch.maximum(h1, h2),
                    "mean": (h1 + h2) / 2}[jumping_knowledge]
        out = gnn(h0, graph)
        assert out.shape == (h0.shape[0], gnn.out_dim) == (h0.shape[0], 18 if jumping_knowledge == "cat" else 5)
        torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)
        if jumping_knowledge == "cat":
            blocks = gnn(h0, graph, cat_blocks=True)
            assert [b.shape[-1] for b in blocks] == [8, 5, 5] and torch.equal(torch.cat(blocks, -1), out)
        no_layer = TokenGNN(8, 5, num_layers=0, jumping_knowledge=jumping_knowledge)
        assert no_layer.out_dim == 8 and no_layer(h0, graph) is h0


@pytest.mark.parametrize("conv", CONVS)
def test_order_edges_make_glot_see_word_order(conv):
    """The paper's GLOT is a function of the *set* of tokens: reversing a sentence leaves its vector unchanged.
    With sequence_window > 0 it changes, and the extra weights are the only difference."""
    torch.manual_seed(0)
    x, mask = random_batch(3, 8, 16, seed=4, min_length=8)  # full rows, so reversal keeps the mask
    reversed_x = x.flip(1)
    paper = GlotPooling(16, threshold=0.1, conv=conv).eval()
    torch.testing.assert_close(pooled(paper, x, mask), pooled(paper, reversed_x, mask), atol=1e-5, rtol=1e-5)
    ordered = GlotPooling(16, threshold=0.1, conv=conv, sequence_window=1).eval()
    difference = (pooled(ordered, x, mask) - pooled(ordered, reversed_x, mask)).abs().max()
    assert difference > 1e-3
    extra = set(ordered.state_dict()) - set(paper.state_dict())
    assert extra == {f"gnn.sequence_layers.{i}.lin_{side}.weight" for i in range(2) for side in ("prev", "next")}
