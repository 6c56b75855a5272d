"""The token GNN: order edges make GLOT see word order."""

from __future__ import annotations

import pytest
import torch
from helpers import pooled, random_batch

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.nn.gnn import CONVS


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
