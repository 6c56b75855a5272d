"""File infrastructure: atomic writes publish with the permissions of the process's umask, as a plain write would;
the cache root."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from sentence_transformers_glot.io import atomic_write_folder, atomic_write_text, cache_root


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_file_has_umask_permissions(tmp_path, umask):
    target = tmp_path / "metrics.json"
    atomic_write_text(target, "{}")
    assert mode(target) == 0o666 & ~umask
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert mode(target) == mode(plain)


def test_atomic_folder_and_its_contents_have_umask_permissions(tmp_path, umask):
    def write(folder: str) -> None:
        (Path(folder) / "sub").mkdir()
        private = Path(folder) / "sub" / "weights.bin"
        private.write_bytes(b"\0")
        os.chmod(private, 0o600)  # as safetensors writes its files

    target = tmp_path / "model"
    atomic_write_folder(target, write)
    assert mode(target) == mode(target / "sub") == 0o777 & ~umask
    assert mode(target / "sub" / "weights.bin") == 0o666 & ~umask


def test_cache_and_saved_pooling_files_are_readable_by_others(tmp_path, umask):
    if umask & 0o004:
        pytest.skip("this umask hides files from others by design")
    from sentence_transformers_glot import GlotPooling
    from sentence_transformers_glot.training.cache import StateCache

    cache = StateCache(tmp_path / "states", dtype="float32", shard_size=2)
    cache.get_or_build(["a", "b", "c"], lambda texts: [np.ones((2, 4), np.float32) for _ in texts], "fp", 8, -1)
    GlotPooling(4, hidden_dim=8).save(str(tmp_path / "pooling"))
    files = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert files and all(mode(p) & 0o044 == 0o044 for p in files), [(p.name, oct(mode(p))) for p in files]


def test_cache_root_default_and_env(tmp_path, monkeypatch):
    monkeypatch.delenv("GLOT_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_root() == tmp_path / ".cache" / "sentence-transformers-glot"
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_root(tmp_path / "arg") == tmp_path / "arg"
