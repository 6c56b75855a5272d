"""Evaluating a run: the collapse guard's verdicts (the metric itself is tests/test_metrics.py's)."""

from __future__ import annotations

import numpy as np

from sentence_transformers_glot.training.evaluate import constant_prediction, divergence


def test_constant_predictions_are_recognised():
    targets = np.array([0, 1] * 50)
    assert "predicts class 0 for 100.0%" in constant_prediction(np.zeros(100, dtype=int), targets, "classification")
    assert constant_prediction(targets.copy(), targets, "classification") is None
    assert constant_prediction(np.zeros(100), np.zeros(100), "classification") is None  # one-class data: no signal
    assert "one score" in constant_prediction(np.full(100, 2.5), targets * 5.0, "regression")
    assert constant_prediction(targets * 1.0, targets * 5.0, "regression") is None


def test_divergence_is_recognised_from_the_loss_and_from_a_validation_score_at_the_constant_level():
    labels = np.array([0, 1] * 200)  # balanced: the constant answer scores 50 accuracy
    grew = [{"loss": 1.8e29}, {"loss": 1.0e30}]
    assert "grew from 0.7 at the first step" in divergence(grew, 0.7, 50.4, "accuracy", labels)
    assert "never rose above the constant answer's level" in divergence([{"loss": 0.69}], 0.69, 52.0, "accuracy",
                                                                         labels)
    assert divergence([{"loss": 0.3}], 0.69, 80.0, "accuracy", labels) is None  # learned: nothing to say
    assert divergence([{"loss": 0.3}], 0.69, 1.0, "accuracy", None) is None  # contrastive: no constant answer
