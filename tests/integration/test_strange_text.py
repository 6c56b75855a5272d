"""Strange text through ``SentenceTransformer.encode`` with GlotPooling, on encoder and decoder backbones.

Every input below goes through the real tokenizer and backbone: empty and whitespace-only strings, control
characters, zero-width spaces, emoji (with skin tones and ZWJ sequences), right-to-left scripts, and
100,000-character strings. The outputs must be finite, of the right shape, and each string's embedding in
a mixed batch must equal its embedding when encoded alone.

Long inputs are truncated, not rejected: the tokenizer keeps the first ``max_seq_length`` tokens (special
tokens included) and drops the rest, so a 100,000-character string embeds exactly like its own first part.

Some decoder tokenizers (the tiny Llama here, which adds no BOS) give an empty or whitespace-only string
zero tokens; in a batch that row has an all-zero attention mask and GlotPooling pools it to zeros, like
sentence-transformers' mean ``Pooling``. Alone such a string is a ``(1, 0)`` batch, which the Llama backbone
itself cannot run (transformers fails reshaping 0 elements), before GlotPooling is reached; the pooling-level
tests at the end cover zero-length inputs directly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot._compat import Transformer, token_dimension
from sentence_transformers_glot.nn.backend import BACKENDS
from sentence_transformers_glot.nn.readout import READOUTS

LETTERS = " ".join("abcdefghijklmnopqrstuvwxyz") + " "  # one token per letter in all three tokenizers
LONG_PLAIN = (LETTERS * (100_000 // len(LETTERS) + 1))[:100_000]
STRANGE_MIX = "w1 😀 שלום\x00 مرحبا\u200b\x1b[0m\r\n\t👨‍👩‍👧‍👦 "
LONG_STRANGE = (STRANGE_MIX * (100_000 // len(STRANGE_MIX) + 1))[:100_000]

STRANGE = {
    "empty": "",
    "whitespace": "   \t \n  \u3000 ",
    "nul": "\x00",
    "nul-inside": "w1\x00w2 a\x00",
    "escape": "\x1b[31m w1 \x1b[0m",
    "zero-width": "\u200b\u200b\ufeff\u200d",
    "crlf-tab": "w1\r\nw2\tw3\r",
    "emoji": "😀🎉 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈",
    "arabic": "مرحبا بالعالم",
    "hebrew": "שלום עולם",
    "mixed-direction": "w1 שלום w2 مرحبا a \u202eb c\u202c 😀",
    "long-plain": LONG_PLAIN,
    "long-strange": LONG_STRANGE,
}
NORMAL = ["a b c d", "w1 w2 w3 w4 w5", "A man is playing a guitar.", "w7"]

GLOT_CONFIGS = {
    "threshold-dense": {"threshold": 0.3, "backend": "dense"},
    "topk-gat-scatter": {"threshold": None, "top_k": 2, "conv": "gat", "backend": "scatter"},
}


def build(backbone_dir: str, max_seq_length: int | None = None, **glot) -> SentenceTransformer:
    transformer = Transformer(backbone_dir, max_seq_length=max_seq_length)
    torch.manual_seed(0)
    pooling = GlotPooling(token_dimension(transformer), **glot)
    return SentenceTransformer(modules=[transformer, pooling], device="cpu")


@pytest.fixture(scope="module")
def models(tiny_bert_dir, tiny_llama_dir, minilm_dir) -> dict[str, SentenceTransformer]:
    built = {}
    for name, config in GLOT_CONFIGS.items():
        built[f"tiny-bert-{name}"] = build(tiny_bert_dir, **config)
        built[f"tiny-llama-{name}"] = build(tiny_llama_dir, **config)
    built["minilm-paper-defaults"] = build(minilm_dir, max_seq_length=128)  # tau 0.8, K 2, hidden 256
    return built


MODEL_NAMES = [f"tiny-{b}-{c}" for b in ("bert", "llama") for c in GLOT_CONFIGS] + ["minilm-paper-defaults"]


def token_count(model: SentenceTransformer, text: str) -> int:
    return int(model.preprocess([text])["attention_mask"].sum())


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to float32 noise from different padded lengths (attention over another number of keys)."""
    return float(np.abs(a - b).max()) <= 1e-5 * max(1.0, float(np.abs(b).max()))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_strange_strings_in_a_mixed_batch_equal_their_own_embeddings(models, name):
    model = models[name]
    texts = [t for pair in zip(NORMAL * 4, STRANGE.values()) for t in pair]  # strange and normal interleaved
    labels = [label for pair in zip(["normal"] * len(STRANGE), STRANGE) for label in pair]
    embeddings = model.encode(texts, batch_size=len(texts))  # one batch, padded to max_seq_length
    assert embeddings.shape == (len(texts), model[1].get_embedding_dimension())
    assert np.isfinite(embeddings).all()
    assert close(model.encode(texts, batch_size=3), embeddings)  # other batch mates, other padded lengths
    for label, text, embedding in zip(labels, texts, embeddings):
        if token_count(model, text) == 0:  # e.g. "" for the tiny Llama, which adds no BOS: see module docstring
            assert np.array_equal(embedding, np.zeros_like(embedding)), label
            continue
        alone = model.encode([text])[0]
        assert np.isfinite(alone).all(), label
        assert close(alone, embedding), (label, float(np.abs(alone - embedding).max()))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_long_input_is_truncated_to_max_seq_length(models, name):
    """A 100,000-character string keeps its first max_seq_length tokens and embeds like that first part."""
    model = models[name]
    limit = model[0].max_seq_length
    for text in (LONG_PLAIN, LONG_STRANGE):
        assert len(text) == 100_000
        assert model.preprocess([text])["input_ids"].shape == (1, limit)
    # the prefix of LONG_PLAIN that the truncated tokens cover
    encoded = model[0].tokenizer(LONG_PLAIN, truncation=True, max_length=limit, return_offsets_mapping=True)
    prefix = LONG_PLAIN[: max(end for _, end in encoded["offset_mapping"])]
    assert len(prefix) <= 2 * limit  # "a " per token: far less than the 100,000 characters
    assert torch.equal(model.preprocess([prefix])["input_ids"], model.preprocess([LONG_PLAIN])["input_ids"])
    long_embedding, prefix_embedding = model.encode([LONG_PLAIN, prefix], batch_size=1)
    assert np.isfinite(long_embedding).all()
    assert np.array_equal(long_embedding, prefix_embedding)
    # what lies beyond the limit is ignored: another tail gives the same embedding
    assert np.array_equal(model.encode([prefix + " " + LONG_STRANGE])[0], long_embedding)


