"""sentence-transformers names that moved between 5.x and 6.x, and the dtype rule GlotPooling keeps against casts."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

try:  # sentence-transformers >= 6
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.base.modules.module import Module
    from sentence_transformers.sentence_transformer.model_card import SentenceTransformerModelCardData
    from sentence_transformers.sentence_transformer.modules import Pooling
except ImportError:  # sentence-transformers 5.x
    from sentence_transformers.model_card import SentenceTransformerModelCardData
    from sentence_transformers.models import Module, Pooling, Transformer


def token_dimension(transformer: Transformer) -> int:
    """Hidden size of a ``Transformer`` module's token states (the method was renamed in 6.0)."""
    if hasattr(type(transformer), "get_embedding_dimension"):
        return transformer.get_embedding_dimension()
    return transformer.get_word_embedding_dimension()


def keep_float32(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """``fn`` (a ``Module._apply`` function) made to keep float32 tensors float32 when it would cast them to fp16 or
    bf16, honouring only its device move."""
    def apply(t: Tensor) -> Tensor:
        out = fn(t)
        if t.dtype == torch.float32 and out.dtype in (torch.float16, torch.bfloat16):
            return t.to(out.device)
        return out

    return apply


__all__ = ["Module", "Pooling", "SentenceTransformerModelCardData", "Transformer", "keep_float32", "token_dimension"]
