"""sentence-transformers names that moved between 5.x and 6.x."""

from __future__ import annotations

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


__all__ = ["Module", "Pooling", "SentenceTransformerModelCardData", "Transformer", "token_dimension"]
