"""Trained model folders predict through their task head: class names, scores on the task's scale, a score per
pair."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers import toy_task, trained

from sentence_transformers_glot.training.predict import load_predictor


def test_predictions_name_the_classes_and_match_the_run(tiny_bert_dir, tmp_path):
    task = toy_task()
    task = dataclasses.replace(task, label_names=["without a", "with a"])
    result = trained(tiny_bert_dir, tmp_path, task)
    predictor = load_predictor(result.model_dir)
    test = task.splits["test"]
    predicted = predictor.predict(test.texts)
    assert set(predicted) <= {"without a", "with a"}
    accuracy = 100 * np.mean([p == task.label_names[y] for p, y in zip(predicted, test.labels)])
    assert abs(accuracy - result.test) <= 100 / len(test.texts) + 1e-9  # the run's own test score (one flip at most)
    with pytest.raises(ValueError, match="single texts"):
        predictor.predict(test.texts, test.texts)


def test_pair_regression_predicts_scores_on_the_task_scale(tiny_bert_dir, tmp_path):
    task = toy_task(pair=True, regression=True)
    result = trained(tiny_bert_dir, tmp_path, task)
    test = task.splits["test"]
    scores = load_predictor(result.model_dir).predict(test.texts, test.texts_b)
    assert len(scores) == len(test.texts) and all(isinstance(s, float) for s in scores)
    assert -1.0 <= min(scores) and max(scores) <= 6.0  # similarity head: cosine mapped back onto 0..5
    with pytest.raises(ValueError, match="pairs"):
        load_predictor(result.model_dir).predict(test.texts)


def test_contrastive_head_scores_each_pair(tiny_bert_dir, tmp_path):
    task = toy_task(pair=True)
    result = trained(tiny_bert_dir, tmp_path, task, head="contrastive")
    test = task.splits["test"]
    predictor = load_predictor(result.model_dir)
    scores = predictor.predict(test.texts, test.texts_b)
    first = predictor.predict(test.texts[:1], test.texts_b[:1])
    assert len(scores) == len(test.texts) and all(-1.0 - 1e-6 <= s <= 1.0 + 1e-6 for s in scores)
    assert abs(first[0] - scores[0]) < 1e-5  # a pair's score does not depend on the other pairs
