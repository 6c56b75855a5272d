r"""The band graph for long documents: similarity edges only between tokens at most ``W`` positions apart.

:func:`build_window_graph` gives the same :class:`~sentence_transformers_glot.nn.graph.SparseTokenGraph` as the
full graph's edge-list builder, restricted to the band, in time and memory linear in the length; with ``W`` at
least the longest sentence's length minus one it is the full graph.
"""

from __future__ import annotations

import torch
from torch import Tensor

from sentence_transformers_glot.nn.backend import MAX_EDGES
from sentence_transformers_glot.nn.functional import indptr_from_index
from sentence_transformers_glot.nn.graph import SparseTokenGraph
from sentence_transformers_glot.nn.packing import PackedNodes
from sentence_transformers_glot.nn.similarity import threshold_cut, weighted_edges


def build_window_graph(
    unit: Tensor,
    nodes: PackedNodes,
    window: int,
    threshold: float | None,
    top_k: int | None = None,
    use_torch_scatter: bool = True,
    edge_weight: str = "binary",
) -> SparseTokenGraph:
    r"""The cosine token graph restricted to a band: an edge :math:`j \to i` needs :math:`0 < |p_i - p_j| \le W`
    (positions counted over the real tokens of a sentence) besides :math:`\cos(x_i, x_j) > \tau` (and, with
    ``top_k``, :math:`j` among the ``top_k`` most similar tokens of that band).

    Time and memory are :math:`O(N W' d)` for :math:`N` real tokens, with :math:`W' = \min(W, L - 1)` for the
    longest sentence's :math:`L` tokens: linear in the length, for long documents, and never more than the
    text needs. When :math:`W \ge L - 1`, the band holds every pair and the graph equals
    :func:`build_sparse_graph`'s.

    Args:
        unit: ``normalize_tokens`` of the packed real tokens, ``(N, d)``.
        nodes: the packing of the batch (sentences' real tokens are consecutive nodes in position order).
        window: :math:`W \ge 1`.
        threshold: :math:`\tau` (``None``: every pair in the band).
        top_k: keep only each token's ``top_k`` most similar tokens of its band (ties to the lower offset).
        edge_weight: ``"binary"`` or ``"cosine"`` (see :func:`build_dense_graph`).
    """
    n, device = unit.shape[0], unit.device
    # a band wider than the longest sentence holds every pair already: cost follows the text, not W
    longest = int((nodes.ptr[1:] - nodes.ptr[:-1]).max()) if nodes.ptr.numel() > 1 else 0
    window = max(1, min(window, longest - 1))
    offsets = torch.cat([torch.arange(-window, 0, device=device), torch.arange(1, window + 1, device=device)])
    src = torch.arange(n, device=device)[:, None] + offsets  # (N, 2W): row i's band, in position order
    inside = (src >= 0) & (src < n)
    src = src.clamp(0, max(n - 1, 0))
    batch_index = nodes.batch_index
    valid = inside & (batch_index[src] == batch_index[:, None])  # real tokens are consecutive nodes per sentence
    sim = _band_cosines(unit, window)
    edges = threshold_cut(sim, valid, threshold)
    if top_k is not None and top_k < len(offsets):
        scores = sim.masked_fill(~valid, float("-inf"))
        order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :top_k]
        edges = edges & torch.zeros_like(edges).scatter_(1, order, True)
    edges, weight = weighted_edges(edges, sim, edge_weight)
    dst = torch.arange(unit.shape[0], device=unit.device)[:, None].expand_as(src)
    keep = edges.nonzero(as_tuple=True)  # row-major: sorted by destination
    dst, src = dst[keep], src[keep]
    if dst.numel() > MAX_EDGES:
        raise MemoryError(f"GlotPooling: the windowed token graph has more than {MAX_EDGES:,} edges; raise "
                          "`threshold`, set `top_k`, or lower `graph_window`.")
    return SparseTokenGraph(src=src, dst=dst, indptr=indptr_from_index(dst, nodes.num_nodes), nodes=nodes,
                            use_torch_scatter=use_torch_scatter, weight=None if weight is None else weight[keep])


def _band_cosines(unit: Tensor, window: int) -> Tensor:
    """``(N, 2W)`` dot products of each packed row with the rows at offsets ``-W..-1, 1..W`` (0 where outside).

    Blocks of ``W`` rows against their own and the two neighbouring blocks make one batched matmul of
    ``N x 3W`` products, ``O(N W d)`` in time and ``O(N W)`` beyond the input in memory."""
    n, dim = unit.shape
    blocks = -(-n // window) if n else 0
    padded = unit.new_zeros((blocks + 2) * window, dim)
    padded[window : window + n] = unit
    queries = padded[window : (blocks + 1) * window].view(blocks, window, dim)
    keys = padded.unfold(0, 3 * window, window)[:blocks].transpose(1, 2)  # block b-1, b, b+1: (blocks, 3W, d)
    sims = torch.bmm(queries, keys.transpose(1, 2))  # (blocks, W, 3W); column c is key (b - 1) W + c
    rows = torch.arange(window, device=unit.device)[:, None]
    offsets = torch.cat([torch.arange(-window, 0, device=unit.device), torch.arange(1, window + 1, device=unit.device)])
    columns = (rows + window + offsets[None, :]).expand(blocks, -1, -1)  # offset o of row r sits at r + W + o
    return sims.gather(2, columns).reshape(blocks * window, 2 * window)[:n]
