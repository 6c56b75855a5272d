r"""The packed layout: a batch's real tokens as nodes ``0..N-1``, grouped by sentence.

Every per-token layer of GLOT (layer mix, normalisation, GNN, readout) runs on the packed ``(N, D)`` node
features, never on padding. :class:`PackedNodes` is made once per forward and passed down: it maps nodes to
their padded positions (``node_index``), to their sentences (``batch_index``, ascending) and gives each
sentence's node range as CSR offsets (``ptr``: nodes ``ptr[b]:ptr[b+1]`` are sentence ``b``'s), the
``x, index, ptr, dim_size`` layout of PyTorch Geometric's aggregations.

Two inputs arrive in it: a padded ``(B, L)`` mask (:meth:`PackedNodes.from_mask`), and the unpadded
("varlen") output of a flash-attention backbone, ``(1, total, ...)`` rows with cumulative sentence lengths
``cu_seq_lens`` (:func:`varlen_mask`, :func:`split_varlen`): the one place that reads that layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from sentence_transformers_glot.nn.functional import indptr_from_index


@dataclass
class PackedNodes:
    """The real tokens of a padded ``(B, L)`` batch as nodes ``0..N-1`` (row-major).

    ``node_index[n]`` is node ``n``'s flat position in ``B * L``; ``batch_index[n]`` its sentence.
    """

    node_index: Tensor
    batch_shape: tuple[int, int]
    _cache: dict[object, object] = field(default_factory=dict, repr=False)

    @classmethod
    def from_mask(cls, mask: Tensor) -> PackedNodes:
        """The nodes of the True positions of a ``(B, L)`` mask."""
        return cls(mask.reshape(-1).nonzero().squeeze(-1), tuple(mask.shape))

    @property
    def num_nodes(self) -> int:
        return self.node_index.numel()

    @property
    def batch_size(self) -> int:
        return self.batch_shape[0]

    @property
    def batch_index(self) -> Tensor:
        """``(N,)`` sentence of each node, ascending."""
        if "batch_index" not in self._cache:
            self._cache["batch_index"] = self.node_index // self.batch_shape[1]
        return self._cache["batch_index"]

    @property
    def ptr(self) -> Tensor:
        """``(B + 1,)`` CSR offsets: nodes ``ptr[b]:ptr[b+1]`` belong to sentence ``b``."""
        if "ptr" not in self._cache:
            self._cache["ptr"] = indptr_from_index(self.batch_index, self.batch_size)
        return self._cache["ptr"]

    def pack(self, x: Tensor) -> Tensor:
        """Gather the real tokens of a padded ``(B, L, *F)`` tensor into ``(N, *F)``."""
        return x.reshape(-1, *x.shape[2:])[self.node_index]

    def to_padded(self, h: Tensor) -> Tensor:
        """Scatter node features ``(N, D)`` back to a zero-padded ``(B, L, D)`` tensor."""
        batch, length = self.batch_shape
        out = h.new_zeros(batch * length, h.shape[-1])
        out[self.node_index] = h
        return out.view(batch, length, h.shape[-1])

    def shifted(self, offset: int) -> tuple[Tensor, Tensor]:
        """For each node, the node ``offset`` real tokens later in its sentence (earlier when negative).

        Returns ``(index, exists)``, both ``(N,)``: where ``exists`` is False the sentence has no such
        token and ``index`` is an arbitrary valid node. A sentence's real tokens are consecutive nodes in
        position order, so counting over nodes counts over real tokens, whichever side the padding is on.
        """
        if offset not in self._cache:  # every layer of a forward pass asks for the same offsets
            n = self.num_nodes
            target = torch.arange(n, device=self.node_index.device) + offset
            inside = (target >= 0) & (target < n)
            target = target.clamp(0, max(n - 1, 0))
            batch_index = self.batch_index
            self._cache[offset] = (target, inside & (batch_index[target] == batch_index))
        return self._cache[offset]


def varlen_mask(cu_seq_lens: Tensor) -> Tensor:
    """``(B, L)`` mask of the real tokens of an unpadded batch with cumulative lengths ``cu_seq_lens``
    ``(B + 1,)``, ``L`` the longest sentence: the padded layout whose True positions, row-major, are the
    unpadded rows in order."""
    bounds = cu_seq_lens.long()
    lengths = bounds[1:] - bounds[:-1]
    length = int(lengths.max()) if lengths.numel() else 0
    return torch.arange(length, device=bounds.device)[None, :] < lengths[:, None]


def varlen_rows(x: Tensor, cu_seq_lens: Tensor) -> Tensor:
    """The ``total`` unpadded rows ``(total, *F)`` of a varlen output ``(1, total', *F)`` (``total' >= total``)."""
    return x.reshape(-1, *x.shape[2:])[: int(cu_seq_lens[-1])] if cu_seq_lens.numel() else x[:0].flatten(0, 1)


def split_varlen(x: Tensor, cu_seq_lens: Tensor) -> list[Tensor]:
    """Each sentence's rows ``(length_b, *F)`` of a varlen output ``(1, total, *F)``."""
    bounds = cu_seq_lens.tolist()
    rows = varlen_rows(x, cu_seq_lens)
    return [rows[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]
