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


def test_undefined_metrics_raise_instead_of_reporting_zero():
    import numpy as np
    import pytest

    from sentence_transformers_glot.metrics import compute_metric, noise_margin

    for name in ("spearman", "pearson", "mcc"):
        with pytest.raises(ValueError, match="undefined.*labels are all"):
            compute_metric(name, np.array([0.1, 0.5, 0.9]), np.array([3.0, 3.0, 3.0]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        compute_metric("spearman", np.array([0.1, np.nan, 0.9]), np.array([1.0, 2.0, 3.0]))
    # constant predictions carry no information: 0, the constant answer's level (the collapse guard names them)
    assert compute_metric("spearman", np.array([2.0, 2.0, 2.0]), np.array([1.0, 2.0, 3.0])) == 0.0
    assert noise_margin("accuracy", 50.0, 400) == pytest.approx(5.0)
    assert noise_margin("mcc", 0.0, 400) == pytest.approx(10.0)
