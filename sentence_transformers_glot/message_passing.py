r"""Token-GNN layers and the K-layer stack with jumping knowledge.

Every layer maps node features ``h`` (``(B, L, D)`` on a dense graph, ``(N, D)`` on a sparse one) and a
token graph to new features; the graph object does the neighbour aggregation, so each layer works with
either backend. :math:`N(i)` are the neighbours of token :math:`i` (no self-loop), :math:`\sigma` is the
activation the stack applies after each layer.

==========  ========================================================================================
``sage``    :math:`h_i' = W [h_i \,\|\, \mathrm{mean}_{j \in N(i)} h_j] + b` (the paper's formula)
``gcn``     :math:`h_i' = W \sum_{j \in N(i) \cup \{i\}} h_j / \sqrt{\hat d_i \hat d_j} + b`, :math:`\hat d = d+1`
``gin``     :math:`h_i' = \mathrm{MLP}(h_i + \sum_{j \in N(i)} h_j)` (GIN, :math:`\epsilon = 0`)
``gat``     :math:`h_i' = \sum_{j \in N(i) \cup \{i\}} \alpha_{ij} W h_j + b`, one head, as the reference code
==========  ========================================================================================

With ``sequence_window = w > 0`` every layer also sees word order, as two extra relations in the R-GCN
manner (Schlichtkrull et al., 2018: one weight matrix per relation, messages summed): the up to ``w``
real tokens before and after each token, counted over real tokens (so padding side does not matter),

.. math::  h_i' = \mathrm{conv}(h, G_{\cos})_i + W_{\leftarrow} \operatorname{mean}_{1 \le k \le w} h_{i-k}
           + W_{\rightarrow} \operatorname{mean}_{1 \le k \le w} h_{i+k}

(a mean over the positions that exist; 0 at a sentence edge). The similarity relation keeps its own
layer and weights, so the edge kinds stay apart for every ``conv``; position edges never enter GCN's
degree normalisation or GAT's attention softmax.
"""

from __future__ import annotations

from typing import Union

import torch
from torch import Tensor, nn

from sentence_transformers_glot.graph import DenseTokenGraph, PackedNodes, SparseTokenGraph

TokenGraph = Union[DenseTokenGraph, SparseTokenGraph]

CONVS = ("sage", "gat", "gcn", "gin")
JUMPING_KNOWLEDGE = ("none", "cat", "max", "mean")


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
        return self.lin_self(h) + neigh


class GCNConv(nn.Module):
    r""":math:`h_i' = W \sum_{j \in N(i) \cup \{i\}} h_j / \sqrt{\hat d_i \hat d_j} + b` (symmetric normalisation)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_dim))

    def forward(self, h: Tensor, graph: TokenGraph) -> Tensor:
        if self.lin.out_features < self.lin.in_features:
            out = graph.gcn_aggregate(self.lin(h))
        else:
            out = self.lin(graph.gcn_aggregate(h))
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

    :math:`\alpha_{ij} = \mathrm{softmax}_{j \in N(i) \cup \{i\}} \mathrm{LeakyReLU}_{0.2}(a_{dst}^\top W h_i + a_{src}^\top W h_j)`,
    :math:`h_i' = \sum_j \alpha_{ij} W h_j + b`. The reference's constant edge feature carries no
    information and is left out.
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
        out = graph.attention_aggregate(wh, wh @ self.att_src, wh @ self.att_dst, self.negative_slope)
        return out + self.bias


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


_CONV_CLASSES: dict[str, type[nn.Module]] = {"sage": SAGEConv, "gat": GATConv, "gcn": GCNConv, "gin": GINConv}


class TokenGNN(nn.Module):
    r"""K message-passing layers, each followed by ReLU and dropout, combined by jumping knowledge.

    ``jumping_knowledge``: ``"none"`` returns :math:`h^K`; ``"cat"`` returns :math:`[x \| h^1 \| \dots \| h^K]`
    (the reference code's choice); ``"max"``/``"mean"`` reduce :math:`h^1..h^K` element-wise. With
    ``num_layers=0`` the input passes through unchanged. ``sequence_window > 0`` adds a
    :class:`SequenceConv` to each layer (see the module docstring).
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dim: int,
        num_layers: int,
        conv: str = "sage",
        jumping_knowledge: str = "cat",
        dropout: float = 0.0,
        sequence_window: int = 0,
    ) -> None:
        super().__init__()
        self.jumping_knowledge = jumping_knowledge
        dims = [in_dim] + [hidden_dim] * num_layers
        self.layers = nn.ModuleList(_CONV_CLASSES[conv](dims[i], dims[i + 1]) for i in range(num_layers))
        # registered only when used, so the state dict of a model without order edges is unchanged
        self.sequence_layers = (
            nn.ModuleList(SequenceConv(dims[i], dims[i + 1], sequence_window) for i in range(num_layers))
            if sequence_window > 0 else None
        )
        self.dropout = nn.Dropout(dropout)
        if num_layers == 0:
            self.out_dim = in_dim
        elif jumping_knowledge == "cat":
            self.out_dim = in_dim + num_layers * hidden_dim
        else:
            self.out_dim = hidden_dim

    def forward(self, x: Tensor, graph: TokenGraph) -> Tensor:
        if not self.layers:
            return x
        outputs = []
        h = x
        for index, layer in enumerate(self.layers):
            out = layer(h, graph)
            if self.sequence_layers is not None:
                out = out + self.sequence_layers[index](h, graph.nodes)
            h = self.dropout(torch.relu(out))
            outputs.append(h)
        if self.jumping_knowledge == "cat":
            return torch.cat([x, *outputs], dim=-1)
        if self.jumping_knowledge == "max":
            return torch.stack(outputs).amax(dim=0)
        if self.jumping_knowledge == "mean":
            return torch.stack(outputs).mean(dim=0)
        return h
