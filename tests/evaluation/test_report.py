"""Plots need the ``eval`` extra: without matplotlib the error names it, and the tables are still written."""

from __future__ import annotations

import sys

import pytest


def test_plots_without_matplotlib_name_the_extra(monkeypatch, tmp_path, caplog):
    from sentence_transformers_glot.evaluation import report, suite_report

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"sentence-transformers-glot\[eval\]"):
        report.pyplot()
    rows = [{"backbone": "b", "task": "t", "layer": -1, "method": m, "lr": 2e-4, "seed": s, "metric": "accuracy",
             "validation": 50.0 + s, "test": 50.0 + s + (m == "glot"), "run": f"{m}{s}"}
            for m in ("glot", "mean") for s in (0, 1)]
    with caplog.at_level("WARNING"):
        suite_report.write_results(rows, tmp_path, "cmd")  # tables and JSON still written
    assert (tmp_path / "suite.md").is_file() and not (tmp_path / "suite.png").exists()
    assert "matplotlib" in caplog.text
