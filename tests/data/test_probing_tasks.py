"""The probing tasks' loaders on small fake corpora: splits, description and byte-identical rebuilds, and the
errors for corpora too small or not fetched."""

from __future__ import annotations

import json

import pytest
from helpers import fake_corpora

from sentence_transformers_glot import data as glot_data
from sentence_transformers_glot.data import SPLITS, probing_tasks


@pytest.mark.parametrize("loader", ["load_bigram_shift", "load_coordination_inversion", "load_acceptability"])
def test_probing_loaders_split_describe_and_rebuild_byte_identically(tmp_path, monkeypatch, loader):
    monkeypatch.setattr(probing_tasks, "MIN_PROBING_EXAMPLES", 100)
    folders = fake_corpora(tmp_path)
    task = getattr(probing_tasks, loader)(folders)
    sizes = [len(task.splits[s]) for s in SPLITS]
    assert sizes[0] > 100 and abs(sizes[1] - sizes[2]) <= 1 and sizes[1] >= 0.09 * sum(sizes)
    for split in SPLITS:
        assert abs(task.splits[split].labels.mean() - 0.5) < 0.02
    everything = [t for s in SPLITS for t in task.splits[s].texts]
    assert len(set(everything)) == len(everything)
    assert "Sizes" in task.description and "seed 13" in task.description and task.extra["examples"] == sum(sizes)

    def serialised(t):
        return json.dumps({s: [t.splits[s].texts, t.splits[s].labels.tolist()] for s in SPLITS}).encode()

    assert serialised(getattr(probing_tasks, loader)(folders)) == serialised(task)
    assert serialised(getattr(probing_tasks, loader)(folders, seed=14)) != serialised(task)


def test_probing_task_on_too_small_a_corpus_names_task_count_and_need(tmp_path):
    folders = fake_corpora(tmp_path)
    with pytest.raises(ValueError, match=r"task 'coordination-inversion': the corpora give 480 examples .*at least "
                                         r"1,000"):
        probing_tasks.load_coordination_inversion(folders)
    with pytest.raises(ValueError, match="`size` must be an int >= 2"):
        probing_tasks.load_bigram_shift(folders, size=1)


def test_probing_tasks_through_load_task_need_all_three_corpora(tmp_path):
    with pytest.raises(glot_data.DataNotFetchedError, match="glot data fetch bigram-shift"):
        glot_data.load_task("bigram-shift", cache_dir=str(tmp_path))
