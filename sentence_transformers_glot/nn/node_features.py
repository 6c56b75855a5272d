r"""Node features from a backbone's hidden states: choose and mix hidden layers, then normalise each token.

With ``layers`` :math:`l_1..l_n` chosen from the backbone's hidden states :math:`X^{(0)}..X^{(n_L)}` (0: the
embedding output), each token's feature is the scalar mix

.. math::  x = \sum_{k=1}^{n} \mathrm{softmax}(s)_k \, X^{(l_k)}

with learned logits :math:`s` (zeros: equal weights), then optionally normalised:
``"layer"`` :math:`(x - \bar x) / \sqrt{\mathrm{var}(x) + \epsilon}` (LayerNorm without affine parameters) or
``"rms"`` :math:`x / \sqrt{\overline{x^2} + \epsilon}`.

Shapes: stacked layers ``(..., n, d)`` (padded ``(B, L, n, d)`` or packed ``(N, n, d)``) -> ``(..., d)``;
normalisation keeps the shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from sentence_transformers_glot.options import InputNorm


def stack_layers(hidden_states: Sequence[Tensor], layers: Sequence[int]) -> Tensor:
    """``hidden_states[l]`` for each ``l`` in ``layers``, stacked as ``(B, L, len(layers), d)``; an index the
    backbone does not have raises an error naming the valid range."""
    count = len(hidden_states)
    bad = [layer for layer in layers if not -count <= layer < count]
    if bad:
        raise ValueError(
            f"GlotPooling: `layers` names {bad}, but the backbone emits {count} hidden states (the embedding "
            f"output and {count - 1} layers); use indices in {-count}..{count - 1}."
        )
    return torch.stack([hidden_states[layer] for layer in layers], dim=2)


def mix_layers(states: Tensor, logits: Tensor | None) -> Tensor:
    """``(..., n, d)`` -> ``(..., d)``: the layers weighted by ``softmax(logits)``; ``None`` (a single layer)
    takes the only one."""
    if logits is None:
        return states[..., 0, :]
    return torch.einsum("...nd,n->...d", states, torch.softmax(logits, dim=0))


def normalize_inputs(x: Tensor, input_norm: InputNorm) -> Tensor:
    """Each token state normalised over its last dimension: ``"layer"``, ``"rms"`` or ``"none"`` (unchanged)."""
    if input_norm == "layer":
        return F.layer_norm(x, x.shape[-1:])
    if input_norm == "rms":
        return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + 1e-6)
    return x


def node_features(states: Tensor, mixed: bool, logits: Tensor | None, input_norm: InputNorm) -> Tensor:
    """The features of the tokens ``states`` in float32: with ``mixed`` (``layers`` chosen) the stacked layers
    ``(..., n, d)`` mixed by :func:`mix_layers`, then :func:`normalize_inputs`."""
    x = states.float()
    return normalize_inputs(mix_layers(x, logits) if mixed else x, input_norm)
