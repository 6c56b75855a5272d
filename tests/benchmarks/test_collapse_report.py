"""benchmarks/reports/collapse_report.py: collapsed runs by the issue's rule, and GLOT's margin over the best
baseline, over the cells of several suite.json files."""

from __future__ import annotations

import json

from helpers import ROOT


def test_collapse_rows_count_runs_under_mean_pooling_and_the_margin(monkeypatch, tmp_path):
    import importlib

    monkeypatch.syspath_prepend(str(ROOT))
    report = importlib.import_module("benchmarks.reports.collapse_report")
    scores = {"mean": [60.0, 62.0, 61.0], "glot": [70.0, 40.0, 72.0], "glot-gat": [66.0, 67.0, 68.5]}
    cells = [{"backbone": "/models/gemma", "task": "t", "layer": -1, "method": method, "lr": 2e-3, "seed": seed,
              "metric": "f1", "validation": test, "test": test, "collapsed": method == "glot" and seed == 1}
             for method, tests in scores.items() for seed, test in enumerate(tests)]
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "suite.json").write_text(json.dumps({"cells": cells}))
    rows = {row["method"]: row for row in report.collapse_rows([tmp_path / "a"])}
    assert set(rows) == {"glot", "glot-gat"}  # one row per GLOT method, none for the baseline
    glot, gat = rows["glot"], rows["glot-gat"]
    assert glot["backbone"] == "gemma" and glot["mean_pooling"] == 61.0
    assert glot["collapsed_by_rule"] == 1 and glot["flagged"] == 1  # 40 < 61 - 10
    assert gat["collapsed_by_rule"] == 0 and gat["best_baseline"] == "mean"
    assert gat["margin"] == round((66 + 67 + 68.5 - 183) / 3, 2) and gat["win_beyond_noise"] is True
    assert glot["win_beyond_noise"] is False  # a positive mean margin, but not beyond seed noise
    assert glot["constant_level"] is None  # task "t" has no data here: the level is left out, not invented


def test_collapse_rows_give_the_level_of_a_constant_answer(monkeypatch, tmp_path):
    import importlib

    from sentence_transformers_glot.data import load_task
    from sentence_transformers_glot.metrics import constant_level

    monkeypatch.syspath_prepend(str(ROOT))
    report = importlib.import_module("benchmarks.reports.collapse_report")
    data = tmp_path / "pairs.csv"
    data.write_text("text,label\n" + "".join(f"sentence number {i},{int(i % 3 == 0)}\n" for i in range(90)))
    cells = [{"backbone": "b", "task": str(data), "layer": -1, "method": method, "lr": 2e-3, "seed": seed,
              "metric": "f1", "validation": 50.0 + seed, "test": 50.0 + seed}
             for method in ("mean", "glot") for seed in range(3)]
    (tmp_path / "suite.json").write_text(json.dumps({"cells": cells}))
    (row,) = report.collapse_rows([tmp_path])
    labels = load_task(str(data)).splits["test"].labels
    assert 0 < labels.mean() < 1
    assert row["constant_level"] == round(constant_level("f1", labels), 2) > 0
