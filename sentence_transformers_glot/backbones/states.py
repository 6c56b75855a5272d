"""Backbone -> token states: the one adapter between a frozen backbone and what GlotPooling reads.

:func:`backbone_transformer` builds the sentence-transformers ``Transformer`` module for a backbone name (the
hidden-state cache encodes with it, the training export saves it), and :func:`transformer_encoder` turns a
model holding it into the ``encode`` function the cache calls: the exact token states (of the last layer, of
one hidden layer, or of several stacked for ``GlotPooling(layers=...)``) a pooling module after it would see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Union

import numpy as np
import torch
from torch import Tensor

from sentence_transformers_glot.nn.node_features import stack_layers
from sentence_transformers_glot.nn.packing import split_varlen

#: A hidden layer (``-1``: the last) or a list of layers stacked as ``(length, n, d)``.
Layer = Union[int, Sequence[int]]


def backbone_transformer(name_or_path: str, max_length: int, *, hidden_states: bool = False):
    """The sentence-transformers ``Transformer`` for a backbone short name, local folder or Hub id.

    ``hidden_states=True`` makes it emit ``all_layer_embeddings`` (what ``GlotPooling(layers=...)`` reads); the
    setting is saved with the model, so a saved folder re-creates the same inputs when it encodes.
    """
    from sentence_transformers_glot._compat import Transformer
    from sentence_transformers_glot.backbones.registry import resolve_backbone

    transformer = Transformer(resolve_backbone(name_or_path), max_seq_length=max_length)
    if hidden_states:
        transformer.auto_model.config.output_hidden_states = True
    return transformer


def load_backbone(name_or_path: str, max_length: int, device: str | None = None):
    """A ``SentenceTransformer`` holding only the frozen backbone ``Transformer`` (eval mode), on ``device``
    (default: this process's GPU under torchrun, or the first GPU, else the CPU; states come back on the CPU)."""
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot.distributed import local_device

    model = SentenceTransformer(modules=[backbone_transformer(name_or_path, max_length)],
                                device=device or local_device())
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def transformer_encoder(model, layer: Layer = -1) -> Callable[[list[str]], list[np.ndarray]]:
    """An ``encode`` function for :meth:`StateCache.get_or_build` from a ``SentenceTransformer`` whose first
    module is the backbone ``Transformer``: the exact token states a pooling module after it would see.

    ``layer=-1`` is the last layer (what the saved model computes); other values take
    ``hidden_states[layer]`` from the Hugging Face model; a list of layers stacks their states as
    ``(length, n, d)`` (what ``GlotPooling(layers=...)`` reads from ``all_layer_embeddings``).
    """

    tokenize = getattr(model, "preprocess", None) or model.tokenize  # renamed in sentence-transformers 6

    @torch.inference_mode()
    def encode(texts: list[str]) -> list[np.ndarray]:
        features = tokenize(texts)
        features = {k: v.to(model.device) if isinstance(v, Tensor) else v for k, v in features.items()}
        if layer == -1:
            out = model[0](dict(features))
            states, mask = out["token_embeddings"], out.get("attention_mask")
            if "cu_seq_lens_q" in out:  # unpadded flash-attention output: (1, total, d)
                return [rows.float().cpu().numpy() for rows in split_varlen(states, out["cu_seq_lens_q"])]
        else:
            inputs = {k: features[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in features}
            hidden = model[0].auto_model(**inputs, output_hidden_states=True, return_dict=True).hidden_states
            states = hidden[layer] if isinstance(layer, int) else stack_layers(hidden, layer)
            mask = features["attention_mask"]
        states = states.float().cpu().numpy()
        mask = mask.bool().cpu().numpy()
        return [states[i][mask[i]] for i in range(len(texts))]

    return encode
