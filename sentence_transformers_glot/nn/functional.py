r"""Segment operations over sorted segments: torch-scatter kernels when installed, native torch otherwise.

A *segment layout* is ``index`` (the segment of each row, sorted ascending) with CSR offsets ``indptr``
(``indptr[s]:indptr[s+1]`` are the rows of segment ``s``). Two layouts use it: the edges of an edge-list
graph grouped by destination node (GAT's softmax over incoming edges), and the packed real tokens grouped
by sentence (the attention readout's per-sentence softmax and weighted sum).

* :func:`segment_reduce`: :math:`\mathrm{out}_s = \mathrm{reduce}_{r \in s}\, v_r` (sum, mean or max; an
  empty segment gets 0, or ``-inf`` for max);
* :func:`segment_softmax`: :math:`\alpha_r = e^{v_r - m_s} / \sum_{r' \in s} e^{v_{r'} - m_s}`,
  :math:`m_s = \max_{r \in s} v_r` (detached; the softmax does not depend on it);
* :func:`masked_softmax`: the same softmax on a dense ``(..., L)`` layout with a boolean mask; a row
  with no valid entry gets all-zero weights instead of NaN;
* :func:`segment_matrix`: the ``(num_segments, R)`` CSR matrix :math:`P_{s r} = w_r` for :math:`r \in s`, so that
  one sparse x dense product :math:`P V` is the weighted segment sum :math:`\sum_{r \in s} w_r v_r`.

With torch-scatter installed the segment operations run ``torch_scatter.segment_csr`` / ``gather_csr``;
without it they run ``scatter_reduce`` / ``index_add_`` and warn once (:func:`warnings.warn`). Both give
the same numbers (``tests/nn/test_functional.py``). Neighbour *sums and means with constant weights* on the
edge list do not come here: they are one CSR sparse x dense product (``graph.SparseTokenGraph.propagate``),
which avoids the ``(E, D)`` gather of neighbour features.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

try:  # pragma: no cover - which branch runs depends on the environment
    from torch_scatter import gather_csr as _gather_csr
    from torch_scatter import segment_csr as _segment_csr

    HAS_TORCH_SCATTER = True
except ImportError:  # pragma: no cover
    _gather_csr = _segment_csr = None
    HAS_TORCH_SCATTER = False

INSTALL_HINT = "pip install --no-build-isolation torch-scatter"
REDUCES = ("sum", "mean", "max")

# The one piece of module state: whether the native-fallback warning has been shown.
_warned_fallback = False


def use_kernels(use_torch_scatter: bool = True) -> bool:
    """Whether the torch-scatter kernels run; warns once when they were wanted but are not installed."""
    global _warned_fallback
    if use_torch_scatter and HAS_TORCH_SCATTER:
        return True
    if use_torch_scatter and not _warned_fallback:
        _warned_fallback = True
        warnings.warn(
            "torch-scatter is not installed: GlotPooling's segment softmax and reductions (attention readout, "
            f"GAT on the edge list) use slower native torch ops. Install it with `{INSTALL_HINT}`.",
            RuntimeWarning,
            stacklevel=3,
        )
    return False


def _expand(index: Tensor, like: Tensor) -> Tensor:
    return index.view(-1, *([1] * (like.dim() - 1))).expand_as(like)


def segment_reduce(
    values: Tensor, index: Tensor, indptr: Tensor, num_segments: int, reduce: str, use_torch_scatter: bool = True
) -> Tensor:
    """Reduce rows ``(R, *)`` into segments ``(num_segments, *)``.

    Args:
        values: one row per element, in the order of ``index``.
        index: segment of each row, sorted ascending, ``(R,)``.
        indptr: CSR offsets ``(num_segments + 1,)``, consistent with ``index``.
        num_segments: number of segments.
        reduce: ``"sum"``, ``"mean"`` or ``"max"`` (empty segments: 0, 0, ``-inf``).
        use_torch_scatter: use torch-scatter's ``segment_csr`` when it is installed.
    """
    if reduce not in REDUCES:
        raise ValueError(f"unknown reduce {reduce!r}; expected one of {REDUCES}")
    if use_kernels(use_torch_scatter):
        out = _segment_csr(values, indptr, reduce=reduce)
        if reduce == "max":  # torch-scatter fills empty segments with 0; the native semantics are -inf
            empty = (indptr[1:] == indptr[:-1]).view(-1, *([1] * (values.dim() - 1)))
            out = out.masked_fill(empty, float("-inf"))
        return out
    shape = (num_segments, *values.shape[1:])
    if reduce == "max":
        out = values.new_full(shape, float("-inf"))
        return out.scatter_reduce(0, _expand(index, values), values, reduce="amax", include_self=True)
    out = values.new_zeros(shape).index_add_(0, index, values)
    if reduce == "mean":
        count = (indptr[1:] - indptr[:-1]).clamp(min=1).to(values.dtype)
        out = out / count.view(-1, *([1] * (values.dim() - 1)))
    return out


def segment_gather(values: Tensor, index: Tensor, indptr: Tensor, use_torch_scatter: bool = True) -> Tensor:
    """Broadcast segment values ``(num_segments, *)`` back to their rows ``(R, *)`` (``values[index]``)."""
    if use_kernels(use_torch_scatter):
        return _gather_csr(values, indptr)
    return values[index]


def segment_softmax(
    logits: Tensor, index: Tensor, indptr: Tensor, num_segments: int, use_torch_scatter: bool = True
) -> Tensor:
    r"""Softmax of ``logits`` ``(R,)`` within each segment; shapes as :func:`segment_reduce`.

    :math:`\alpha_r = \exp(v_r - m_s) / \sum_{r' \in s} \exp(v_{r'} - m_s)` with the segment max :math:`m_s`
    subtracted for stability (detached: the softmax is shift-invariant, so no gradient is lost).
    """
    peak = segment_reduce(logits.detach(), index, indptr, num_segments, "max", use_torch_scatter)
    peak = torch.where(torch.isfinite(peak), peak, 0.0)  # empty segments have no rows to normalise
    weights = torch.exp(logits - segment_gather(peak, index, indptr, use_torch_scatter))
    total = segment_reduce(weights, index, indptr, num_segments, "sum", use_torch_scatter)
    return weights / segment_gather(total, index, indptr, use_torch_scatter)


def masked_softmax(logits: Tensor, mask: Tensor, dim: int = -1) -> Tensor:
    """Softmax over ``dim`` of the entries where ``mask`` is True; 0 elsewhere, and 0 on a row with no
    True entry (instead of ``softmax(all -inf) = NaN``). ``mask`` broadcasts against ``logits``."""
    logits = logits.masked_fill(~mask, float("-inf"))
    logits = logits.masked_fill(~mask.any(dim, keepdim=True), 0.0)
    return torch.softmax(logits, dim=dim) * mask


def indptr_from_index(index: Tensor, num_segments: int) -> Tensor:
    """CSR offsets ``(num_segments + 1,)`` of a sorted segment index."""
    counts = torch.bincount(index, minlength=num_segments)
    return torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])


def exclude_prompt(mask: Tensor, prompt_length: int | Tensor) -> Tensor:
    """``mask`` (``(B, L)``, bool) without each row's first ``prompt_length`` real tokens: the prompt that
    sentence-transformers prepends (after any left padding). ``prompt_length`` is an int or a tensor whose first
    value is used, as sentence-transformers passes it."""
    length = int(prompt_length.reshape(-1)[0]) if isinstance(prompt_length, Tensor) else int(prompt_length)
    first = mask.int().argmax(dim=1)  # the first real token: 0 with right padding
    positions = torch.arange(mask.shape[1], device=mask.device)
    return mask & (positions[None, :] >= (first + length)[:, None])


def csr_matrix(indptr: Tensor, columns: Tensor, values: Tensor, size: tuple[int, int]) -> Tensor:
    """A sparse CSR matrix from its parts, without torch's "CSR support is in beta" warning (the CSR x dense
    product used here is stable) and without the invariant check (the callers build valid layouts).
    Gradients flow to ``values``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse CSR tensor support is in beta.*")
        return torch.sparse_csr_tensor(indptr, columns, values, size=size, check_invariants=False)


