"""Backbone -> token states: what the hidden-state cache stores is what GlotPooling sees inside encode."""

from __future__ import annotations

from sentence_transformers_glot.backbones.states import transformer_encoder


def test_transformer_encoder_gives_what_the_pooling_module_sees(tiny_llama_dir):
    """Cached states equal the token_embeddings a pooling module receives inside encode (left padding)."""
    import torch

    from sentence_transformers_glot.backbones.states import load_backbone

    model = load_backbone(tiny_llama_dir, max_length=32)
    texts = ["a b c", "w1 w2 w3 w4 w5 w6", "q"]
    states = transformer_encoder(model)(texts)
    tokenize = getattr(model, "preprocess", None) or model.tokenize
    out = model[0](dict(tokenize(texts)))
    for i, text in enumerate(texts):
        real = out["token_embeddings"][i][out["attention_mask"][i].bool()]
        assert torch.allclose(torch.from_numpy(states[i]), real, atol=1e-6)
        assert states[i].shape[0] == len(tokenize([text])["input_ids"][0])
