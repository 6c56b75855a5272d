r"""Building token graphs from token states: the cosine cut (:mod:`sentence_transformers_glot.nn.similarity`) in the
representation the backend asks for (:mod:`sentence_transformers_glot.nn.backend`), and :func:`token_graph`, the
one entry GlotPooling uses (the full graph, or the band of :mod:`sentence_transformers_glot.nn.band`).

Both builders work in row blocks of the similarity matrix, so building never holds more than ``block_elements``
similarities at once (beyond the dense adjacency itself).
"""

from __future__ import annotations

import torch
from torch import Tensor

from sentence_transformers_glot.nn.backend import MAX_EDGES, SPARSE_MIN_LENGTH, choose_backend, prefer_edge_list
from sentence_transformers_glot.nn.band import build_window_graph
from sentence_transformers_glot.nn.functional import indptr_from_index
from sentence_transformers_glot.nn.graph import DenseTokenGraph, SparseTokenGraph, TokenGraph
from sentence_transformers_glot.nn.packing import PackedNodes
from sentence_transformers_glot.nn.similarity import (
    Threshold,
    density_thresholds,
    estimate_density,
    normalize_tokens,
    similarity_edges,
    weighted_edges,
)

# Similarity entries computed at once while building a graph (64 MiB of float32).
DEFAULT_BLOCK_ELEMENTS = 1 << 24


