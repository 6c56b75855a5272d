"""Benchmark statistics: the learning rate chosen on validation, the paper protocol's fixed rate, and the margins
with a paired t-test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ttest_rel

from sentence_transformers_glot.evaluation.suite_report import margin_table, markdown_tables
from sentence_transformers_glot.evaluation.summary import aggregate, margins


def test_learning_rate_is_chosen_on_validation_not_test():
    """Per method, the learning rate with the best mean validation score is kept, even when another one
    would have scored higher on test; the table shows the chosen rate."""
    rows = [
        {"backbone": "b", "task": "t", "method": "mean", "lr": lr, "seed": s, "metric": "accuracy",
         "validation": val + s, "test": test + s}
        for lr, val, test in ((2e-4, 60.0, 90.0), (2e-3, 70.0, 50.0)) for s in (0, 1)
    ] + [{"backbone": "b", "task": "t", "method": "glot", "lr": 2e-4, "seed": s, "metric": "accuracy",
          "validation": 65.0, "test": 55.0} for s in (0, 1)]
    cell = aggregate(rows)[("b", "t", "mean")]
    assert cell.lr == 2e-3 and cell.mean == 50.5 and cell.seeds == 2
    assert cell.validation == {2e-4: 60.5, 2e-3: 70.5}
    table = markdown_tables(rows)
    assert "learning rate chosen on validation" in table
    assert "| mean | 50.50 ± 0.71 (0.002) |" in table
    assert "| glot | **55.00 ± 0.00** (0.0002) |" in table


def test_paper_protocol_reads_the_paper_learning_rate_and_margins_use_a_paired_test():
    """paper: every method at 2e-4 whatever validation says; tuned: the best rate on validation. The margin is
    GLOT minus the baseline with the best mean test score, seed by seed, with a paired t-test."""
    rows = [{"backbone": "b", "task": "t", "method": method, "lr": lr, "seed": seed, "metric": "accuracy",
             "validation": validation, "test": test + offset}
            for method, lr, validation, test in (("glot", 2e-4, 80.0, 80.0), ("glot", 2e-3, 70.0, 60.0),
                                                 ("mean", 2e-4, 60.0, 60.0), ("mean", 2e-3, 75.0, 79.0),
                                                 ("max", 2e-4, 50.0, 50.0), ("max", 2e-3, 55.0, 55.0))
            for seed, offset in enumerate((0.0, 1.0, 2.5))]
    rows += [{**row, "method": "glot-gat", "test": row["test"] + 0.5 * row["seed"]} for row in rows
             if row["method"] == "glot"]
    paper, tuned = aggregate(rows, "paper"), aggregate(rows, "tuned")
    assert paper[("b", "t", "mean")].lr == 2e-4 and paper[("b", "t", "mean")].mean == pytest.approx(61.1667, abs=1e-3)
    assert tuned[("b", "t", "mean")].lr == 2e-3
    found = margins(rows, "paper")[("b", "t", "glot")]
    assert found.baseline == "mean" and found.margin == pytest.approx(20.0) and np.isnan(found.p)  # equal diffs
    gat = margins(rows, "tuned")[("b", "t", "glot-gat")]
    differences = np.array([80.0 - 79.0, 81.5 - 80.0, 83.5 - 81.5])
    assert gat.baseline == "mean" and gat.margin == pytest.approx(differences.mean())
    assert gat.p == pytest.approx(ttest_rel(differences, np.zeros(3)).pvalue) and gat.seeds == 3
    table = margin_table(rows)
    assert "| b | t | glot | +20.00 ± 0.00 (vs mean, p nan) | +1.00 ± 0.00 (vs mean, p nan) |" in table
    assert "| b | t | glot-gat | **+20.50 ± 0.50** (vs mean, p 0.0002) | **+1.50 ± 0.50** (vs mean, p 0.035) |" in table
    assert "paper protocol" in markdown_tables(rows, "paper") and "every method at lr 0.0002" in markdown_tables(
        rows, "paper")
    with pytest.raises(ValueError, match="`protocol` must be one of"):
        aggregate(rows, "best")
