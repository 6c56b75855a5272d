"""A run's model: heads per kind from the one table, and the rows and batches it reads."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import config, toy_task

from sentence_transformers_glot.options import HEADS
from sentence_transformers_glot.training.model import SCORE_TARGETS, build_head, build_pooling, example_rows


@pytest.mark.parametrize("regression", [False, True])
def test_score_heads_fit_the_training_scores_and_class_heads_name_the_classes(regression):
    task = toy_task(pair=regression, regression=regression)
    head = build_head(config("minilm"), task, 16)
    labels = task.splits["train"].labels.astype(np.float64)
    if regression:
        assert head.kind in SCORE_TARGETS and (head.target_shift, head.target_scale) == SCORE_TARGETS[head.kind](labels)
    else:
        assert head.kind == "classification" and head.label_names == task.label_names
    assert set(SCORE_TARGETS) <= set(HEADS)


def test_the_pooling_resolves_auto_options_for_the_backbone_and_rows_cover_the_split():
    settings = config("minilm")
    assert build_pooling(settings, 8, decoder=True).token_norm == "layer"
    assert build_pooling(settings, 8, decoder=False).token_norm == "none"
    task = toy_task()
    head = build_head(settings, task, 16)
    assert list(example_rows(task, "validation", head)) == list(range(len(task.splits["validation"].labels)))
