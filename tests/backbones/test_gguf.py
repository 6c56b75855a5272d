"""The real GGUF conversions, only with GLOT_SLOW_TESTS=1 (about 30 s and 1.6 GB for smollm2-135m, 70 s and 3.5 GB
more for gemma3-270m): the converted model equals the GGUF one, and both encode."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from sentence_transformers_glot.backbones import gguf
from sentence_transformers_glot.backbones.registry import is_decoder, resolve_backbone
from sentence_transformers_glot.backbones.store import MANIFEST_NAME

SLOW = os.environ.get("GLOT_SLOW_TESTS") == "1"


PARAPHRASES = ["A man is playing a guitar.", "A guy plays the guitar.", "The central bank raised interest rates."]


def encode_last_token(path: str, sentences: list[str]) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot._compat import Transformer, token_dimension

    try:
        from sentence_transformers.base.modules import Pooling
    except ImportError:  # sentence-transformers 5.x
        from sentence_transformers.models import Pooling
    transformer = Transformer(path, max_seq_length=128)
    model = SentenceTransformer(modules=[transformer, Pooling(token_dimension(transformer), "lasttoken")], device="cpu")
    return model.encode(sentences, normalize_embeddings=True)


@pytest.mark.skipif(not SLOW, reason="real GGUF conversion (~30 s, 1.6 GB RAM): set GLOT_SLOW_TESTS=1")
def test_real_smollm2_conversion_matches_the_gguf_model(tmp_path):
    from transformers import AutoModel, AutoTokenizer

    path = resolve_backbone("smollm2-135m", cache_dir=tmp_path)
    manifest = json.loads((Path(path) / MANIFEST_NAME).read_text())
    assert manifest["hidden_size"] == 576 and manifest["model_type"] == "llama"
    assert manifest["tokenizer"]["had_chat_template"] is True
    assert is_decoder(path)

    folder, file_name = gguf.smollm2_gguf()
    reference = AutoModel.from_pretrained(folder, gguf_file=file_name, dtype=torch.float32).eval()
    converted = AutoModel.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.chat_template is None and tokenizer.pad_token is not None
    batch = tokenizer(PARAPHRASES, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = reference(**batch).last_hidden_state
        actual = converted(**batch).last_hidden_state
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5)

    embeddings = encode_last_token(path, PARAPHRASES)
    assert embeddings.shape == (3, 576) and np.isfinite(embeddings).all()


@pytest.mark.skipif(not SLOW, reason="real GGUF conversion (~70 s, 3.5 GB RAM): set GLOT_SLOW_TESTS=1")
def test_real_gemma3_conversion_encodes(tmp_path):
    path = resolve_backbone("gemma3-270m", cache_dir=tmp_path)
    manifest = json.loads((Path(path) / MANIFEST_NAME).read_text())
    assert manifest["hidden_size"] == 640 and manifest["model_type"] == "gemma3_text"
    assert not (Path(path) / "_gguf").exists()  # the joined GGUF is not kept
    embeddings = encode_last_token(path, PARAPHRASES)
    assert embeddings.shape == (3, 640) and np.isfinite(embeddings).all()
