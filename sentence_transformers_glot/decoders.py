"""Which Hugging Face model configs are decoder-only: the one rule that the backbone registry and GlotPooling's
``attention_sink="auto"`` share (torch-free; transformers is imported only to read its model-type tables)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sentence_transformers_glot.options import resolve_auto_options

# Decoder-only model types, a fallback for when transformers' auto mappings are unavailable.
_DECODER_TYPES = {
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3",
    "gemma3_text", "gpt2", "gpt_neo", "gpt_neox", "gptj", "phi", "phi3", "falcon", "bloom", "opt", "mpt",
    "stablelm", "starcoder2", "olmo", "olmo2", "smollm3", "granite", "cohere", "codegen", "lfm2",
}


def config_is_decoder(config: Mapping[str, Any]) -> bool:
    """Whether a Hugging Face model config (as a dict) describes a decoder-only (causal) language model:
    ``is_decoder`` set, a ``*ForCausalLM`` / ``*LMHeadModel`` architecture, or a ``model_type`` that has a
    causal-LM class but no masked-LM or sequence-to-sequence class in transformers (``llama``, ``gemma3_text``
    and ``gpt2`` are decoders; ``bert``, ``roberta`` and ``t5`` are not)."""
    if config.get("is_encoder_decoder"):
        return False
    if config.get("is_decoder"):
        return True
    architectures = config.get("architectures") or []
    if any(arch.endswith(("ForCausalLM", "LMHeadModel")) for arch in architectures):
        return True
    model_type = config.get("model_type")
    if not model_type:
        text_config = config.get("text_config")
        return config_is_decoder(text_config) if isinstance(text_config, Mapping) else False
    try:
        from transformers.models.auto.modeling_auto import (
            MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
            MODEL_FOR_MASKED_LM_MAPPING_NAMES,
            MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
        )
    except ImportError:  # pragma: no cover - transformers moved its mappings
        return model_type in _DECODER_TYPES
    if model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES or model_type in MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES:
        return False  # BERT-likes have a causal-LM head too, but only as decoders (is_decoder, handled above)
    return model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES or model_type in _DECODER_TYPES


def model_is_decoder(model: Any) -> bool:
    """Whether the backbone of ``model`` is decoder-only: ``model`` is a ``SentenceTransformer`` (its first module
    is the backbone), a ``Transformer`` module, a transformers model or config, a config dict, or a bool."""
    if isinstance(model, bool):
        return model
    for step in (lambda m: m[0], lambda m: m.auto_model, lambda m: m.config):  # model -> module -> config
        try:
            model = step(model)
        except (TypeError, AttributeError, IndexError, KeyError):
            pass
    config = model.to_dict() if hasattr(model, "to_dict") else model
    if not isinstance(config, Mapping):
        raise ValueError("GlotPooling.set_backbone: pass a SentenceTransformer, its Transformer module, a "
                         f"transformers model or config, or a bool; got {type(model).__name__}.")
    return config_is_decoder(config)


def warn_unresolved_backbone(stacklevel: int = 5) -> None:
    """Say (once per calling line, Python's default filter) that an ``"auto"`` option was used before the module
    learned its backbone, and what it did instead."""
    import warnings

    warnings.warn(
        "GlotPooling has not seen its backbone, so attention_sink='auto' pools every token, input_norm='auto' "
        "normalises nothing and conv='auto' is SAGE (what an encoder needs). With sentence-transformers >= 6 the "
        "model tells it; otherwise call pooling.set_backbone(model) before training, load the model with "
        "load_glot_model, or set attention_sink='exclude', input_norm='layer' and conv='gat' (decoders) or 'keep', "
        "'none' and 'sage' (encoders).",
        RuntimeWarning, stacklevel=stacklevel,
    )


def concrete_option(name: str, value: Any, is_decoder: bool | None) -> Any:
    """``value`` of option ``name``, with ``"auto"`` made concrete for a backbone that is (``is_decoder``) or is not
    decoder-only (:func:`~sentence_transformers_glot.options.resolve_auto_options`); ``is_decoder=None`` (the
    backbone not yet known) gives an encoder's value, with :func:`warn_unresolved_backbone`."""
    if value != "auto":
        return value
    if is_decoder is None:
        warn_unresolved_backbone(stacklevel=5)
    return resolve_auto_options({name: value}, bool(is_decoder))[name]