def test_tiny_llama_gives_empty_strings_zero_tokens_and_zero_embeddings(models):
    """The decoder case with no real token: an all-zero mask row in a batch pools to finite zeros."""
    for name in (f"tiny-llama-{c}" for c in GLOT_CONFIGS):
        model = models[name]
        assert model[0].tokenizer.padding_side == "left"
        assert token_count(model, "") == token_count(model, "  \t\n ") == 0
        embeddings = model.encode(["", "w1 w2 w3", "  \t\n ", "a"], batch_size=4)
        assert np.isfinite(embeddings).all()
        assert not embeddings[[0, 2]].any()
        assert embeddings[[1, 3]].any(axis=1).all()
        assert close(model.encode(["w1 w2 w3"])[0], embeddings[1])


# ---------------------------------------------------------------------------- non-string items
@pytest.mark.parametrize("bad", [None, 3, 3.5, True, b"bytes", ["w1", "w2", "w3"], []], ids=repr)
def test_non_string_item_raises_naming_its_type(models, bad):
    """sentence-transformers (6.x) rejects the item with ``Unsupported input type: <type>``.

    Its message names the type but not the item's position in the list.
    """
    model = models["tiny-bert-threshold-dense"]
    with pytest.raises((TypeError, ValueError), match=type(bad).__name__):
        model.encode(["a b", "c d", bad, "e f"])


def test_two_element_list_item_is_encoded_as_a_text_pair(models):
    """Not an error: sentence-transformers reads a 2-item list (or tuple) as a text pair, joined with [SEP]."""
    model = models["tiny-bert-threshold-dense"]
    pair = model.encode(["a b", ["c d", "e"]])[1]
    # batched with a shorter text, the backbone sees padding: equal up to float rounding, not bit for bit
    assert np.allclose(pair, model.encode([("c d", "e")])[0], atol=1e-6)
    assert not np.allclose(pair, model.encode(["c d e"])[0], atol=1e-3)


# ---------------------------------------------------------------------------- zero tokens at the pooling level
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("readout", READOUTS)
@pytest.mark.parametrize("num_layers", [0, 2])
def test_inputs_without_any_token_pool_to_finite_zeros(backend, readout, num_layers):
    """Zero-length batches (``(B, 0, d)``, or an unpadded batch of empty rows) give ``(B, D)`` zeros."""
    torch.manual_seed(0)
    pooling = GlotPooling(8, threshold=0.1, top_k=2, num_layers=num_layers, hidden_dim=4, readout=readout,
                          backend=backend).eval()
    dim = pooling.get_embedding_dimension()
    padded = pooling({"token_embeddings": torch.zeros(3, 0, 8), "attention_mask": torch.zeros(3, 0)})
    unpadded = pooling({"token_embeddings": torch.zeros(1, 0, 8), "cu_seq_lens_q": torch.zeros(4, dtype=torch.int32)})
    for out in (padded["sentence_embedding"], unpadded["sentence_embedding"]):
        assert out.shape == (3, dim) and torch.equal(out, torch.zeros(3, dim))
    # an empty row among real ones: zeros for it, the others as when pooled alone
    x = torch.randn(1, 5, 8)
    cu = torch.tensor([0, 2, 2, 5], dtype=torch.int32)
    mixed = pooling({"token_embeddings": x, "cu_seq_lens_q": cu})["sentence_embedding"]
    assert torch.isfinite(mixed).all() and torch.equal(mixed[1], torch.zeros(dim))
    alone = pooling({"token_embeddings": x[:, 2:5], "attention_mask": torch.ones(1, 3)})["sentence_embedding"]
    assert torch.allclose(mixed[2], alone[0], atol=1e-6)
