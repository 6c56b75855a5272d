r"""Readouts: from refined token vectors ``u`` and a mask to one vector per sentence.

Shapes: ``u`` ``(B, L, D)`` padded with a ``(B, L)`` mask, or ``(N, D)`` packed with each node's sentence,
-> ``(B, D)``.

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
    masked_softmax,
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
    r"""Additive-attention readout :math:`z = \sum_i \mathrm{softmax}(v^\top \tanh(W_m u_i + b_m))_i\, u_i`.

    Args:
        in_dim: dimension ``D`` of the token vectors.
        hidden_dim: rows of :math:`W_m`; the reference code uses ``max(128, D // 2)``.

    The scores are computed as :math:`2 v^\top \sigma(2 (W_m u_i + b_m))`: since
    :math:`\tanh a = 2 \sigma(2a) - 1`, they differ from :math:`v^\top \tanh(W_m u_i + b_m)` by the constant
    :math:`-\sum_k v_k`, which the softmax over a sentence's tokens cancels. Same weights (to float rounding, about
    1e-7), and a logistic is 5-7x cheaper than ``tanh`` on a CPU (``tanh`` was the largest operator above the
    matrix products; see ``benchmarks/flop_floor.py``).
    """

    def __init__(self, in_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, hidden_dim)
        self.score = nn.Linear(hidden_dim, 1, bias=False)  # a bias would cancel in the softmax

    def logits(self, hidden: Tensor) -> Tensor:
        r"""Scores from ``hidden`` :math:`= 2 (W_m u + b_m)`: :math:`2 v^\top \sigma(\text{hidden})` (class docstring).

        ``hidden`` is overwritten with :math:`\sigma(\text{hidden})`: the callers pass a fresh product, and one
        ``(N, hidden_dim)`` buffer fewer per forward is measurable on a CPU (fresh memory is paid for in page
        faults on first touch).
        """
        return self.score(hidden.sigmoid_()).squeeze(-1) * 2

    def weights(self, u: Tensor, mask: Tensor) -> Tensor:
        """Attention weights ``pi`` ``(B, L)``: zero on padding, summing to 1 over real tokens."""
        logits = self.logits(torch.addmm(self.proj.bias, u.reshape(-1, u.shape[-1]), self.proj.weight.T, beta=2,
                                         alpha=2).view(*u.shape[:-1], -1))
        return masked_softmax(logits, mask, dim=-1)  # an empty sentence gets all-zero weights, not NaN

    def forward(self, u: Tensor, mask: Tensor) -> Tensor:
        """Pool padded token vectors ``(B, L, D)`` with mask ``(B, L)``."""
        return torch.einsum("bl,bld->bd", self.weights(u, mask), u)

    def pool_packed(self, u: Tensor | list[Tensor], batch_index: Tensor, batch_size: int) -> Tensor:
        r"""Pool packed token vectors ``(N, D)``; ``batch_index[n]`` is node ``n``'s sentence (ascending).

        The same function as :meth:`forward` without computing on padding: a per-sentence
        :func:`~sentence_transformers_glot.nn.functional.segment_softmax` (torch-scatter kernels when installed),
        then the weighted sums. Without gradient (encoding), the weighted sums of all sentences are one sparse x
        dense product with the ``(B, N)`` :func:`~sentence_transformers_glot.nn.functional.segment_matrix` of the
        weights (on CPU and CUDA, which have sparse CSR products); in training they are ``segment_reduce`` sums,
        as the edge list's messages with learned coefficients are, so no gradient depends on a sparse backward.
        A sentence with no token gets zeros.

        ``u`` may also be the column blocks ``[u_1, ..., u_m]`` of ``u = [u_1 \| ... \| u_m]`` (jumping
        knowledge's ``[x \| h^1 \| h^2]``): the result is the same, without building ``u``. The scorer's first
        product splits by columns, :math:`W_m u_i = \sum_k W_m^{(k)} u_{i,k}`, and the weighted sum by blocks.
        """
        blocks = [u] if isinstance(u, Tensor) else list(u)
        width = blocks[0].shape[-1]
        hidden = torch.addmm(self.proj.bias, blocks[0], self.proj.weight[:, :width].T, beta=2, alpha=2)
        for block in blocks[1:]:  # accumulate in place: no copy of the (N, hidden) sum per block
            hidden = hidden.addmm_(block, self.proj.weight[:, width : width + block.shape[-1]].T, alpha=2)
            width += block.shape[-1]
        logits = self.logits(hidden)
        indptr = indptr_from_index(batch_index, batch_size)
        weights = segment_softmax(logits, batch_index, indptr, batch_size)
        if not weights.requires_grad and weights.device.type in SPARSE_DEVICES:
            pooling = segment_matrix(weights, indptr)
            pooled = [pooling @ block for block in blocks]
        else:
            pooled = [segment_reduce(weights[:, None] * block, batch_index, indptr, batch_size, "sum")
                      for block in blocks]
        return pooled[0] if len(pooled) == 1 else torch.cat(pooled, dim=-1)


SPARSE_DEVICES = ("cpu", "cuda")  # devices with sparse CSR x dense products (MPS and XLA have none)

_FUNCTIONAL_READOUTS = {"mean": masked_mean, "max": masked_max, "cls": first_token, "last": last_token}


def functional_readout(name: str):
    """The parameter-free readout called ``name`` (``mean``, ``max``, ``cls`` or ``last``)."""
    return _FUNCTIONAL_READOUTS[name]
