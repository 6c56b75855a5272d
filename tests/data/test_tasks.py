"""Task data: seeded caps on task splits (``max_train``, ``max_eval``)."""

from __future__ import annotations

import numpy as np
import pytest

from sentence_transformers_glot.data import SPLITS, Split, TaskData, subsample
from sentence_transformers_glot.training.config import TrainConfig


def make_task(n_train: int = 50, n_eval: int = 20, pairs: bool = False) -> TaskData:
    def split(name: str, n: int) -> Split:
        texts = [f"{name} {i}" for i in range(n)]
        return Split(texts, np.arange(n) % 2, [t + " b" for t in texts] if pairs else None)

    return TaskData("toy", "classification", "accuracy", 2,
                    {"train": split("train", n_train), "validation": split("validation", n_eval),
                     "test": split("test", n_eval + 5)})


def test_subsample_caps_each_split_with_a_seeded_sample():
    task = make_task(pairs=True)
    small = subsample(task, max_train=10, max_eval=8)
    assert [len(small.splits[s]) for s in SPLITS] == [10, 8, 8]
    for name in SPLITS:
        kept, full = small.splits[name], task.splits[name]
        assert set(kept.texts) <= set(full.texts)
        index = [full.texts.index(t) for t in kept.texts]
        assert index == sorted(index), "a sample keeps the original order"
        assert kept.labels.tolist() == full.labels[index].tolist()
        assert kept.texts_b == [full.texts_b[i] for i in index], "pairs stay aligned"
    assert subsample(task, 10, 8).splits["test"].texts == small.splits["test"].texts, "same seed, same sample"
    assert subsample(task, 10, 8, seed=1).splits["test"].texts != small.splits["test"].texts
    # the caps are part of the name and version (so of the hidden-state cache key)
    assert small.name == "toy-train10-eval8" and small.version != task.version
    assert subsample(task, max_eval=8).name == "toy-eval8"
    assert subsample(task, max_train=10).splits["validation"] is task.splits["validation"]


def test_subsample_leaves_a_task_within_its_caps_alone():
    task = make_task()
    assert subsample(task) is task
    assert subsample(task, max_train=50, max_eval=25) is task


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10"])
def test_subsample_refuses_bad_caps(bad):
    with pytest.raises(ValueError, match="`max_eval` must be an int >= 1"):
        subsample(make_task(), max_eval=bad)
    with pytest.raises(ValueError, match="`max_train` must be an int >= 1"):
        TrainConfig(max_train=bad)
