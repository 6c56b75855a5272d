"""GlotPooling inside a SentenceTransformer: encode, save, reload bit-identically, on real and tiny backbones; a
layer mix saved and reloaded; the model tells the module its backbone (the attention sink, the hidden states)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from helpers import glot_model
from sentence_transformers import SentenceTransformer

from sentence_transformers_glot import GlotPooling, load_glot_model
from sentence_transformers_glot._compat import Transformer, token_dimension

SENTENCES = [
    "a b c d",
    "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12",
    "w3",
    "q r s t u v w1 w2 a b",
]


@pytest.mark.parametrize("backbone", ["tiny_bert_dir", "tiny_llama_dir"])
@pytest.mark.parametrize("glot", [{"threshold": 0.3}, {"threshold": None, "top_k": 2, "conv": "gat"}])
def test_encode_save_load_is_bit_identical(backbone, glot, request, tmp_path):
    model = glot_model(request.getfixturevalue(backbone), **glot)
    embeddings = model.encode(SENTENCES, batch_size=3)
    assert embeddings.shape == (4, model[1].get_embedding_dimension())
    assert np.isfinite(embeddings).all()
    model.save(str(tmp_path / "model"))
    files = os.listdir(tmp_path / "model" / "1_GlotPooling")
    assert sorted(files) == ["config.json", "glot_checksums.json", "model.safetensors"]
    reloaded = SentenceTransformer(str(tmp_path / "model"), trust_remote_code=True, device="cpu")
    assert isinstance(reloaded[1], GlotPooling)
    assert np.array_equal(reloaded.encode(SENTENCES, batch_size=3), embeddings)
    assert np.array_equal(load_glot_model(str(tmp_path / "model"), device="cpu").encode(SENTENCES, batch_size=3),
                          embeddings)


def test_left_padded_decoder_batches_match_single_sentences(tiny_llama_dir):
    model = glot_model(tiny_llama_dir, threshold=0.2)
    assert model[0].tokenizer.padding_side == "left"
    batched = model.encode(SENTENCES, batch_size=4)
    alone = np.stack([model.encode([s])[0] for s in SENTENCES])
    assert np.abs(batched - alone).max() <= 1e-5


def test_last_token_preset_on_left_padded_decoder_equals_st_pooling(tiny_llama_dir):
    try:
        from sentence_transformers.sentence_transformer.modules import Pooling
    except ImportError:
        from sentence_transformers.models import Pooling
    # the last token is never the sink; input_norm="none": the states as they are (a decoder's "auto" LayerNorms)
    last = GlotPooling.baseline("last", 48, input_norm="none")
    glot = SentenceTransformer(modules=[Transformer(tiny_llama_dir), last], device="cpu")
    st = SentenceTransformer(modules=[Transformer(tiny_llama_dir), Pooling(48, pooling_mode="lasttoken")],
                             device="cpu")
    assert np.abs(glot.encode(SENTENCES) - st.encode(SENTENCES)).max() <= 1e-6


def test_offline_minilm_end_to_end(minilm_dir, tmp_path):
    transformer = Transformer(minilm_dir)
    torch.manual_seed(0)
    model = SentenceTransformer(modules=[transformer, GlotPooling(384)], device="cpu")
    sentences = ["A man is playing a guitar.", "Someone plays an instrument.", "The stock market fell sharply."]
    embeddings = model.encode(sentences)
    assert embeddings.shape == (3, 384 + 2 * 256) and np.isfinite(embeddings).all()
    model.save(str(tmp_path / "glot-minilm"))
    assert np.array_equal(load_glot_model(str(tmp_path / "glot-minilm"), device="cpu").encode(sentences), embeddings)
    # the mean preset reproduces the packaged model's own (mean) pooling exactly
    mean = SentenceTransformer(modules=[transformer, GlotPooling.baseline("mean", 384)], device="cpu")
    reference = SentenceTransformer(minilm_dir, device="cpu")
    assert np.abs(mean.encode(sentences, normalize_embeddings=True) - reference.encode(sentences)).max() <= 1e-6


def test_multi_process_pool_encoding_matches_single_process(tiny_bert_dir):
    model = glot_model(tiny_bert_dir, threshold=0.3)
    sentences = SENTENCES * 5
    expected = model.encode(sentences, batch_size=4)
    pool = model.start_multi_process_pool(["cpu", "cpu"])
    try:
        if hasattr(model, "encode_multi_process"):  # 5.x
            got = model.encode_multi_process(sentences, pool, batch_size=4, chunk_size=5)
        else:
            got = model.encode(sentences, pool=pool, batch_size=4, chunk_size=5)
    finally:
        model.stop_multi_process_pool(pool)
    assert np.abs(got - expected).max() <= 1e-5


@pytest.mark.parametrize("backbone", ["tiny_bert_dir", "tiny_llama_dir"])
def test_a_saved_multi_layer_model_encodes_the_same_after_reload(backbone, request, tmp_path):
    """The Transformer saves output_hidden_states with its config, so the reloaded model feeds the same layers."""
    transformer = Transformer(request.getfixturevalue(backbone))
    transformer.auto_model.config.output_hidden_states = True
    torch.manual_seed(0)
    pooling = GlotPooling(token_dimension(transformer), threshold=0.2, layers=[1, -1], sequence_window=1,
                          input_norm="layer", edge_weight="cosine")
    with torch.no_grad():
        pooling.layer_weights.copy_(torch.tensor([0.3, -0.2]))
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    sentences = ["a b c d", "w1 w2 w3 w4 w5 w6", "w3"]
    before = model.encode(sentences, batch_size=2)
    model.save(str(tmp_path / "model"))
    reloaded = SentenceTransformer(str(tmp_path / "model"), device="cpu", trust_remote_code=True)
    assert reloaded[1].layers == [1, -1]
    np.testing.assert_allclose(reloaded.encode(sentences, batch_size=2), before, atol=1e-5, rtol=1e-5)
    # and it is what the pooling computes on the backbone's own hidden states
    features = (getattr(model, "preprocess", None) or model.tokenize)(sentences)
    with torch.no_grad():
        hidden = transformer.auto_model(**{k: features[k] for k in ("input_ids", "attention_mask")},
                                        output_hidden_states=True).hidden_states
        stacked = torch.stack([hidden[1], hidden[-1]], dim=2)
        direct = pooling.eval().pool(stacked, features["attention_mask"].bool()).numpy()
    np.testing.assert_allclose(direct, before, atol=1e-5, rtol=1e-5)


def test_a_sentence_transformer_tells_auto_its_backbone(tiny_llama_dir):
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot._compat import Transformer

    transformer = Transformer(tiny_llama_dir)
    pooling = GlotPooling(transformer.auto_model.config.hidden_size, threshold=0.3, hidden_dim=8)
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    if pooling.backbone_is_decoder is None:  # sentence-transformers 5.x has no on_model_ready hook
        pooling.set_backbone(model)
    assert pooling.excludes_sink
    texts = ["w1 w2 w3", "w4 w5"]
    features = model.tokenize(texts)
    real = features["attention_mask"].bool()
    assert pooling.token_mask(real).sum() == real.sum() - len(texts)
    assert np.isfinite(model.encode(texts)).all()
    # input_norm="auto" LayerNorms the decoder's states and conv="auto" built GAT: the model encodes as one with
    # input_norm="layer" and conv="gat"
    assert pooling.token_norm == "layer" and pooling.gnn.conv == "gat"
    layer = GlotPooling(transformer.auto_model.config.hidden_size, threshold=0.3, hidden_dim=8, input_norm="layer",
                        attention_sink="exclude", conv="gat")
    layer.load_state_dict(pooling.state_dict())
    explicit = SentenceTransformer(modules=[transformer, layer], device="cpu")
    np.testing.assert_allclose(model.encode(texts), explicit.encode(texts), atol=1e-6)


def test_a_layer_mix_makes_the_backbone_emit_hidden_states_when_the_model_is_assembled(tiny_bert_dir):
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot._compat import Transformer

    transformer = Transformer(tiny_bert_dir)
    assert not transformer.auto_model.config.output_hidden_states
    model = SentenceTransformer(modules=[transformer, GlotPooling(32, threshold=0.3, hidden_dim=8, layers=[0, 1, 2])],
                                device="cpu")
    if not hasattr(GlotPooling.__mro__[1], "on_model_ready"):
        pytest.skip("sentence-transformers 5.x has no on_model_ready hook (the README shows config_kwargs)")
    assert transformer.auto_model.config.output_hidden_states
    assert model.encode(["w1 w2 w3"]).shape == (1, 32 + 2 * 8)
