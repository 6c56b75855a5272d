"""The packaged tasks' loaders on fake copies of the real files: movie reviews, newsgroups and Reuters,
subjectivity, tweets, FiQA question-answer pairs and sentiment similarity."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import NEWSGROUPS, assert_partition, fake_corpora, fiqa_folder

from sentence_transformers_glot.data import (
    SPLITS,
    TaskData,
    corpora,
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


def test_fiqa_pairs_match_each_question_with_its_answer_and_hard_negatives(tmp_path):
    task = corpora.load_fiqa_pairs(fiqa_folder(tmp_path, 60))
    assert task.is_pair and task.metric == "f1" and task.num_labels == 2
    questions = {s: set(task.splits[s].texts) for s in SPLITS}
    assert not (questions["train"] & questions["test"]) and not (questions["validation"] & questions["test"])
    for split in SPLITS:
        data = task.splits[split]
        assert len(data) == 3 * len(questions[split]) and data.labels.sum() == len(questions[split])
        for question, answer, label in zip(data.texts, data.texts_b, data.labels):
            number = question.split("number ")[1].rstrip("?")
            assert (f"case {number} " in answer) == bool(label)
            if not label and split == "train":  # 6 questions a topic: the hard negatives share the topic word
                assert question.split("my ")[1].split()[0] in answer
    assert corpora.load_fiqa_pairs(fiqa_folder(tmp_path, 60)).splits["test"].texts_b == task.splits["test"].texts_b


def test_fiqa_pairs_without_enough_negatives_names_split_count_and_need(tmp_path):
    with pytest.raises(ValueError, match=r"task 'fiqa-pairs': the validation split has 1 distinct answers; 2 hard "
                                         r"negatives per question need at least 3"):
        corpora.load_fiqa_pairs(fiqa_folder(tmp_path, 12))


def test_sentiment_similarity_pairs_each_snippet_once_with_graded_scores(tmp_path):
    folders = fake_corpora(tmp_path)
    task = corpora.load_sentiment_similarity(folders["vaderSentiment"])
    assert task.is_pair and task.objective == "regression" and task.metric == "spearman"
    texts = [t for s in SPLITS for t in task.splits[s].texts + task.splits[s].texts_b]
    assert len(texts) == len(set(texts))
    scores = np.concatenate([task.splits[s].labels for s in SPLITS])
    assert scores.min() >= 0 and scores.max() <= 8 and len(np.unique(scores)) > 5
