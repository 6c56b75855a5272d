r"""The K-layer token GNN with jumping knowledge (the layers are in :mod:`sentence_transformers_glot.nn.conv`).

Shapes: ``x`` ``(N, d)`` packed real tokens and a token graph -> ``(N, out_dim)``. Every layer maps node
features ``h`` ``(N, D)`` and a token graph to new features with the graph's generic primitives, so each
layer works with either backend; :math:`\sigma` (ReLU) follows each layer. The layers' own formulas (``sage``,
``gcn``, ``gin``, ``gat``) are in :mod:`sentence_transformers_glot.nn.conv`, their one home.

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

import torch
from torch import Tensor, nn

from sentence_transformers_glot.nn.conv import CONV_CLASSES, SequenceConv
from sentence_transformers_glot.nn.graph import TokenGraph
from sentence_transformers_glot.options import CONVS, JUMPING_KNOWLEDGE

__all__ = ["CONVS", "JUMPING_KNOWLEDGE", "TokenGNN"]


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
        self.conv, self.jumping_knowledge = conv, jumping_knowledge
        dims = [in_dim] + [hidden_dim] * num_layers
        self.layers = nn.ModuleList(CONV_CLASSES[conv](dims[i], dims[i + 1]) for i in range(num_layers))
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

    def forward(self, x: Tensor, graph: TokenGraph, *, cat_blocks: bool = False) -> Tensor | list[Tensor]:
        """``(N, out_dim)`` refined tokens; with ``cat_blocks=True`` and jumping knowledge ``"cat"``, the list
        ``[x, h^1, ..., h^K]`` of its column blocks instead (a readout that takes blocks never builds it)."""
        if not self.layers:
            return x
        outputs = []
        h = x
        for index, layer in enumerate(self.layers):
            out = layer(h, graph)
            if self.sequence_layers is not None:
                out = out + self.sequence_layers[index](h, graph.nodes)
            h = self.dropout(torch.relu_(out))  # in place: every layer returns a fresh tensor
            outputs.append(h)
        if self.jumping_knowledge == "cat":
            return [x, *outputs] if cat_blocks else torch.cat([x, *outputs], dim=-1)
        if self.jumping_knowledge == "max":
            return torch.stack(outputs).amax(dim=0)
        if self.jumping_knowledge == "mean":
            return torch.stack(outputs).mean(dim=0)
        return h
