"""The local tasks' data in mteb's formats: round-robin class heads, and pair tasks as pair classification (labels)
and STS (scores), read from the task registry."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mteb")

from helpers import toy_task  # noqa: E402

from sentence_transformers_glot.evaluation.mteb import local_data  # noqa: E402
from sentence_transformers_glot.evaluation.mteb.tasks import LOCAL_TASKS  # noqa: E402


def test_the_head_of_each_class_is_taken_round_robin_in_row_order():
    labels = np.array([0, 0, 0, 1, 2, 1, 0])
    assert local_data.stratified_head(labels, 4).tolist() == [0, 1, 3, 4]
    assert local_data.stratified_head(labels, None).tolist() == list(range(7))


@pytest.mark.parametrize("name, column", [("glot-fiqa-pair-classification", "labels"),
                                          ("glot-sentiment-similarity-sts", "score")])
def test_pair_tasks_give_both_texts_and_their_target(monkeypatch, name, column):
    task = toy_task(pair=True, regression=column == "score", n=60)
    monkeypatch.setattr("sentence_transformers_glot.data.load_task", lambda source, cache_dir=None: task)
    data = local_data.load_pairs(LOCAL_TASKS[name], None, limit=None)["test"]
    test = task.splits["test"]
    assert data["sentence1"] == list(test.texts) and data["sentence2"] == list(test.texts_b)
    assert np.allclose(data[column], test.labels)
    limited = local_data.load_pairs(LOCAL_TASKS[name], None, limit=6)["test"]
    assert len(limited) == 6 and (column == "score" or sorted(set(limited["labels"])) == [0, 1])
