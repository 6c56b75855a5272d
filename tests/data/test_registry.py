"""The task registry: every task listed once, and an unknown name answered with the valid ones."""

from __future__ import annotations

import pytest

from sentence_transformers_glot.data import (
    TASKS,
    available_tasks,
    load_task,
)


def test_registry():
    names = available_tasks()
    assert names == list(TASKS)
    assert {"movie-polarity", "movie-rating", "tweet-sentiment", "subjectivity", "20newsgroups", "reuters-r8",
            "bigram-shift", "coordination-inversion", "acceptability", "fiqa-pairs", "sentiment-similarity",
            "cola", "sst2", "stsb", "mrpc", "qqp", "mnli", "qnli", "rte", "wnli"} == set(names)
    assert all(TASKS[name] for name in names)


def test_unknown_task_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown task 'movie_polarity'") as error:
        load_task("movie_polarity")
    assert "did you mean 'movie-polarity'" in str(error.value)
    assert all(name in str(error.value) for name in ("sst2", "20newsgroups", "reuters-r8"))


def test_task_head_is_known_without_the_data_and_matches_what_the_loader_returns(fake_cache, monkeypatch,
                                                                                   tmp_path):
    from helpers import fake_corpora, fiqa_folder

    from sentence_transformers_glot.data import load_task, probing_tasks
    from sentence_transformers_glot.data.registry import PACKAGED_TASKS, PROBING_TASKS, task_head
    from sentence_transformers_glot.options import natural_head

    monkeypatch.setattr(probing_tasks, "MIN_PROBING_EXAMPLES", 100)  # the probing tasks on richer fake corpora
    corpora = fake_corpora(tmp_path / "corpora")
    for name, spec in PACKAGED_TASKS.items():
        if name in PROBING_TASKS:
            task = spec.loader(corpora)
        elif name == "fiqa-pairs":
            task = spec.loader(fiqa_folder(tmp_path / "fiqa", 60))
        else:
            task = load_task(name, cache_dir=fake_cache)
        assert task_head(name) == natural_head(task.objective, task.is_pair), name
    assert task_head("fiqa-pairs") == "pair-classification" and task_head("sentiment-similarity") == "similarity"
    assert task_head("movie-rating") == "regression" and task_head("bigram-shift") == "classification"
    assert task_head("mrpc") == "pair-classification" and task_head("stsb") == "similarity"
    assert task_head("cola") == "classification"
    assert task_head("data/pairs.csv") is None  # a file's columns decide, once it is read
