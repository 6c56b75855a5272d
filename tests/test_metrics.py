"""Task metrics and the level a constant answer reaches."""

from __future__ import annotations

import numpy as np
import pytest

from sentence_transformers_glot.metrics import compute_metric, constant_level


def test_constant_level_is_the_best_one_answer_score():
    pairs = np.array([1, 0, 0] * 5)  # fiqa-pairs: one own answer, two hard negatives per question
    assert constant_level("f1", pairs) == pytest.approx(50.0)  # always "match": 2p / (1 + p) with p = 1/3
    assert constant_level("accuracy", pairs) == pytest.approx(100 * 2 / 3)  # always "other answer"
    three = np.array([0, 0, 0, 1, 2, 2])
    assert constant_level("accuracy", three) == pytest.approx(50.0)
    assert constant_level("macro_f1", three) == pytest.approx(100 * (2 * 0.5 / 1.5) / 3)
    for name in ("mcc", "spearman", "pearson"):
        assert constant_level(name, three) == 0.0
    # no constant answer beats it, and a model that learned something does
    assert max(compute_metric("f1", np.full(15, v), pairs) for v in (0, 1)) <= constant_level("f1", pairs)
    assert compute_metric("f1", pairs, pairs) > constant_level("f1", pairs)
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        constant_level("auc", pairs)
