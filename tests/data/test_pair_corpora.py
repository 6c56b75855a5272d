"""The packaged pair tasks' loaders on fake copies of the real files: FiQA question-answer pairs with hard negatives,
and sentiment similarity."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import fake_corpora, fiqa_folder

from sentence_transformers_glot.data import SPLITS, pair_corpora


def test_fiqa_pairs_match_each_question_with_its_answer_and_hard_negatives(tmp_path):
    task = pair_corpora.load_fiqa_pairs(fiqa_folder(tmp_path, 60))
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
    assert pair_corpora.load_fiqa_pairs(fiqa_folder(tmp_path, 60)).splits["test"].texts_b == task.splits["test"].texts_b


def test_fiqa_pairs_without_enough_negatives_names_split_count_and_need(tmp_path):
    with pytest.raises(ValueError, match=r"task 'fiqa-pairs': the validation split has 1 distinct answers; 2 hard "
                                         r"negatives per question need at least 3"):
        pair_corpora.load_fiqa_pairs(fiqa_folder(tmp_path, 12))


def test_sentiment_similarity_pairs_each_snippet_once_with_graded_scores(tmp_path):
    folders = fake_corpora(tmp_path)
    task = pair_corpora.load_sentiment_similarity(folders["vaderSentiment"])
    assert task.is_pair and task.objective == "regression" and task.metric == "spearman"
    texts = [t for s in SPLITS for t in task.splits[s].texts + task.splits[s].texts_b]
    assert len(texts) == len(set(texts))
    scores = np.concatenate([task.splits[s].labels for s in SPLITS])
    assert scores.min() >= 0 and scores.max() <= 8 and len(np.unique(scores)) > 5
