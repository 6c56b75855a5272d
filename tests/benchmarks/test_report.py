"""benchmarks/reports/report.py: GLOT is compared only with baselines that finished every learning rate and seed."""

from __future__ import annotations

from helpers import ROOT


def test_report_leaves_out_groups_with_unfinished_baselines(monkeypatch):
    """benchmarks/reports/report.py compares GLOT only with baselines that finished every learning rate and seed."""
    import importlib

    monkeypatch.syspath_prepend(str(ROOT))  # the repository root, as for python -m
    report = importlib.import_module("benchmarks.reports.report")
    cells = [{"backbone": "b", "task": t, "layer": -1, "method": m, "lr": lr, "seed": s, "metric": "accuracy",
              "validation": 1.0, "test": 1.0}
             for t in ("done", "partial", "glot-late") for m in ("glot", "glot-gat", "mean", "max")
             for lr in (2e-4, 2e-3) for s in (0, 1)
             if not (t == "partial" and m == "max" and s == 1)
             and not (t == "glot-late" and m == "glot-gat" and lr == 2e-3)]
    kept, left_out = report.complete_groups(cells)
    assert {(c["task"], c["method"]) for c in kept} == {
        *(("done", m) for m in ("glot", "glot-gat", "mean", "max")),
        *(("glot-late", m) for m in ("glot", "mean", "max"))}
    assert left_out == ["b partial: max not finished (14 cells so far)", "b glot-late: glot-gat not finished"]
