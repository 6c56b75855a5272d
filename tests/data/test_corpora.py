"""The packaged single-text tasks' loaders on fake copies of the real files: movie reviews, newsgroups and Reuters,
subjectivity and tweets."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import NEWSGROUPS, assert_partition

from sentence_transformers_glot.data import (
    SPLITS,
    TaskData,
    load_task,
)


def test_movie_tasks_drop_zero_ratings_and_repeats_and_share_one_split(fake_cache):
    polarity = load_task("movie-polarity", cache_dir=fake_cache)
    rating = load_task("movie-rating", cache_dir=fake_cache)
    assert_partition(polarity, 39)  # 46 rows - 4 zero ratings - 1 repeat - 2 rows of conflicting signs
    assert polarity.extra["zero_rating"] == 4 and polarity.extra["duplicates"] == 1
    assert polarity.extra["conflicting_duplicates"] == 2
    assert (polarity.objective, polarity.metric, polarity.label_names) == ("classification", "accuracy",
                                                                           ["negative", "positive"])
    assert (rating.objective, rating.metric) == ("regression", "spearman")
    assert [len(polarity.splits[s]) for s in SPLITS] == [31, 4, 4]
    for name in SPLITS:
        assert rating.splits[name].texts == polarity.splits[name].texts
        assert ((rating.splits[name].labels > 0) == (polarity.splits[name].labels == 1)).all()
    texts = [t for s in polarity.splits.values() for t in s.texts]
    assert "Movie sentence 1, a cliché." in texts and "Movie sentence 2, a cliché." not in texts
    assert all("sentence 11," not in t for t in texts)
    ratings = dict(zip(rating.splits["train"].texts + rating.splits["validation"].texts + rating.splits["test"].texts,
                       np.concatenate([rating.splits[s].labels for s in SPLITS])))
    assert ratings["Movie sentence 1, a cliché."] == pytest.approx(1.5)  # the first copy is kept
    assert "never train on one of them and test on another" in polarity.description


def test_orange_tasks_keep_the_official_test_and_carve_validation(fake_cache):
    task = load_task("20newsgroups", cache_dir=fake_cache)
    assert task.label_names == sorted(NEWSGROUPS) and task.num_labels == 3
    assert [len(task.splits[s]) for s in SPLITS] == [54, 6, 15]
    expected_test = [f"test {c} document {i} text" for c in NEWSGROUPS for i in range(5)]
    assert task.splits["test"].texts == expected_test  # file order, header rows and blank lines skipped
    names = [task.label_names[i] for i in task.splits["test"].labels]
    assert names == [c for c in NEWSGROUPS for _ in range(5)]
    assert np.bincount(task.splits["validation"].labels).tolist() == [2, 2, 2]
    assert all(t.startswith("train ") for t in task.splits["validation"].texts)
    r8 = load_task("reuters-r8", cache_dir=fake_cache)
    assert r8.label_names == ["acq", "earn"] and [len(r8.splits[s]) for s in SPLITS] == [54, 6, 8]


def texts_of_class(task: TaskData, label: int) -> list[str]:
    return sorted(t for s in task.splits.values() for t, y in zip(s.texts, s.labels) if y == label)


def test_subjectivity_balances_reviews_against_plots(fake_cache):
    task = load_task("subjectivity", cache_dir=fake_cache, plot_unit="synopsis")
    assert task.label_names == ["plot", "review"]
    labels = np.concatenate([task.splits[s].labels for s in SPLITS])
    assert np.bincount(labels).tolist() == [10, 10]  # 10 non-empty plots, as many of the 30 distinct reviews
    assert [len(task.splits[s]) for s in SPLITS] == [16, 2, 2]
    assert task.extra["empty"] == 1 and task.extra["duplicates"] == 1
    other_seed = load_task("subjectivity", cache_dir=fake_cache, seed=5, plot_unit="synopsis")
    assert texts_of_class(other_seed, 1) != texts_of_class(task, 1)  # the subsample is seeded

    sentences = load_task("subjectivity", cache_dir=fake_cache)  # default: one sentence per plot
    plots = texts_of_class(sentences, 0)
    assert len(plots) == 10 and all(len(p.split()) < 12 and "\n" not in p for p in plots)
    assert sentences.version != task.version
    with pytest.raises(ValueError, match="plot_unit='paragraph'"):
        load_task("subjectivity", cache_dir=fake_cache, plot_unit="paragraph")


def test_tweet_sentiment_reads_latin1_and_drops_conflicting_repeats(fake_cache):
    task = load_task("tweet-sentiment", cache_dir=fake_cache)
    assert (task.metric, task.label_names) == ("macro_f1", ["negative", "neutral", "positive"])
    texts = [t for s in task.splits.values() for t in s.texts]
    assert len(texts) == 61 and texts.count("repeated tweet") == 1 and "conflicting tweet" not in texts
    assert any("cars_\u00d1_" in t for t in texts)  # latin-1 decoded
    assert np.bincount(task.splits["test"].labels).tolist() == [2, 2, 2]
