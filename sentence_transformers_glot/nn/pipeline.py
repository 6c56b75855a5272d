r"""GLOT's forward pass over the pooled tokens of a batch, from node features to sentence vectors.

For the packed pooled tokens :math:`X` ``(N, d)`` of a batch: the token graph
(:func:`~sentence_transformers_glot.nn.graph_builders.token_graph`), ``K`` GNN layers
(:class:`~sentence_transformers_glot.nn.gnn.TokenGNN`; ``K = 0`` skips the graph), then the readout, learned
(:class:`~sentence_transformers_glot.nn.readout.AttentionReadout`) or fixed (mean, max, first, last).
:func:`pool_padded` is the parameter-free poolings' path, on the padded batch as sentence-transformers'
``Pooling`` computes them.

Shapes: ``x`` ``(N, d)`` packed (the ``nodes`` of a ``(B, L)`` mask) -> ``(B, D)``; :func:`pool_padded`
``(B, L, d)`` -> ``(B, d)``.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from sentence_transformers_glot.nn.gnn import TokenGNN
from sentence_transformers_glot.nn.graph_builders import token_graph
from sentence_transformers_glot.nn.packing import PackedNodes
from sentence_transformers_glot.nn.readout import AttentionReadout, functional_readout
from sentence_transformers_glot.nn.tokens import finite_output


def pool_nodes(x: Tensor, nodes: PackedNodes, mask: Tensor, gnn: TokenGNN, attention: AttentionReadout | None,
               readout: str, graph_options: dict[str, Any]) -> Tensor:
    """Sentence vectors ``(B, gnn.out_dim)`` from the node features ``x`` ``(N, d)`` of the pooled tokens: the
    ``nodes`` of the ``(B, L)`` ``mask``, made once and shared by the graph, the GNN and the readout.
    ``graph_options``: :func:`token_graph`'s keywords (threshold, top_k, backend, edge_weight, edge_density,
    graph_window)."""
    batch, length = nodes.batch_shape
    if length == 0:
        # No token position at all: a decoder tokenizer that adds no BOS on empty strings, or an unpadded
        # (cu_seq_lens_q) batch of empty rows. Every sentence is empty and pools to zeros, as an empty row
        # of a longer batch does; the max/cls/last reductions and the edge-list builder fail on L = 0.
        return x.new_zeros(batch, gnn.out_dim)
    h = x
    if len(gnn.layers) > 0:
        # the attention readout takes jumping knowledge's [x | h1 | h2] as blocks: the concatenation is never built
        h = gnn(x, token_graph(x, nodes, mask, **graph_options), cat_blocks=attention is not None)
    if attention is not None:
        z = attention(h, nodes.batch_index, nodes.ptr, batch)
    else:
        z = functional_readout(readout)(nodes.to_padded(h), mask)
    return finite_output(z, x)


def pool_padded(x: Tensor, mask: Tensor, readout: str) -> Tensor:
    """The fixed ``readout`` (mean, max, cls, last) of the padded features ``x`` ``(B, L, d)`` over ``mask``; an
    empty batch (``L = 0``) pools to zeros."""
    z = functional_readout(readout)(x, mask) if x.shape[1] else x.new_zeros(len(x), x.shape[-1])
    return finite_output(z, x)