def _row_blocks(batch: int, length: int, block_elements: int) -> list[tuple[int, int]]:
    rows = max(1, block_elements // max(1, batch * length))
    return [(start, min(start + rows, length)) for start in range(0, length, rows)]



def build_dense_graph(
    x: Tensor,
    mask: Tensor,
    threshold: Threshold,
    top_k: int | None = None,
    edge_weight: str = "binary",
    unit: Tensor | None = None,
    nodes: PackedNodes | None = None,
) -> DenseTokenGraph:
    """Dense adjacency of the cosine-similarity token graph.

    Args:
        x: token states ``(B, L, d)``, float32, padding positions zeroed.
        mask: ``(B, L)`` bool, True for real tokens.
        threshold: edge when cosine similarity is strictly greater; ``None`` for no threshold; a ``(B,)``
            tensor gives each sentence its own (:func:`density_thresholds`).
        top_k: keep only each token's ``k`` most similar other tokens; ``None`` for no limit.
        edge_weight: ``"binary"`` (0/1 adjacency) or ``"cosine"`` (each edge weighs its cosine).
        unit: ``normalize_tokens(x)``, when the caller has it already (each builder takes it).
        nodes: ``PackedNodes.from_mask(mask)``, when the caller has it already (each builder takes it).
    """
    xn = normalize_tokens(x) if unit is None else unit
    edges, weight = weighted_edges(*similarity_edges(xn, mask, 0, x.shape[1], threshold, top_k), edge_weight)
    adj = edges.to(x.dtype) if weight is None else torch.where(edges, weight, 0.0).to(x.dtype)
    nodes = PackedNodes.from_mask(mask) if nodes is None else nodes
    return DenseTokenGraph(adj=adj, nodes=nodes, weighted=weight is not None)


def build_sparse_graph(
    x: Tensor,
    mask: Tensor,
    threshold: Threshold,
    top_k: int | None = None,
    use_torch_scatter: bool = True,
    block_elements: int = DEFAULT_BLOCK_ELEMENTS,
    edge_weight: str = "binary",
    unit: Tensor | None = None,
    nodes: PackedNodes | None = None,
) -> SparseTokenGraph:
    """Edge list of the cosine-similarity token graph over the packed real tokens (same maths as dense).

    The similarity matrix is computed in row blocks of at most ``block_elements`` entries, so memory is
    bounded by the block and the number of edges, not by ``B * L * L``.

    Raises:
        MemoryError: the graph has more than ``backend.MAX_EDGES`` edges (checked block by block, before
            they are all held).
    """
    batch, length, _ = x.shape
    xn = normalize_tokens(x) if unit is None else unit
    packed_id = torch.cumsum(mask.reshape(-1).long(), 0) - 1  # flat position -> node id (valid where mask)

    dst_parts, src_parts, weight_parts, edges = [], [], [], 0
    for start, stop in _row_blocks(batch, length, block_elements):
        block, weight = weighted_edges(*similarity_edges(xn, mask, start, stop, threshold, top_k), edge_weight)
        b, i, j = block.nonzero(as_tuple=True)
        edges += b.numel()
        if edges > MAX_EDGES:
            raise MemoryError(
                f"GlotPooling: the token graph of this {batch}x{length} batch has more than {MAX_EDGES:,} edges "
                f"(threshold={threshold if not isinstance(threshold, Tensor) else 'auto'}). Raise `threshold`, set "
                "`top_k` (e.g. 16), or encode shorter inputs."
            )
        dst_parts.append(packed_id[b * length + start + i])
        src_parts.append(packed_id[b * length + j])
        if weight is not None:
            weight_parts.append(weight[b, i, j])
    dst = torch.cat(dst_parts)
    src = torch.cat(src_parts)
    weights = torch.cat(weight_parts) if weight_parts else None
    if len(dst_parts) > 1:  # blocks interleave sentences; a single block is already sorted by dst
        dst, order = torch.sort(dst, stable=True)
        src = src[order]
        weights = None if weights is None else weights[order]
    nodes = PackedNodes.from_mask(mask) if nodes is None else nodes
    indptr = indptr_from_index(dst, nodes.num_nodes)
    return SparseTokenGraph(src=src, dst=dst, indptr=indptr, nodes=nodes, use_torch_scatter=use_torch_scatter,
                            weight=weights)


def build_graph(
    x: Tensor,
    mask: Tensor,
    threshold: float | str | None,
    top_k: int | None = None,
    backend: str = "auto",
    edge_weight: str = "binary",
    normalized: bool = False,
    edge_density: float = 0.05,
    nodes: PackedNodes | None = None,
) -> DenseTokenGraph | SparseTokenGraph:
    """The token graph in the representation ``backend`` asks for (see :mod:`sentence_transformers_glot.nn.backend`).

    ``"auto"`` estimates the graph's density from a sample of rows (for padded lengths where that can
    change the answer) and builds the representation that is faster at that density and length.
    ``normalized=True``: ``x`` is already ``normalize_tokens`` of the token states (only cosines matter).
    ``threshold="auto"``: each sentence's threshold keeps ``edge_density`` of its pairs (:func:`density_thresholds`).
    ``nodes``: ``PackedNodes.from_mask(mask)``, made once by the caller and shared by the graph, GNN and readout.
    """
    batch, length = mask.shape
    choice = choose_backend(backend, batch, length, top_k)
    unit = x if normalized else normalize_tokens(x)  # once, for the density estimate and the graph
    if isinstance(threshold, str):  # "auto"
        threshold = density_thresholds(unit, mask, edge_density)
    if backend == "auto" and choice == "dense" and length >= SPARSE_MIN_LENGTH:
        rows = max(8, min(64, length // 16))  # at most 1/16 of the similarity matrix
        if prefer_edge_list(length, estimate_density(x, mask, threshold, top_k, rows, unit=unit)):
            choice = "scatter"
    if choice == "scatter":
        return build_sparse_graph(x, mask, threshold, top_k, edge_weight=edge_weight, unit=unit, nodes=nodes)
    return build_dense_graph(x, mask, threshold, top_k, edge_weight, unit=unit, nodes=nodes)


def token_graph(
    x: Tensor,
    nodes: PackedNodes,
    mask: Tensor,
    threshold: float | str | None,
    top_k: int | None = None,
    backend: str = "auto",
    edge_weight: str = "binary",
    edge_density: float = 0.05,
    graph_window: int | None = None,
) -> TokenGraph:
    """GlotPooling's graph over the packed pooled tokens ``x`` ``(N, d)`` (the ``nodes`` of the ``(B, L)`` ``mask``):
    with ``graph_window`` the band of :func:`~sentence_transformers_glot.nn.band.build_window_graph` (linear in the
    length), otherwise :func:`build_graph`. Only the real tokens are normalised; the full graph's batched similarity
    gets them scattered back to ``(B, L, d)`` once."""
    unit = normalize_tokens(x)
    if graph_window is not None:
        return build_window_graph(unit, nodes, graph_window, threshold, top_k, edge_weight=edge_weight)
    return build_graph(nodes.to_padded(unit), mask, threshold, top_k, backend, edge_weight, normalized=True,
                       edge_density=edge_density, nodes=nodes)
