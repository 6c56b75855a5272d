r"""Token graphs from cosine similarity: who is connected, and generic aggregation over those edges.

For a sentence with real tokens :math:`x_1..x_n` (padding is never a node) the graph has an edge
:math:`j \to i` (``i != j``) when :math:`\cos(x_i, x_j) > \tau` (and, with ``top_k``, :math:`j` is among
:math:`i`'s :math:`k` most similar tokens): the cut is :mod:`sentence_transformers_glot.nn.similarity`'s.
There are no self-loops in the graph; layers that want them (GCN, GAT) add them (``add_self_loops``).
The graphs own no layer maths: they give per-edge views of node values (``src_values``/``dst_values``),
edge weights, a softmax over each node's incoming edges (``edge_softmax``) and the weighted sum
:math:`\sum_{j \to i} c_{ij} h_j` (``propagate``); GCN's normalisation and GAT's attention live in
:mod:`sentence_transformers_glot.nn.conv`.
Node features are always the packed real tokens of the batch, ``(N, D)`` (row-major over ``(B, L)``), so
the per-token layers never compute on padding. Two representations of the edges serve the same maths:

* :class:`DenseTokenGraph` keeps a ``(B, L, L)`` adjacency and aggregates with batched matmuls; fastest
  for sentence-length inputs.
* :class:`SparseTokenGraph` keeps a CSR edge list over the packed real tokens of the whole batch. A sum
  with constant coefficients (sum, mean, GCN) is one sparse CSR x dense product, which never materialises
  an ``(E, D)`` gather of neighbour features; the edge softmax and sums with learned coefficients use
  :mod:`sentence_transformers_glot.nn.functional` (torch-scatter kernels, or native torch). Its memory
  grows with the number of edges, not with :math:`L^2`, which is what long documents with a top-k graph
  need.

:mod:`sentence_transformers_glot.nn.graph_builders` builds them from token states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

import torch
from torch import Tensor

from sentence_transformers_glot.nn.functional import (
    csr_matrix,
    masked_softmax,
    segment_gather,
    segment_reduce,
    segment_softmax,
)
from sentence_transformers_glot.nn.packing import PackedNodes


@dataclass
class DenseTokenGraph:
    """A batch of token graphs as a dense adjacency: ``adj[b, i, j] = w_ij > 0`` iff edge ``j -> i``.

    ``w_ij`` is 1 (``weighted=False``) or the edge's soft weight. Node features are packed ``(N, D)``;
    aggregation pads them to ``(B, L, D)`` for a batched matmul. Per-edge tensors have the layout
    ``(B, L, L)`` (or broadcast to it): ``[b, i, j]`` is edge ``j -> i``.
    """

    adj: Tensor
    nodes: PackedNodes
    weighted: bool = False
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def _padded(self, v: Tensor) -> Tensor:
        return self.nodes.to_padded(v[:, None]).squeeze(-1)

    @property
    def in_degree(self) -> Tensor:
        r"""``(N,)`` weighted in-degree :math:`\sum_j w_{ij}` of each node."""
        if "deg" not in self._cache:
            self._cache["deg"] = self.nodes.pack(self.adj.sum(-1, keepdim=True)).squeeze(-1)
        return self._cache["deg"]

    def edge_weight(self, dtype: torch.dtype) -> Tensor:
        """Per-edge weights ``(B, L, L)``: ``w_ij`` on edges, 0 elsewhere."""
        return self.adj.to(dtype)

    def edge_log_weight(self, dtype: torch.dtype) -> Tensor:
        r""":math:`\log w_{ij}` per edge (``-inf`` off the edges)."""
        return torch.log(self.adj.to(dtype))

    def src_values(self, v: Tensor) -> Tensor:
        """Node values ``(N,)`` at each edge's source, ``(B, 1, L)`` (broadcasts to the edge layout)."""
        return self._padded(v)[:, None, :]

    def dst_values(self, v: Tensor) -> Tensor:
        """Node values ``(N,)`` at each edge's destination, ``(B, L, 1)``."""
        return self._padded(v)[:, :, None]

    def edge_softmax(self, logits: Tensor) -> Tensor:
        r""":math:`\alpha_{ij} = \mathrm{softmax}_{j \to i}(\mathrm{logits}_{ij})` over each node's incoming edges."""
        return masked_softmax(logits, self.adj > 0, dim=-1)

    def propagate(self, coef: Tensor, h: Tensor) -> Tensor:
        r""":math:`\mathrm{out}_i = \sum_{j \to i} c_{ij} h_j` for per-edge coefficients ``coef`` (0 off the edges)."""
        return self.nodes.pack(torch.bmm(coef.expand_as(self.adj), self.nodes.to_padded(h)))

    def aggregate(self, h: Tensor, reduce: str = "mean") -> Tensor:
        r"""Sum :math:`\sum_j w_{ij} h_j` or mean :math:`\sum_j w_{ij} h_j / \sum_j w_{ij}` over the neighbours
        (0 for a node without neighbours)."""
        if reduce == "sum":
            return self.propagate(self.adj, h)
        if reduce == "mean":
            if "mean_adj" not in self._cache:
                degree = self.adj.sum(-1, keepdim=True)
                self._cache["mean_adj"] = self.adj / torch.where(degree > 0, degree, 1.0)
            return self.propagate(self._cache["mean_adj"], h)
        raise ValueError(f"unknown reduce {reduce!r}; expected 'sum' or 'mean'")

    def add_self_loops(self) -> DenseTokenGraph:
        """The same graph with an edge ``i -> i`` of weight 1 at every position (cached)."""
        if "self_loops" not in self._cache:
            eye = torch.eye(self.adj.shape[-1], dtype=self.adj.dtype, device=self.adj.device)
            self._cache["self_loops"] = DenseTokenGraph(self.adj + eye, self.nodes, self.weighted)
        return self._cache["self_loops"]


