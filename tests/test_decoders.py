"""Which configs and models are decoder-only: the one rule the registry, the record and GlotPooling share."""

from __future__ import annotations

import pytest

from sentence_transformers_glot.decoders import config_is_decoder, model_is_decoder


@pytest.mark.parametrize("config, decoder", [
    ({"model_type": "llama"}, True), ({"model_type": "gemma3_text"}, True), ({"model_type": "bert"}, False),
    ({"model_type": "t5", "is_encoder_decoder": True}, False), ({"architectures": ["FooForCausalLM"]}, True),
    ({"model_type": "bert", "is_decoder": True}, True), ({"text_config": {"model_type": "gpt2"}}, True),
])
def test_the_rule(config, decoder):
    assert config_is_decoder(config) is decoder


def test_a_model_is_read_down_to_its_config(tiny_bert_dir, tiny_llama_dir):
    from helpers import glot_model

    assert model_is_decoder(glot_model(tiny_llama_dir)) is True  # SentenceTransformer -> Transformer -> config
    assert model_is_decoder(glot_model(tiny_bert_dir)[0]) is False
    assert model_is_decoder(True) is True
    with pytest.raises(ValueError, match="set_backbone: pass a SentenceTransformer"):
        model_is_decoder(3.5)


def test_auto_options_are_made_concrete_for_the_backbone_and_warn_before_it_is_known():
    import warnings

    from sentence_transformers_glot.decoders import concrete_option

    assert concrete_option("attention_sink", "auto", True) == "exclude"
    assert concrete_option("input_norm", "auto", False) == "none"
    assert concrete_option("input_norm", "rms", True) == "rms"  # a concrete value is kept
    with pytest.warns(RuntimeWarning, match="has not seen its backbone"):
        assert concrete_option("input_norm", "auto", None) == "none"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        concrete_option("attention_sink", "keep", None)  # nothing to resolve, nothing to warn
