"""The attention readout on packed tokens: the tanh formula on jumping knowledge's column blocks, the padded
formula with an empty sentence, and the sparse product against the segment sums."""

from __future__ import annotations

import torch
from helpers import random_batch


def test_readout_on_column_blocks_equals_the_tanh_formula_on_their_concatenation():
    """Jumping knowledge's blocks are never concatenated, and the scores use 2 sigma(2a) - 1 = tanh(a) with the
    constant dropped: both must give the paper's softmax(v^T tanh(W u + b)) weighted sum."""
    from sentence_transformers_glot.nn.packing import PackedNodes
    from sentence_transformers_glot.nn.readout import AttentionReadout

    torch.manual_seed(0)
    x, mask = random_batch(4, 7, 24, seed=5)
    readout = AttentionReadout(24, 16)
    with torch.no_grad():  # large scores, far from tanh's linear range, so a wrong identity would show
        readout.proj.weight.mul_(8)
        readout.score.weight.mul_(8)
    nodes = PackedNodes.from_mask(mask)
    u = nodes.pack(x)
    blocks = readout([u[:, :8], u[:, 8:20], u[:, 20:]], nodes.batch_index, nodes.ptr, 4)
    whole = readout(u, nodes.batch_index)
    expected = []
    for b in range(4):
        tokens = x[b, mask[b]]
        weights = torch.softmax(readout.score(torch.tanh(readout.proj(tokens))).squeeze(-1), 0)
        expected.append(weights @ tokens)
    torch.testing.assert_close(blocks, whole, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(whole, torch.stack(expected), atol=1e-5, rtol=1e-5)


def test_packed_attention_readout_equals_the_padded_one():
    from sentence_transformers_glot.nn.packing import PackedNodes
    from sentence_transformers_glot.nn.readout import AttentionReadout

    torch.manual_seed(0)
    x, mask = random_batch(5, 9, 16, seed=11)
    mask[2] = False  # an empty sentence pools to zeros on both paths
    readout = AttentionReadout(16, 8)
    nodes = PackedNodes.from_mask(mask)
    packed = readout(nodes.pack(x), nodes.batch_index, nodes.ptr, 5)
    # the padded formula, as a reader would write it: softmax over each row's real tokens
    scores = readout.score(torch.tanh(readout.proj(x))).squeeze(-1).masked_fill(~mask, float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, dim=-1))  # the empty row: all -inf -> NaN -> 0
    padded = torch.einsum("bl,bld->bd", weights, torch.where(mask[..., None], x, 0.0))
    assert torch.allclose(packed, padded, atol=1e-6)
    assert torch.equal(packed[2], torch.zeros(16))
    # dim_size and ptr default from the index (PyG's convention): the same vectors
    assert torch.equal(readout(nodes.pack(x), nodes.batch_index, dim_size=5), packed)
    pi = readout.weights(nodes.pack(x), nodes.batch_index, nodes.ptr, 5)
    assert torch.allclose(nodes.to_padded(pi[:, None]).squeeze(-1), weights, atol=1e-6)


def test_packed_readout_sparse_product_matches_the_segment_sum(monkeypatch):
    """Encoding (no gradient) takes the weighted sums as one CSR product, other devices and training take segment
    sums: the two agree, with an empty sentence in the batch; with gradients the segment path runs."""
    from sentence_transformers_glot.nn import functional
    from sentence_transformers_glot.nn import readout as readout_module
    from sentence_transformers_glot.nn.packing import PackedNodes
    from sentence_transformers_glot.nn.readout import AttentionReadout

    torch.manual_seed(0)
    x, mask = random_batch(5, 9, 16, seed=3)
    mask[1] = False
    readout = AttentionReadout(16, 8)
    nodes = PackedNodes.from_mask(mask)
    built = []
    monkeypatch.setattr(readout_module, "segment_matrix", lambda *a: built.append(1) or functional.segment_matrix(*a))

    def pooled():
        with torch.no_grad():
            u = nodes.pack(x)
            return readout([u[:, :5], u[:, 5:]], nodes.batch_index, nodes.ptr, 5)

    sparse = pooled()
    assert built == [1]
    monkeypatch.setattr(readout_module, "SPARSE_DEVICES", ())
    segment = pooled()
    assert built == [1]
    assert torch.equal(sparse[1], torch.zeros(16))
    torch.testing.assert_close(sparse, segment, atol=1e-6, rtol=1e-5)
    monkeypatch.setattr(readout_module, "SPARSE_DEVICES", ("cpu", "cuda"))
    u = nodes.pack(x).requires_grad_()
    readout(u, nodes.batch_index, nodes.ptr, 5).sum().backward()
    assert built == [1] and u.grad is not None