@dataclass
class SparseTokenGraph:
    """A batch of token graphs as one edge list over the packed real tokens.

    Nodes are ``nodes`` (the packed real tokens). Edges ``src -> dst`` are sorted by ``dst``; ``indptr`` is
    the CSR offset vector; ``weight`` is ``None`` (every edge weighs 1) or each edge's soft weight ``(E,)``.
    Node features are ``(N, D)``; per-edge tensors are ``(E,)``.
    """

    src: Tensor
    dst: Tensor
    indptr: Tensor
    nodes: PackedNodes
    use_torch_scatter: bool = True
    weight: Tensor | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def num_nodes(self) -> int:
        return self.nodes.num_nodes

    @property
    def weighted(self) -> bool:
        return self.weight is not None

    @property
    def in_degree(self) -> Tensor:
        r"""``(N,)`` weighted in-degree :math:`\sum_j w_{ij}` of each node."""
        if "deg" not in self._cache:
            if self.weight is None:
                self._cache["deg"] = self.indptr[1:] - self.indptr[:-1]
            else:
                self._cache["deg"] = segment_reduce(
                    self.weight, self.dst, self.indptr, self.num_nodes, "sum", self.use_torch_scatter)
        return self._cache["deg"]

    def edge_weight(self, dtype: torch.dtype) -> Tensor:
        """Per-edge weights ``(E,)`` (ones on an unweighted graph)."""
        if self.weight is None:
            return torch.ones_like(self.src, dtype=dtype)
        return self.weight.to(dtype)

    def edge_log_weight(self, dtype: torch.dtype) -> Tensor:
        r""":math:`\log w_{ij}` per edge (zeros on an unweighted graph)."""
        return torch.log(self.edge_weight(dtype))

    def src_values(self, v: Tensor) -> Tensor:
        """Node values ``(N, *)`` at each edge's source, ``(E, *)``."""
        return v[self.src]

    def dst_values(self, v: Tensor) -> Tensor:
        """Node values ``(N, *)`` at each edge's destination, ``(E, *)``."""
        return segment_gather(v, self.dst, self.indptr, self.use_torch_scatter)

    def edge_softmax(self, logits: Tensor) -> Tensor:
        r""":math:`\alpha_{ij} = \mathrm{softmax}_{j \to i}(\mathrm{logits}_{ij})` over each node's incoming edges."""
        return segment_softmax(logits, self.dst, self.indptr, self.num_nodes, self.use_torch_scatter)

    def _csr(self, coef: Tensor, dtype: torch.dtype) -> Tensor:
        return csr_matrix(self.indptr, self.src, coef.to(dtype), (self.num_nodes, self.num_nodes))

    def propagate(self, coef: Tensor, h: Tensor) -> Tensor:
        r""":math:`\mathrm{out}_i = \sum_{j \to i} c_{ij} h_j` for per-edge coefficients ``coef`` ``(E,)``.

        Coefficients without gradient (constants of the graph: weights, degree normalisations, attention
        in inference) make one CSR sparse x dense product, memory ``O(E + N D)``, no ``(E, D)`` gather of the
        neighbour features (``docs/configuration.md``, "Backends", has its speed). Coefficients that need a gradient
        (GAT's attention in training) gather and reduce with :func:`functional.segment_reduce`.
        """
        if coef.requires_grad:
            messages = self.src_values(h) * coef[:, None]
            return segment_reduce(messages, self.dst, self.indptr, self.num_nodes, "sum", self.use_torch_scatter)
        return self._csr(coef, h.dtype) @ h

    def aggregate(self, h: Tensor, reduce: str = "mean") -> Tensor:
        """Sum or (weighted) mean of the neighbours' features (0 for a node without neighbours)."""
        if reduce not in ("sum", "mean"):
            raise ValueError(f"unknown reduce {reduce!r}; expected 'sum' or 'mean'")
        key = (reduce, h.dtype)
        if key not in self._cache:  # every layer of a forward pass uses the same matrix
            weight = self.edge_weight(h.dtype)
            if reduce == "mean":
                degree = self.in_degree.to(h.dtype)
                weight = weight / torch.where(degree > 0, degree, 1.0)[self.dst]
            self._cache[key] = self._csr(weight, h.dtype)
        return self._cache[key] @ h

    def add_self_loops(self) -> SparseTokenGraph:
        """The same graph with an edge ``i -> i`` of weight 1 at the head of every node's segment (cached).

        No sort: node ``i``'s self-loop lands at ``indptr[i] + i``, edge ``e`` at ``e + dst[e] + 1``.
        """
        if "self_loops" not in self._cache:
            n, e = self.num_nodes, self.src.numel()
            arange = torch.arange(n, device=self.src.device)
            self_pos = self.indptr[:-1] + arange
            edge_pos = torch.arange(e, device=self.src.device) + self.dst + 1
            src = self.src.new_empty(n + e)
            src[self_pos], src[edge_pos] = arange, self.src
            dst = self.dst.new_empty(n + e)
            dst[self_pos], dst[edge_pos] = arange, self.dst
            weight = None
            if self.weight is not None:
                weight = self.weight.new_ones(n + e)
                weight[edge_pos] = self.weight
            indptr = self.indptr + torch.arange(n + 1, device=self.indptr.device)
            self._cache["self_loops"] = SparseTokenGraph(src, dst, indptr, self.nodes, self.use_torch_scatter, weight)
        return self._cache["self_loops"]


TokenGraph = Union[DenseTokenGraph, SparseTokenGraph]
