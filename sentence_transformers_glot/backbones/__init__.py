"""Backbones: names, the converted-backbone store, GGUF conversion, tokenizers and token states.

- :mod:`.registry`: short names (``minilm``, ``smollm2-135m``, ``gemma3-270m``), :func:`resolve_backbone`,
  :func:`is_decoder`.
- :mod:`.store`: converted folders published atomically under the cache root (:func:`cached_backbone`).
- :mod:`.gguf`: de-quantising the packaged GGUF decoders.
- :mod:`.tokenizer`: decoder tokenizers fit for embeddings (pad token, right padding, no chat template).
- :mod:`.states`: backbone -> the token states a pooling module sees (used by the cache and the export).
"""

from sentence_transformers_glot.backbones.registry import (
    BACKBONES,
    Backbone,
    available_backbones,
    is_decoder,
    resolve_backbone,
)
from sentence_transformers_glot.backbones.store import cached_backbone

__all__ = ["BACKBONES", "Backbone", "available_backbones", "cached_backbone", "is_decoder", "resolve_backbone"]
