r"""The similarity a token graph is cut from, written once: unit vectors, the :math:`\tau` cut, each token's
top-:math:`k`, the automatic :math:`\tau` of ``threshold="auto"``, cosine edge weights, and the density estimate
the ``"auto"`` backend reads. :mod:`.graph` and :mod:`.band` build their graphs from these.

For a sentence with real tokens :math:`x_1..x_n`, :math:`j \to i` (``i != j``) is an edge when

.. math::  \cos(x_i, x_j) > \tau   \quad\text{and, with } k \text{ set,}\quad
           j \in \operatorname{top-}k_{j' \ne i} \cos(x_i, x_{j'})
"""

from __future__ import annotations

from typing import Union

import torch
import torch.nn.functional as F
from torch import Tensor

from sentence_transformers_glot.options import EDGE_WEIGHTS

#: :math:`\tau` as the builders take it: one float, one per sentence ``(B,)`` (``threshold="auto"``, made by
#: :func:`density_thresholds`), or ``None`` (every pair).
Threshold = Union[float, Tensor, None]


def normalize_tokens(x: Tensor) -> Tensor:
    """Unit-normalise token vectors; all-zero vectors (padding) stay zero."""
    return F.normalize(x, p=2.0, dim=-1, eps=1e-12)


def threshold_cut(sim: Tensor, valid: Tensor, threshold: Threshold) -> Tensor:
    """The pairs of ``valid`` whose similarity ``sim`` is strictly greater than :math:`\tau` (each sentence's own
    when ``threshold`` is a ``(B,)`` tensor, broadcast over ``sim``'s ``(B, ...)``); every valid pair for ``None``."""
    if threshold is None:
        return valid
    if isinstance(threshold, Tensor):
        threshold = threshold.view(-1, *([1] * (sim.dim() - 1)))
    return valid & (sim > threshold)


def density_thresholds(unit: Tensor, mask: Tensor, density: float) -> Tensor:
    r"""A threshold per sentence, ``(B,)``, that keeps ``density`` of its pairs of distinct real tokens as edges.

    For a sentence with :math:`n` real tokens, :math:`m = \mathrm{round}(\rho\, n (n - 1) / 2)` and
    :math:`\tau = s_{(m + 1)}`, the :math:`(m+1)`-th largest cosine over its pairs :math:`i < j`, so that exactly
    the :math:`m` more similar pairs pass ``cos > tau`` (both directions: :math:`2m` edges; more on ties).
    Padding never enters: each sentence's value is the same in any batch, on either padding side. Costs one
    sort of the ``(B, L * L)`` similarities (meant for sentence-length inputs; long documents use ``top_k``).

    Args:
        unit: ``normalize_tokens`` of the token states, ``(B, L, d)``.
        mask: ``(B, L)`` bool, True for the tokens that are nodes.
        density: :math:`\rho \in (0, 1]`.
    """
    batch, length, _ = unit.shape
    sim = torch.matmul(unit, unit.transpose(1, 2))
    upper = torch.ones(length, length, dtype=torch.bool, device=unit.device).triu(1)
    valid = mask[:, :, None] & mask[:, None, :] & upper
    scores = sim.masked_fill(~valid, float("-inf")).reshape(batch, -1)
    pairs = valid.reshape(batch, -1).sum(1)
    wanted = torch.round(density * pairs.to(sim.dtype)).long()
    ordered = scores.sort(dim=1, descending=True).values
    # wanted == pairs picks a -inf: every pair is an edge
    return ordered.gather(1, wanted.clamp(max=max(length * length - 1, 0))[:, None]).squeeze(1)


def similarity_edges(
    xn: Tensor, mask: Tensor, start: int, stop: int, threshold: Threshold, top_k: int | None
) -> tuple[Tensor, Tensor]:
    """Boolean edges ``(B, stop - start, L)`` for destination rows ``start:stop`` (``out[b, i, j]``: j -> i),
    and the cosine similarities of the same block. ``threshold`` is one float, or one per sentence ``(B,)``."""
    sim = torch.matmul(xn[:, start:stop], xn.transpose(1, 2))
    rows = torch.arange(start, stop, device=xn.device)
    cols = torch.arange(xn.shape[1], device=xn.device)
    valid = mask[:, start:stop, None] & mask[:, None, :] & (rows[:, None] != cols[None, :])
    edges = threshold_cut(sim, valid, threshold)
    if top_k is not None:
        k = min(top_k, xn.shape[1] - 1)
        if k <= 0:
            return torch.zeros_like(valid), sim
        scores = sim.masked_fill(~valid, float("-inf"))
        # A tie between the k-th and (k+1)-th largest scores (duplicate or all-zero token vectors) must not be
        # broken by torch.topk: which of equal scores it returns depends on the row length, i.e. on the padded
        # length of the batch and the padding side, so a sentence's graph changed with its batch mates. Such
        # ties go to the lowest positions, an order padding never changes; without one, topk's set is exact.
        values, nearest = scores.topk(k + 1, dim=-1)  # k <= L - 1, so k + 1 scores exist
        kth = values[..., k - 1 : k]
        if bool(((kth == values[..., k:]) & (kth > float("-inf"))).any()):
            above = scores > kth
            tied = scores == kth
            room = k - above.sum(-1, keepdim=True, dtype=torch.int32)
            chosen = above | (tied & (tied.cumsum(-1, dtype=torch.int32) <= room))
        else:
            chosen = torch.zeros_like(valid).scatter_(-1, nearest[..., :k], True)
        edges = edges & chosen  # `& valid` drops picks among -inf when a sentence has < k other tokens
    return edges, sim


def weighted_edges(edges: Tensor, sim: Tensor, edge_weight: str) -> tuple[Tensor, Tensor | None]:
    """``edge_weight="cosine"``: each edge weighs its cosine, and edges with cosine <= 0 are dropped (a
    weight must be positive to enter a mean or an attention softmax); ``"binary"``: unchanged, no weights."""
    if edge_weight == "binary":
        return edges, None
    if edge_weight != "cosine":
        raise ValueError(f"unknown edge_weight {edge_weight!r}; expected one of {EDGE_WEIGHTS}")
    edges = edges & (sim > 0)
    return edges, sim


def estimate_density(x: Tensor, mask: Tensor, threshold: Threshold, top_k: int | None, rows: int = 64,
                     unit: Tensor | None = None) -> float:
    """Edges / ``B * L * L`` of the token graph, counted exactly on ``rows`` evenly spaced destination rows.

    Costs about ``rows / L`` of the full similarity matrix; a row's edge count is ``min(k, #valid pairs
    above the threshold)``, so no top-k is needed.
    """
    batch, length, _ = x.shape
    xn = normalize_tokens(x) if unit is None else unit
    picked = torch.linspace(0, length - 1, steps=min(rows, length), device=x.device).long().unique()
    sim = torch.matmul(xn[:, picked], xn.transpose(1, 2))  # (B, r, L)
    valid = mask[:, picked, None] & mask[:, None, :] & (picked[:, None] != torch.arange(length, device=x.device))
    edges = threshold_cut(sim, valid, threshold)
    per_row = edges.sum(-1)
    if top_k is not None:
        per_row = per_row.clamp(max=top_k)
    return float(per_row.sum()) / (batch * picked.numel() * length)
