r"""Token graphs from cosine similarity, and neighbour aggregation on them.

For a sentence with real tokens :math:`x_1..x_n` (padding is never a node) the graph has an edge
:math:`j \to i` (``i != j``) when

.. math::  \cos(x_i, x_j) > \tau   \quad\text{and, with } k \text{ set,}\quad j \in \operatorname{top-}k_{j' \ne i} \cos(x_i, x_{j'})

There are no self-loops in the graph; layers that want them (GCN, GAT) add the self term themselves.
Node features are always the packed real tokens of the batch, ``(N, D)`` (row-major over ``(B, L)``), so
the per-token layers never compute on padding. Two representations of the edges serve the same maths:

* :class:`DenseTokenGraph` keeps a ``(B, L, L)`` adjacency and aggregates with batched matmuls; fastest
  for sentence-length inputs.
* :class:`SparseTokenGraph` keeps a CSR edge list over the packed real tokens of the whole batch. Sum,
  mean and GCN aggregation are one sparse CSR x dense product, which never materialises an ``(E, D)``
  gather of neighbour features; GAT's per-edge attention uses segment reductions (torch-scatter or
  native torch). Its memory grows with the number of edges, not with :math:`L^2`, which is what long
  documents with a top-k graph need.

Both are built with row blocks of the similarity matrix, so building never holds more than
``block_elements`` similarities at once (beyond the dense adjacency itself).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from sentence_transformers_glot.aggregation import segment_reduce
from sentence_transformers_glot.backend import MAX_EDGES, SPARSE_MIN_LENGTH, choose_backend, prefer_edge_list

# Similarity entries computed at once while building a graph (64 MiB of float32).
DEFAULT_BLOCK_ELEMENTS = 1 << 24


def _edge_block(
    xn: Tensor, mask: Tensor, start: int, stop: int, threshold: float | None, top_k: int | None
) -> tuple[Tensor, Tensor]:
    """Boolean edges ``(B, stop - start, L)`` for destination rows ``start:stop`` (``out[b, i, j]``: j -> i),
    and the cosine similarities of the same block."""
    sim = torch.matmul(xn[:, start:stop], xn.transpose(1, 2))
    rows = torch.arange(start, stop, device=xn.device)
    cols = torch.arange(xn.shape[1], device=xn.device)
    valid = mask[:, start:stop, None] & mask[:, None, :] & (rows[:, None] != cols[None, :])
    if threshold is not None:
        edges = valid & (sim > threshold)
    else:
        edges = valid
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


EDGE_WEIGHTS = ("binary", "cosine")


def _weighted_edges(edges: Tensor, sim: Tensor, edge_weight: str) -> tuple[Tensor, Tensor | None]:
    """``edge_weight="cosine"``: each edge weighs its cosine, and edges with cosine <= 0 are dropped (a
    weight must be positive to enter a mean or an attention softmax); ``"binary"``: unchanged, no weights."""
    if edge_weight == "binary":
        return edges, None
    if edge_weight != "cosine":
        raise ValueError(f"unknown edge_weight {edge_weight!r}; expected one of {EDGE_WEIGHTS}")
    edges = edges & (sim > 0)
    return edges, sim


def _row_blocks(batch: int, length: int, block_elements: int) -> list[tuple[int, int]]:
    rows = max(1, block_elements // max(1, batch * length))
    return [(start, min(start + rows, length)) for start in range(0, length, rows)]


def normalize_tokens(x: Tensor) -> Tensor:
    """Unit-normalise token vectors; all-zero vectors (padding) stay zero."""
    return F.normalize(x, p=2.0, dim=-1, eps=1e-12)


@dataclass
class PackedNodes:
    """The real tokens of a padded ``(B, L)`` batch as nodes ``0..N-1`` (row-major).

    ``node_index[n]`` is node ``n``'s flat position in ``B * L``; ``batch_index[n]`` its sentence.
    """

    node_index: Tensor
    batch_shape: tuple[int, int]
    _shifts: dict[int, tuple[Tensor, Tensor]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_mask(cls, mask: Tensor) -> PackedNodes:
        return cls(mask.reshape(-1).nonzero().squeeze(-1), tuple(mask.shape))

    @property
    def num_nodes(self) -> int:
        return self.node_index.numel()

    @property
    def batch_index(self) -> Tensor:
        return self.node_index // self.batch_shape[1]

    def pack(self, x: Tensor) -> Tensor:
        """Gather the real tokens of a padded ``(B, L, D)`` tensor into ``(N, D)``."""
        return x.reshape(-1, x.shape[-1])[self.node_index]

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
        if offset not in self._shifts:  # every layer of a forward pass asks for the same offsets
            n = self.num_nodes
            target = torch.arange(n, device=self.node_index.device) + offset
            inside = (target >= 0) & (target < n)
            target = target.clamp(0, max(n - 1, 0))
            batch_index = self.batch_index
            self._shifts[offset] = (target, inside & (batch_index[target] == batch_index))
        return self._shifts[offset]


@dataclass
class DenseTokenGraph:
    """A batch of token graphs as a dense adjacency: ``adj[b, i, j] = w_ij > 0`` iff edge ``j -> i``.

    ``w_ij`` is 1 (``weighted=False``) or the edge's soft weight. Node features are packed ``(N, D)``;
    aggregation pads them to ``(B, L, D)`` for a batched matmul.
    """

    adj: Tensor
    nodes: PackedNodes
    weighted: bool = False
    _cache: dict[str, Tensor] = field(default_factory=dict, repr=False)

    def _propagate(self, matrix: Tensor, h: Tensor) -> Tensor:
        return self.nodes.pack(torch.bmm(matrix, self.nodes.to_padded(h)))

    @property
    def in_degree(self) -> Tensor:
        """``(B, L, 1)`` (weighted) number of neighbours of each position."""
        if "deg" not in self._cache:
            self._cache["deg"] = self.adj.sum(-1, keepdim=True)
        return self._cache["deg"]

    def aggregate(self, h: Tensor, reduce: str = "mean") -> Tensor:
        r"""Sum :math:`\sum_j w_{ij} h_j` or mean :math:`\sum_j w_{ij} h_j / \sum_j w_{ij}` over the neighbours
        (0 for a node without neighbours)."""
        if reduce == "sum":
            return self._propagate(self.adj, h)
        if reduce == "mean":
            if "mean_adj" not in self._cache:
                degree = self.in_degree
                self._cache["mean_adj"] = self.adj / torch.where(degree > 0, degree, 1.0)
            return self._propagate(self._cache["mean_adj"], h)
        raise ValueError(f"unknown reduce {reduce!r}; expected 'sum' or 'mean'")

    def gcn_aggregate(self, h: Tensor) -> Tensor:
        r""":math:`\sum_{j \in N(i) \cup \{i\}} w_{ij} h_j / \sqrt{\hat d_i \hat d_j}`, :math:`\hat d_i = 1 + \sum_j w_{ij}`
        (self-loops of weight 1, as PyG's ``gcn_norm``)."""
        if "gcn_adj" not in self._cache:
            inv_sqrt = (self.in_degree + 1).rsqrt()  # (B, L, 1)
            eye = torch.eye(self.adj.shape[-1], dtype=self.adj.dtype, device=self.adj.device)
            self._cache["gcn_adj"] = (self.adj + eye) * inv_sqrt * inv_sqrt.transpose(1, 2)
        return self._propagate(self._cache["gcn_adj"], h)

    def attention_aggregate(self, h: Tensor, score_src: Tensor, score_dst: Tensor, negative_slope: float) -> Tensor:
        r"""GAT aggregation over :math:`N(i) \cup \{i\}`.

        :math:`\alpha_{ij} = \mathrm{softmax}_j(\mathrm{LeakyReLU}(s^{dst}_i + s^{src}_j) + \log w_{ij})`
        (:math:`w_{ii} = 1`; the log term is 0 on an unweighted graph), :math:`\mathrm{out}_i = \sum_j \alpha_{ij} h_j`.
        ``score_*`` are ``(N,)``.
        """
        src = self.nodes.to_padded(score_src[:, None]).squeeze(-1)
        dst = self.nodes.to_padded(score_dst[:, None]).squeeze(-1)
        logits = F.leaky_relu(dst[:, :, None] + src[:, None, :], negative_slope)
        eye = torch.eye(self.adj.shape[-1], dtype=torch.bool, device=self.adj.device)
        if self.weighted:
            logits = logits + torch.log(self.adj + eye)  # log 0 = -inf masks the non-edges
        else:
            logits = logits.masked_fill(~((self.adj > 0) | eye), float("-inf"))
        return self._propagate(torch.softmax(logits, dim=-1), h)


@dataclass
class SparseTokenGraph:
    """A batch of token graphs as one edge list over the packed real tokens.

    Nodes are ``nodes`` (the packed real tokens). Edges ``src -> dst`` are sorted by ``dst``; ``indptr`` is
    the CSR offset vector; ``weight`` is ``None`` (every edge weighs 1) or each edge's soft weight ``(E,)``.
    Node features are ``(N, D)``.
    """

    src: Tensor
    dst: Tensor
    indptr: Tensor
    nodes: PackedNodes
    use_scatter: bool = True
    weight: Tensor | None = None
    _cache: dict[str, Tensor] = field(default_factory=dict, repr=False)

    @property
    def num_nodes(self) -> int:
        return self.nodes.num_nodes

    @property
    def in_degree(self) -> Tensor:
        """``(N, 1)`` (weighted) number of neighbours of each node."""
        if "deg" not in self._cache:
            if self.weight is None:
                self._cache["deg"] = (self.indptr[1:] - self.indptr[:-1]).unsqueeze(-1)
            else:
                self._cache["deg"] = self._reduce(self.weight, "sum").unsqueeze(-1)
        return self._cache["deg"]

    def _edge_weight(self, dtype: torch.dtype) -> Tensor:
        if self.weight is None:
            return torch.ones_like(self.src, dtype=dtype)
        return self.weight.to(dtype)

    def _reduce(self, values: Tensor, reduce: str) -> Tensor:
        return segment_reduce(values, self.dst, self.indptr, self.num_nodes, reduce, self.use_scatter)

    def _matmul(self, name: str, edge_weight: Tensor, h: Tensor) -> Tensor:
        r""":math:`\mathrm{out}_i = \sum_{j \to i} w_{ij} h_j` as one CSR sparse x dense product.

        Memory is ``O(E + N D)``: no ``(E, D)`` gather of neighbour features (at 16 neighbours and 16k
        tokens the gather-then-reduce route was 12x slower on CPU). The matrix is built once per graph and
        weight ``name``; gradients flow to ``h`` (the weights are constants of the graph).
        """
        if name not in self._cache:
            with warnings.catch_warnings():  # torch marks CSR tensors beta; the product used here is stable
                warnings.filterwarnings("ignore", message=".*[Ss]parse CSR tensor support is in beta.*")
                self._cache[name] = torch.sparse_csr_tensor(
                    self.indptr, self.src, edge_weight.to(h.dtype), size=(self.num_nodes, self.num_nodes),
                    check_invariants=False)
        return self._cache[name] @ h

    def aggregate(self, h: Tensor, reduce: str = "mean") -> Tensor:
        """Sum or (weighted) mean of the neighbours' features (0 for a node without neighbours)."""
        if reduce not in ("sum", "mean"):
            raise ValueError(f"unknown reduce {reduce!r}; expected 'sum' or 'mean'")
        weight = self._edge_weight(h.dtype)
        if reduce == "sum":
            return self._matmul("sum", weight, h)
        degree = self.in_degree.squeeze(-1).to(h.dtype)
        inverse_degree = 1.0 / torch.where(degree > 0, degree, 1.0)
        return self._matmul("mean", weight * inverse_degree[self.dst], h)

    def gcn_aggregate(self, h: Tensor) -> Tensor:
        r""":math:`\sum_{j \in N(i) \cup \{i\}} w_{ij} h_j / \sqrt{\hat d_i \hat d_j}` with :math:`\hat d_i = 1 + \sum_j w_{ij}`."""
        inv_sqrt = (self.in_degree.squeeze(-1).to(h.dtype) + 1).rsqrt()  # (N,)
        weight = self._edge_weight(h.dtype) * inv_sqrt[self.src] * inv_sqrt[self.dst]
        return self._matmul("gcn", weight, h) + h * inv_sqrt.square()[:, None]

    def attention_aggregate(self, h: Tensor, score_src: Tensor, score_dst: Tensor, negative_slope: float) -> Tensor:
        r"""GAT aggregation over :math:`N(i) \cup \{i\}` (logits plus :math:`\log w_{ij}`); ``score_*`` are ``(N,)``.

        The self term is folded in analytically, so the edge list needs no self-loops.
        """
        edge_logit = F.leaky_relu(score_dst[self.dst] + score_src[self.src], negative_slope)
        if self.weight is not None:
            edge_logit = edge_logit + torch.log(self.weight.to(edge_logit.dtype))
        self_logit = F.leaky_relu(score_dst + score_src, negative_slope)
        peak = torch.maximum(self._reduce(edge_logit, "max"), self_logit).detach()
        edge_w = torch.exp(edge_logit - peak[self.dst])
        self_w = torch.exp(self_logit - peak)
        denom = self._reduce(edge_w, "sum") + self_w
        numer = self._reduce(h[self.src] * edge_w[:, None], "sum") + h * self_w[:, None]
        return numer / denom[:, None]


def build_dense_graph(
    x: Tensor,
    mask: Tensor,
    threshold: float | None,
    top_k: int | None = None,
    edge_weight: str = "binary",
) -> DenseTokenGraph:
    """Dense adjacency of the cosine-similarity token graph.

    Args:
        x: token states ``(B, L, d)``, float32, padding positions zeroed.
        mask: ``(B, L)`` bool, True for real tokens.
        threshold: edge when cosine similarity is strictly greater; ``None`` for no threshold.
        top_k: keep only each token's ``k`` most similar other tokens; ``None`` for no limit.
        edge_weight: ``"binary"`` (0/1 adjacency) or ``"cosine"`` (each edge weighs its cosine).
    """
    xn = normalize_tokens(x)
    edges, weight = _weighted_edges(*_edge_block(xn, mask, 0, x.shape[1], threshold, top_k), edge_weight)
    adj = edges.to(x.dtype) if weight is None else torch.where(edges, weight, 0.0).to(x.dtype)
    return DenseTokenGraph(adj=adj, nodes=PackedNodes.from_mask(mask), weighted=weight is not None)


def build_sparse_graph(
    x: Tensor,
    mask: Tensor,
    threshold: float | None,
    top_k: int | None = None,
    use_scatter: bool = True,
    block_elements: int = DEFAULT_BLOCK_ELEMENTS,
    edge_weight: str = "binary",
) -> SparseTokenGraph:
    """Edge list of the cosine-similarity token graph over the packed real tokens (same maths as dense).

    The similarity matrix is computed in row blocks of at most ``block_elements`` entries, so memory is
    bounded by the block and the number of edges, not by ``B * L * L``.

    Raises:
        MemoryError: the graph has more than ``backend.MAX_EDGES`` edges (checked block by block, before
            they are all held).
    """
    batch, length, _ = x.shape
    xn = normalize_tokens(x)
    packed_id = torch.cumsum(mask.reshape(-1).long(), 0) - 1  # flat position -> node id (valid where mask)

    dst_parts, src_parts, weight_parts, edges = [], [], [], 0
    for start, stop in _row_blocks(batch, length, block_elements):
        block, weight = _weighted_edges(*_edge_block(xn, mask, start, stop, threshold, top_k), edge_weight)
        b, i, j = block.nonzero(as_tuple=True)
        edges += b.numel()
        if edges > MAX_EDGES:
            raise MemoryError(
                f"GlotPooling: the token graph of this {batch}x{length} batch has more than {MAX_EDGES:,} edges "
                f"(threshold={threshold}). Raise `threshold`, set `top_k` (e.g. 16), or encode shorter inputs."
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
    nodes = PackedNodes.from_mask(mask)
    counts = torch.bincount(dst, minlength=nodes.num_nodes)
    indptr = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
    return SparseTokenGraph(src=src, dst=dst, indptr=indptr, nodes=nodes, use_scatter=use_scatter, weight=weights)


def estimate_density(x: Tensor, mask: Tensor, threshold: float | None, top_k: int | None, rows: int = 64) -> float:
    """Edges / ``B * L * L`` of the token graph, counted exactly on ``rows`` evenly spaced destination rows.

    Costs about ``rows / L`` of the full similarity matrix; a row's edge count is ``min(k, #valid pairs
    above the threshold)``, so no top-k is needed.
    """
    batch, length, _ = x.shape
    xn = normalize_tokens(x)
    picked = torch.linspace(0, length - 1, steps=min(rows, length), device=x.device).long().unique()
    sim = torch.matmul(xn[:, picked], xn.transpose(1, 2))  # (B, r, L)
    valid = mask[:, picked, None] & mask[:, None, :] & (picked[:, None] != torch.arange(length, device=x.device))
    edges = (valid & (sim > threshold)) if threshold is not None else valid
    per_row = edges.sum(-1)
    if top_k is not None:
        per_row = per_row.clamp(max=top_k)
    return float(per_row.sum()) / (batch * picked.numel() * length)


def build_graph(
    x: Tensor,
    mask: Tensor,
    threshold: float | None,
    top_k: int | None = None,
    backend: str = "auto",
    edge_weight: str = "binary",
) -> DenseTokenGraph | SparseTokenGraph:
    """The token graph in the representation ``backend`` asks for (see :mod:`sentence_transformers_glot.backend`).

    ``"auto"`` estimates the graph's density from a sample of rows (for padded lengths where that can
    change the answer) and builds the representation that is faster at that density and length.
    """
    batch, length = mask.shape
    choice = choose_backend(backend, batch, length, top_k)
    if backend == "auto" and choice == "dense" and length >= SPARSE_MIN_LENGTH:
        rows = max(8, min(64, length // 16))  # at most 1/16 of the similarity matrix
        if prefer_edge_list(length, estimate_density(x, mask, threshold, top_k, rows)):
            choice = "scatter"
    if choice == "scatter":
        return build_sparse_graph(x, mask, threshold, top_k, edge_weight=edge_weight)
    return build_dense_graph(x, mask, threshold, top_k, edge_weight)
