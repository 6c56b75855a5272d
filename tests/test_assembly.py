"""A model assembled by hand (sentence-transformers 5.x, where no on_model_ready runs) gets what GlotPooling needs
from prepare_model: the card, the backbone for the "auto" options, and the hidden states of a layer mix."""

from __future__ import annotations


def test_prepare_model_gives_the_card_the_backbone_and_the_hidden_states(tiny_llama_dir):
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot import GlotPooling
    from sentence_transformers_glot._compat import Transformer, token_dimension
    from sentence_transformers_glot.assembly import prepare_model
    from sentence_transformers_glot.model_card import GlotModelCardData

    transformer = Transformer(tiny_llama_dir)
    transformer.auto_model.config.output_hidden_states = False
    pooling = GlotPooling(token_dimension(transformer), layers=[-1, 1])
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    pooling.backbone_is_decoder = None  # as a model assembled on sentence-transformers 5.x, before prepare_model
    transformer.auto_model.config.output_hidden_states = False
    prepare_model(model, [pooling])
    assert pooling.backbone_is_decoder is True and pooling.excludes_sink and pooling.token_norm == "layer"
    assert transformer.auto_model.config.output_hidden_states is True
    assert isinstance(model.model_card_data, GlotModelCardData)
    assert model.encode(["a b c", "d"]).shape == (2, pooling.get_sentence_embedding_dimension())
