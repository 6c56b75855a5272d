r"""The token-GNN layers; each owns its maths and uses only the graph's generic primitives.

Shapes: every layer maps packed node features ``h`` ``(N, in_dim)`` and a token graph (dense or edge
list, :mod:`sentence_transformers_glot.nn.graph`) to ``(N, out_dim)``; :class:`SequenceConv` takes the
graph's :class:`PackedNodes` instead. :math:`N(i)` are the neighbours of token :math:`i` (no self-loop).

==========  ========================================================================================
``sage``    :math:`h_i' = W [h_i \,\|\, \mathrm{mean}_{j \in N(i)} h_j] + b` (the paper's formula)
``gcn``     :math:`h_i' = W \sum_{j \in N(i) \cup \{i\}} w_{ij} h_j / \sqrt{\hat d_i \hat d_j} + b`,
            :math:`\hat d_i = 1 + \sum_j w_{ij}`
``gin``     :math:`h_i' = \mathrm{MLP}(h_i + \sum_{j \in N(i)} h_j)` (GIN, :math:`\epsilon = 0`)
``gat``     :math:`h_i' = \sum_{j \in N(i) \cup \{i\}} \alpha_{ij} W h_j + b`, one head, as the reference code
==========  ========================================================================================
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sentence_transformers_glot.nn.graph import TokenGraph
from sentence_transformers_glot.nn.packing import PackedNodes
from sentence_transformers_glot.options import CONVS


def gcn_propagate(graph: TokenGraph, h: Tensor) -> Tensor:
    r"""GCN's normalised aggregation :math:`\sum_{j \in N(i) \cup \{i\}} w_{ij} h_j / \sqrt{\hat d_i \hat d_j}`,
    :math:`\hat d_i = 1 + \sum_j w_{ij}` (self-loops of weight 1, as PyG's ``gcn_norm``). ``h``: ``(N, D)``."""
    inv_sqrt = (graph.in_degree.to(h.dtype) + 1).rsqrt()  # (N,)
    coef = graph.edge_weight(h.dtype) * graph.src_values(inv_sqrt) * graph.dst_values(inv_sqrt)
    return graph.propagate(coef, h) + h * inv_sqrt.square()[:, None]


class SAGEConv(nn.Module):
    r""":math:`h_i' = W [h_i \| \mathrm{mean}_{j \in N(i)} h_j] + b`, stored as ``W = [W_self, W_neigh]``.

    Mean aggregation is linear, so when the output is narrower than the input the neighbour transform
    runs first and the aggregation moves fewer numbers; the result is the same.
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.lin_self = nn.Linear(in_dim, out_dim)
        self.lin_neigh = nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, h: Tensor, graph: TokenGraph) -> Tensor:
        if self.lin_neigh.out_features < self.lin_neigh.in_features:
            neigh = graph.aggregate(self.lin_neigh(h), "mean")
        else:
            neigh = self.lin_neigh(graph.aggregate(h, "mean"))
        # W_self h + b accumulated into the fresh neighbour term: no further (N, out) tensor is allocated
        return neigh.addmm_(h, self.lin_self.weight.T).add_(self.lin_self.bias)


class GCNConv(nn.Module):
    r""":math:`h_i' = W \sum_{j \in N(i) \cup \{i\}} h_j / \sqrt{\hat d_i \hat d_j} + b` (symmetric normalisation)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_dim))

    def forward(self, h: Tensor, graph: TokenGraph) -> Tensor:
        if self.lin.out_features < self.lin.in_features:
            out = gcn_propagate(graph, self.lin(h))
        else:
            out = self.lin(gcn_propagate(graph, h))
        return out + self.bias


class GINConv(nn.Module):
    r""":math:`h_i' = \mathrm{MLP}(h_i + \sum_{j \in N(i)} h_j)`, MLP = Linear-ReLU-Linear."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, out_dim), nn.ReLU(), nn.Linear(out_dim, out_dim))

    def forward(self, h: Tensor, graph: TokenGraph) -> Tensor:
        return self.mlp(h + graph.aggregate(h, "sum"))


class GATConv(nn.Module):
    r"""Single-head graph attention with self-loops (the reference code's default layer).

    :math:`\alpha_{ij} = \mathrm{softmax}_{j \in N(i) \cup \{i\}}
    \mathrm{LeakyReLU}_{0.2}(a_{dst}^\top W h_i + a_{src}^\top W h_j)`,
    :math:`h_i' = \sum_j \alpha_{ij} W h_j + b`; on cosine edges the logits add :math:`\log w_{ij}`
    (:math:`w_{ii} = 1`). The reference's constant edge feature carries no information and is left out.
    """

    negative_slope = 0.2

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim, bias=False)
        self.att_src = nn.Parameter(torch.empty(out_dim))
        self.att_dst = nn.Parameter(torch.empty(out_dim))
        self.bias = nn.Parameter(torch.zeros(out_dim))
        bound = (6.0 / (out_dim + 1)) ** 0.5  # glorot for a (1, out_dim) vector
        nn.init.uniform_(self.att_src, -bound, bound)
        nn.init.uniform_(self.att_dst, -bound, bound)

    def forward(self, h: Tensor, graph: TokenGraph) -> Tensor:
        wh = self.lin(h)
        loops = graph.add_self_loops()
        logits = F.leaky_relu(loops.dst_values(wh @ self.att_dst) + loops.src_values(wh @ self.att_src),
                              self.negative_slope)
        if loops.weighted:
            logits = logits + loops.edge_log_weight(logits.dtype)
        return loops.propagate(loops.edge_softmax(logits), wh).add_(self.bias)


class SequenceConv(nn.Module):
    r"""The word-order relations of a layer: :math:`W_{\leftarrow} \operatorname{mean}_{1 \le k \le w} h_{i-k}
    + W_{\rightarrow} \operatorname{mean}_{1 \le k \le w} h_{i+k}` over the real tokens of ``i``'s sentence.

    Shapes: ``h`` ``(N, in_dim)`` packed real tokens (one sentence's tokens consecutive, in order) ->
    ``(N, out_dim)``. The means are linear, so the weights apply first when that moves fewer numbers.
    """

    def __init__(self, in_dim: int, out_dim: int, window: int) -> None:
        super().__init__()
        self.window = window
        self.lin_prev = nn.Linear(in_dim, out_dim, bias=False)
        self.lin_next = nn.Linear(in_dim, out_dim, bias=False)

    @staticmethod
    def window_mean(h: Tensor, nodes: PackedNodes, window: int, direction: int) -> Tensor:
        """Mean of ``h`` over the (at most ``window``) real tokens on one side (-1: before, +1: after)."""
        total = torch.zeros_like(h)
        count = h.new_zeros(h.shape[0], 1)
        for k in range(1, window + 1):
            index, exists = nodes.shifted(direction * k)
            total = total + torch.where(exists[:, None], h[index], 0.0)
            count = count + exists[:, None].to(h.dtype)
        return total / count.clamp(min=1)

    def forward(self, h: Tensor, nodes: PackedNodes) -> Tensor:
        out = []
        for lin, direction in ((self.lin_prev, -1), (self.lin_next, 1)):
            if lin.out_features < lin.in_features:
                out.append(self.window_mean(lin(h), nodes, self.window, direction))
            else:
                out.append(lin(self.window_mean(h, nodes, self.window, direction)))
        return out[0] + out[1]


CONV_CLASSES: dict[str, type[nn.Module]] = {"sage": SAGEConv, "gat": GATConv, "gcn": GCNConv, "gin": GINConv}
assert tuple(CONV_CLASSES) == CONVS, "options.CONVS must name the conv classes"
