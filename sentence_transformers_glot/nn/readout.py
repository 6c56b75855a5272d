r"""Readouts: from refined token vectors ``u`` and a mask to one vector per sentence.

Shapes: the learned readout takes packed ``(N, D)`` token vectors with each node's sentence (the layout of
:mod:`sentence_transformers_glot.nn.packing`); the parameter-free ones take ``(B, L, D)`` padded with a ``(B, L)``
mask (what keeps them equal to sentence-transformers' ``Pooling``); both give ``(B, D)``.

``attention`` is the paper's learned readout,

.. math::  m_i = v^\top \tanh(W_m u_i + b_m), \qquad \pi = \mathrm{softmax}_{i \in \text{tokens}}(m),
           \qquad z = \sum_i \pi_i u_i,

and ``mean``/``max``/``cls``/``last`` are the parameter-free poolings, written to agree with
sentence-transformers' ``Pooling`` for any padding side. A sentence with no real token pools to zeros.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from sentence_transformers_glot.nn.functional import (
    indptr_from_index,
    segment_matrix,
    segment_reduce,
    segment_softmax,
)
from sentence_transformers_glot.options import READOUTS  # noqa: F401  (re-exported: the readouts this module implements)


def masked_mean(u: Tensor, mask: Tensor) -> Tensor:
    """Mean over real tokens."""
    weights = mask.unsqueeze(-1).to(u.dtype)
    return (u * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def masked_max(u: Tensor, mask: Tensor) -> Tensor:
    """Element-wise max over real tokens (0 for an empty sentence)."""
    out = u.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1)
    return out.masked_fill(~mask.any(1, keepdim=True), 0.0)


def first_token(u: Tensor, mask: Tensor) -> Tensor:
    """The first real token ([CLS] for BERT-style models), whichever side the padding is on."""
    index = mask.int().argmax(1)
    return u[torch.arange(u.shape[0], device=u.device), index] * mask.any(1, keepdim=True)


def last_token(u: Tensor, mask: Tensor) -> Tensor:
    """The last real token ([EOS] for decoder-only models), whichever side the padding is on."""
    index = mask.shape[1] - 1 - mask.int().flip(1).argmax(1)
    return u[torch.arange(u.shape[0], device=u.device), index] * mask.any(1, keepdim=True)


class AttentionReadout(nn.Module):
    r"""Additive-attention readout :math:`z_b = \sum_{i \in b} \pi_i u_i`,
    :math:`\pi = \mathrm{softmax}_{i \in b}(v^\top \tanh(W_m u_i + b_m))`, over packed token vectors.

    Args:
        in_dim: dimension ``D`` of the token vectors.
        hidden_dim: rows of :math:`W_m`; the reference code uses ``max(128, D // 2)``.

    Shapes:
        - **input:** token vectors ``u`` ``(N, D)`` (or its column blocks, see :meth:`forward`), sentence
          ``index`` ``(N,)`` ascending, optional CSR offsets ``ptr`` ``(B + 1,)``, ``dim_size`` ``B``
          (the ``x, index, ptr, dim_size`` layout of PyTorch Geometric's aggregations)
        - **output:** ``(B, D)``; a sentence with no token gets zeros.

    The scores are computed as :math:`2 v^\top \sigma(2 (W_m u_i + b_m))`: since
    :math:`\tanh a = 2 \sigma(2a) - 1`, they differ from :math:`v^\top \tanh(W_m u_i + b_m)` by the constant
    :math:`-\sum_k v_k`, which the softmax over a sentence's tokens cancels. Same weights (to float rounding, about
    1e-7), and a logistic is cheaper than ``tanh`` on a CPU.
    """

    def __init__(self, in_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, hidden_dim)
        self.score = nn.Linear(hidden_dim, 1, bias=False)  # a bias would cancel in the softmax

    def logits(self, u: Tensor | list[Tensor]) -> Tensor:
        r"""``(N,)`` scores :math:`2 v^\top \sigma(2 (W_m u_i + b_m))` of packed ``u`` or its column blocks.

        The scorer's first product splits by columns, :math:`W_m u_i = \sum_k W_m^{(k)} u_{i,k}`, accumulated in
        place; the sigmoid overwrites that fresh product (one ``(N, hidden_dim)`` buffer fewer per forward).
        """
        blocks = [u] if isinstance(u, Tensor) else list(u)
        width = blocks[0].shape[-1]
        hidden = torch.addmm(self.proj.bias, blocks[0], self.proj.weight[:, :width].T, beta=2, alpha=2)
        for block in blocks[1:]:
            hidden = hidden.addmm_(block, self.proj.weight[:, width : width + block.shape[-1]].T, alpha=2)
            width += block.shape[-1]
        return self.score(hidden.sigmoid_()).squeeze(-1) * 2

    def weights(self, u: Tensor | list[Tensor], index: Tensor, ptr: Tensor | None = None,
                dim_size: int | None = None) -> Tensor:
        """Attention weights ``pi`` ``(N,)``, summing to 1 over each sentence's tokens."""
        dim_size, ptr = _segments(index, ptr, dim_size)
        return segment_softmax(self.logits(u), index, ptr, dim_size)

    def forward(self, u: Tensor | list[Tensor], index: Tensor, ptr: Tensor | None = None,
                dim_size: int | None = None) -> Tensor:
        r"""Pool packed token vectors ``(N, D)``; ``index[n]`` is node ``n``'s sentence (ascending).

        A per-sentence :func:`~sentence_transformers_glot.nn.functional.segment_softmax` (torch-scatter kernels
        when installed), then the weighted sums. Without gradient (encoding), the weighted sums of all sentences
        are one sparse x dense product with the ``(B, N)``
        :func:`~sentence_transformers_glot.nn.functional.segment_matrix` of the weights (on CPU and CUDA, which
        have sparse CSR products); in training they are ``segment_reduce`` sums, so no gradient depends on a
        sparse backward.

        ``u`` may also be the column blocks ``[u_1, ..., u_m]`` of ``u = [u_1 \| ... \| u_m]`` (jumping
        knowledge's ``[x \| h^1 \| h^2]``): the result is the same, without building ``u``.
        """
        dim_size, ptr = _segments(index, ptr, dim_size)
        blocks = [u] if isinstance(u, Tensor) else list(u)
        weights = self.weights(blocks, index, ptr, dim_size)
        if not weights.requires_grad and weights.device.type in SPARSE_DEVICES:
            pooling = segment_matrix(weights, ptr)
            pooled = [pooling @ block for block in blocks]
        else:
            pooled = [segment_reduce(weights[:, None] * block, index, ptr, dim_size, "sum") for block in blocks]
        return pooled[0] if len(pooled) == 1 else torch.cat(pooled, dim=-1)


def _segments(index: Tensor, ptr: Tensor | None, dim_size: int | None) -> tuple[int, Tensor]:
    """``dim_size`` (one more than the largest index when not given) and the CSR offsets of ``index``."""
    if dim_size is None:
        dim_size = int(index.max()) + 1 if index.numel() else 0
    return dim_size, indptr_from_index(index, dim_size) if ptr is None else ptr


SPARSE_DEVICES = ("cpu", "cuda")  # devices with sparse CSR x dense products (MPS and XLA have none)

_FUNCTIONAL_READOUTS = {"mean": masked_mean, "max": masked_max, "cls": first_token, "last": last_token}


def functional_readout(name: str):
    """The parameter-free readout called ``name`` (``mean``, ``max``, ``cls`` or ``last``)."""
    return _FUNCTIONAL_READOUTS[name]
