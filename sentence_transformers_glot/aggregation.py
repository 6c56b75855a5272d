"""Segment reductions over edge lists: torch-scatter kernels when installed, native torch otherwise.

An edge list here is ``(src, dst)`` sorted by ``dst`` with CSR offsets ``indptr`` (``indptr[i]:indptr[i+1]``
are the edges that arrive at node ``i``). Every function reduces per destination node; a node with no
incoming edge gets 0 (``sum``/``mean``) or ``-inf`` (``max``).
"""

from __future__ import annotations

import logging

from torch import Tensor

logger = logging.getLogger(__name__)

try:  # pragma: no cover - which branch runs depends on the environment
    from torch_scatter import segment_csr as _segment_csr

    HAS_TORCH_SCATTER = True
except ImportError:  # pragma: no cover
    _segment_csr = None
    HAS_TORCH_SCATTER = False

_warned_fallback = False


def _note_fallback() -> None:
    global _warned_fallback
    if not _warned_fallback:
        _warned_fallback = True
        logger.info(
            "torch-scatter is not installed: GAT layers on the 'scatter' backend use native torch "
            "index_add_/scatter_reduce. "
            "Install it with `pip install --no-build-isolation torch-scatter` for the segment_csr kernels."
        )


def segment_reduce(
    values: Tensor, dst: Tensor, indptr: Tensor, num_nodes: int, reduce: str, use_scatter: bool = True
) -> Tensor:
    """Reduce edge values ``(E, *)`` into node values ``(num_nodes, *)`` by destination.

    Args:
        values: one row per edge, in the order of ``dst``.
        dst: destination node of each edge, sorted ascending.
        indptr: CSR offsets, ``(num_nodes + 1,)``, consistent with ``dst``.
        num_nodes: number of nodes.
        reduce: ``"sum"``, ``"mean"`` or ``"max"``.
        use_scatter: use torch-scatter's ``segment_csr`` when it is installed.
    """
    if use_scatter and HAS_TORCH_SCATTER:
        out = _segment_csr(values, indptr, reduce=reduce)
        if reduce == "max":
            # torch-scatter fills empty segments with 0; native semantics are -inf.
            empty = (indptr[1:] == indptr[:-1]).view(-1, *([1] * (values.dim() - 1)))
            out = out.masked_fill(empty, float("-inf"))
        return out
    if use_scatter:
        _note_fallback()
    shape = (num_nodes, *values.shape[1:])
    if reduce == "max":
        index = dst.view(-1, *([1] * (values.dim() - 1))).expand_as(values)
        out = values.new_full(shape, float("-inf"))
        return out.scatter_reduce(0, index, values, reduce="amax", include_self=True)
    out = values.new_zeros(shape).index_add_(0, dst, values)
    if reduce == "mean":
        count = (indptr[1:] - indptr[:-1]).clamp(min=1).to(values.dtype)
        out = out / count.view(-1, *([1] * (values.dim() - 1)))
    return out
