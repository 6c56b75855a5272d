"""benchmarks/reports/surviving_wins.py: paired margins over the best baseline, Holm-corrected, complete cells only."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT


@pytest.fixture()
def report(monkeypatch):
    import importlib

    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("benchmarks.reports.surviving_wins")


def test_holm_adjusts_step_down_and_keeps_order(report):
    adjusted = report.holm([0.01, 0.04, 0.03, float("nan")])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06]) and adjusted[3] != adjusted[3]  # NaN stays NaN


def test_a_consistent_lead_survives_a_noisy_one_ties_and_incomplete_cells_are_left_out(report, tmp_path):
    seeds = range(10)
    scores = {("clear", "glot"): [70 + s % 2 for s in seeds], ("clear", "adapool"): [60 + s % 3 for s in seeds],
              ("noisy", "glot"): [60 + (5 if s % 2 else -5) for s in seeds], ("noisy", "adapool"): [60.0] * 10,
              ("short", "glot"): [80, 81, 82], ("short", "adapool"): [50, 51, 52]}
    cells = [{"backbone": "/m/minilm", "task": task, "layer": -1, "method": method, "lr": 2e-4, "seed": seed,
              "metric": "accuracy", "validation": test, "test": test}
             for (task, method), tests in scores.items() for seed, test in zip(seeds, tests)]
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "suite.json").write_text(json.dumps({"cells": cells}))
    rows, incomplete = report.survival_rows([tmp_path / "a"], min_seeds=10)
    verdicts = {row["cell"]: row for row in rows}
    assert set(verdicts) == {"clear", "noisy"} and incomplete == ["minilm short"]
    assert verdicts["clear"]["verdict"] == "win" and verdicts["clear"]["baseline"] == "adapool"
    assert verdicts["clear"]["p_holm"] >= verdicts["clear"]["p"]  # corrected for two tests
    assert verdicts["noisy"]["verdict"] == "tie" and verdicts["noisy"]["margin"] == 0.0
    assert "**win**" in report.markdown(rows, incomplete) and "minilm short" in report.markdown(rows, incomplete)
