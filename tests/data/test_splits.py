"""Splits: seeded, independent of the file's row order, disjoint, sized and stratified; the version follows the
split logic."""

from __future__ import annotations

import csv
import random

import numpy as np
from helpers import assert_partition, class_file, split_texts, write_csv

from sentence_transformers_glot.data import (
    SPLITS,
    load_task,
    splits,
)


def test_splits_are_deterministic_seeded_and_independent_of_row_order(tmp_path):
    path = class_file(tmp_path)
    first, again = load_task(str(path)), load_task(str(path))
    assert split_texts(first) == split_texts(again)
    assert first.version == again.version

    rows = list(csv.reader(open(path, encoding="utf-8")))
    body = rows[1:]
    random.Random(0).shuffle(body)
    shuffled = write_csv(tmp_path / "shuffled.csv", rows[0], body)
    reordered = load_task(str(shuffled))
    for name in SPLITS:  # same membership, and the same order, whatever the file's row order
        assert split_texts(reordered)[name] == split_texts(first)[name]

    other = load_task(str(path), seed=14)
    assert set(other.splits["test"].texts) != set(first.splits["test"].texts)
    assert other.version != first.version and other.extra["seed"] == 14


def test_splits_are_disjoint_sized_and_stratified(tmp_path):
    task = load_task(str(class_file(tmp_path, 150, 50)))
    assert_partition(task, 200)
    for name, expected in (("validation", [15, 5]), ("test", [15, 5]), ("train", [120, 40])):
        assert np.bincount(task.splits[name].labels).tolist() == expected


def test_version_follows_the_split_logic(tmp_path, monkeypatch):
    path = class_file(tmp_path)
    before = load_task(str(path)).version
    monkeypatch.setattr(splits, "SPLIT_LOGIC_VERSION", splits.SPLIT_LOGIC_VERSION + 1)
    assert load_task(str(path)).version != before
