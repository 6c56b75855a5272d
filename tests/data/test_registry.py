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
