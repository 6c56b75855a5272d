"""The packed layout: the varlen (unpadded) helpers and PackedNodes read the same tokens."""

from __future__ import annotations

import torch


def test_varlen_helpers_read_the_unpadded_layout():
    from sentence_transformers_glot.nn.packing import PackedNodes, split_varlen, varlen_mask, varlen_rows

    cu = torch.tensor([0, 2, 2, 5], dtype=torch.int32)  # lengths 2, 0, 3
    mask = varlen_mask(cu)
    assert mask.tolist() == [[True, True, False], [False, False, False], [True, True, True]]
    x = torch.arange(12.0).view(1, 6, 2)  # one trailing row beyond cu[-1] is not a token
    assert torch.equal(varlen_rows(x, cu), x[0, :5])
    assert [part.shape[0] for part in split_varlen(x, cu)] == [2, 0, 3]
    nodes = PackedNodes.from_mask(mask)
    assert nodes.batch_index.tolist() == [0, 0, 2, 2, 2] and nodes.ptr.tolist() == [0, 2, 2, 5]
    assert torch.equal(nodes.pack(nodes.to_padded(varlen_rows(x, cu))), varlen_rows(x, cu))
    assert varlen_mask(torch.zeros(1, dtype=torch.int32)).shape == (0, 0)
