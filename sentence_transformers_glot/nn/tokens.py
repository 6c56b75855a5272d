"""Which token states a pooling reads, checked: the real-token mask, the states' shape, the chosen hidden
layers, and the tokens pooled (less a decoder's attention sink, less the prompt).

Pure tensor code for :class:`~sentence_transformers_glot.pooling.GlotPooling`; each check raises ``ValueError``
naming what is wrong and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from sentence_transformers_glot.nn.functional import exclude_first_token, exclude_prompt
from sentence_transformers_glot.nn.node_features import stack_layers


def layer_states(features: dict[str, Any], layers: Sequence[int]) -> Tensor:
    """The hidden ``layers`` stacked as ``(B, L, len(layers), d)`` (or ``(1, total, ...)`` unpadded) from
    sentence-transformers' ``features["all_layer_embeddings"]``."""
    states = features.get("all_layer_embeddings")
    if states is None:
        raise ValueError(
            f"GlotPooling(layers={list(layers)}) reads features['all_layer_embeddings'], which the Transformer "
            "module emits only when its model returns hidden states (sentence-transformers >= 6 sets this when "
            "the model is assembled). Set `model[0].auto_model.config.output_hidden_states = True`, or build "
            "the Transformer with config_kwargs={'output_hidden_states': True}, before encoding (a saved model "
            "keeps it), or use layers=None to pool the last layer."
        )
    return stack_layers(states, layers)


def real_token_mask(x: Tensor, mask: Tensor | None) -> Tensor:
    """The ``(B, L)`` bool mask of the real tokens of padded states ``x`` (all real without a mask), checked."""
    if mask is None:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    if mask.shape != x.shape[:2]:
        raise ValueError(
            f"GlotPooling: attention_mask shape {tuple(mask.shape)} does not match token_embeddings "
            f"shape {tuple(x.shape)}."
        )
    if mask.dtype != torch.bool and bool(((mask != 0) & (mask != 1)).any()):
        raise ValueError(
            "GlotPooling: attention_mask must hold only 0 (padding) and 1 (a real token); got values "
            f"{sorted(set(mask.unique().tolist()))[:6]}. Pass the tokenizer's mask, or (mask > 0).long()."
        )
    return mask.bool()


def check_token_states(x: Tensor, leading: int, layers: Sequence[int] | None, dim: int) -> None:
    """Token states are ``leading`` position dims (2 padded, 1 packed), a layer dim with ``layers``, then ``dim``.

    Shapes:
        padded ``(B, L, d)`` or ``(B, L, len(layers), d)``; packed ``(N, d)`` or ``(N, len(layers), d)``.
    """
    if x.dim() != leading + (1 if layers is None else 2):
        what = "(batch, length" if leading == 2 else "(tokens"
        what += ", dim)" if layers is None else f", {len(layers)}, dim)"
        raise ValueError(f"GlotPooling: token_embeddings must be {what}; got shape {tuple(x.shape)}.")
    if layers is not None and x.shape[-2] != len(layers):
        raise ValueError(f"GlotPooling: token_embeddings hold {x.shape[-2]} layers, but layers={list(layers)}.")
    if x.shape[-1] != dim:
        raise ValueError(
            f"GlotPooling: token_embeddings have dimension {x.shape[-1]}, but this module was built with "
            f"word_embedding_dimension={dim}. Use word_embedding_dimension={x.shape[-1]} (the backbone's hidden "
            "size)."
        )


def pooled_tokens(attention_mask: Tensor, exclude_sink: bool, include_prompt: bool,
                  prompt_length: int | Tensor | None = None) -> Tensor:
    """The ``(B, L)`` mask of the tokens pooled: the real ones, less each sentence's first real token (a decoder's
    attention sink) with ``exclude_sink``, less the prompt's ``prompt_length`` tokens unless ``include_prompt``."""
    real = attention_mask.bool()
    mask = exclude_first_token(real) if exclude_sink else real
    if prompt_length is not None and not include_prompt:
        mask = mask & exclude_prompt(real, prompt_length)
    return mask


def finite_output(z: Tensor, x: Tensor) -> Tensor:
    """``z``, unless a pooled token state was NaN/Inf. Checking the ``(B, D)`` output first is cheaper than
    scanning every input; padding is never read, so only a real token can make it non-finite."""
    if not bool(torch.isfinite(z).all()) and not bool(torch.isfinite(x).all()):
        raise ValueError("GlotPooling: token_embeddings contain NaN or Inf at non-padding positions.")
    return z
