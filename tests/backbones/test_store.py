"""The backbone store: a conversion published once with its manifest and reused; interrupted, empty or damaged
ones never trusted; stale temporary folders removed; one conversion for concurrent callers."""

from __future__ import annotations

import json
import threading
import time

import pytest
from helpers import CountingConverter, leftovers

from sentence_transformers_glot.backbones import store
from sentence_transformers_glot.backbones.registry import is_decoder
from sentence_transformers_glot.backbones.store import MANIFEST_NAME, cached_backbone


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
