"""The benchmark's Markdown tables: the best method of each task in bold."""

from __future__ import annotations

from sentence_transformers_glot.evaluation.suite_report import markdown_tables


def test_markdown_marks_the_best_method_per_task():
    rows = [
        {"backbone": "b", "task": "t", "method": m, "seed": s, "metric": "accuracy", "validation": v, "test": v}
        for m, values in (("glot", (80.0, 82.0)), ("mean", (70.0, 71.0))) for s, v in enumerate(values)
    ]
    table = markdown_tables(rows)
    assert "| glot | **81.00 ± 1.41** |" in table
    assert "| mean | 70.50 ± 0.71 |" in table
