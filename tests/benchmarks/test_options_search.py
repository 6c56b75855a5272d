"""benchmarks/reports/options_search.py: what an option does to each method's validation score, and the ranking."""

from __future__ import annotations

import importlib

import pytest
from helpers import ROOT


@pytest.fixture
def options_search(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # the repository root, as for python -m
    return importlib.import_module("benchmarks.reports.options_search")


def test_validation_changes_compare_each_method_with_itself_in_the_same_cell(options_search):
    """Each method's change is its own difference between the two configurations, only in cells both ran,
    with the worst cell named."""
    table = {("b", "t1"): {"glot": 50.0, "adapool": 18.0, "mean": 10.0},
             ("b", "t2"): {"glot": 59.0, "mean": 45.0},
             ("c", "t1"): {"glot": 2.0, "adapool": 9.0}}
    against = {("b", "t1"): {"glot": 30.0, "adapool": 20.0},
               ("b", "t2"): {"glot": 60.0, "adapool": 40.0},
               ("c", "t1"): {"glot": 1.0, "adapool": 5.0},
               ("d", "t1"): {"glot": 0.0}}
    rows = {row["method"]: row for row in options_search.validation_changes(table, against)}
    assert set(rows) == {"glot", "adapool"}  # mean never ran in the old configuration
    assert rows["glot"]["changes"] == {"b t1": 20.0, "b t2": -1.0, "c t1": 1.0}
    assert rows["glot"]["mean_change"] == pytest.approx(20 / 3)
    assert (rows["glot"]["up"], rows["glot"]["cells"], rows["glot"]["worst"]) == (2, 3, (-1.0, "b t2"))
    assert rows["adapool"]["changes"] == {"b t1": -2.0, "c t1": 4.0}
    assert [row["method"] for row in options_search.validation_changes(table, against)] == ["glot", "adapool"]


def test_validation_table_keeps_each_methods_tuned_learning_rate(options_search):
    """A method's score in a cell is its mean validation at the learning rate validation chose."""
    rows = [{"backbone": "b", "task": "t", "layer": -1, "method": m, "lr": lr, "seed": s, "metric": "accuracy",
             "validation": v + s, "test": 0.0}
            for m, by_lr in {"glot": {2e-4: 60.0, 2e-3: 70.0}, "mean": {2e-4: 55.0, 2e-3: 50.0}}.items()
            for lr, v in by_lr.items() for s in (0, 1, 2)]
    table = options_search.validation_table(rows)
    assert table == {("b", "t"): {"glot": 71.0, "mean": 56.0}}
    ranking = options_search.rank_variants(table)
    assert ranking[0]["method"] == "glot" and ranking[0]["margins"] == {"b t": 15.0}