def segment_matrix(weights: Tensor, indptr: Tensor) -> Tensor:
    r"""The ``(num_segments, R)`` CSR matrix with :math:`P_{s r} = w_r` for the rows :math:`r` of segment
    :math:`s` (0 elsewhere): ``segment_matrix(w, indptr) @ V`` is ``segment_reduce(w[:, None] * V, ..., "sum")``
    as one sparse x dense product, without the ``(R, D)`` product tensor. ``weights``: ``(R,)``.

    The columns ascend within each row. The readout uses it without gradient only: torch documents gradients
    with respect to a CSR matrix only in recent releases (older ones say it has none), and torch 2.13 returns
    wrong value gradients, without an error, for a CSR matrix whose columns are not sorted."""
    columns = torch.arange(weights.shape[0], device=weights.device)
    return csr_matrix(indptr, columns, weights, (indptr.shape[0] - 1, weights.shape[0]))


def exclude_first_token(mask: Tensor) -> Tensor:
    """``mask`` (``(B, L)``, bool) without each row's first real token (after any left padding), except in rows
    whose only real token it is: a decoder's attention sink, left out of the pooling."""
    if mask.shape[1] == 0:
        return mask
    first = mask.int().argmax(dim=1)
    drop = torch.zeros_like(mask).scatter_(1, first[:, None], True) & (mask.sum(1) >= 2)[:, None]
    return mask & ~drop
