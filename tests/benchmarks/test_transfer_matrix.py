"""benchmarks/quality/transfer_matrix.py: sources trained and exported, every target run in three modes on the same
examples, gains paired over seeds, resumable."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT, config, toy_task


@pytest.fixture()
def matrix(monkeypatch):
    import importlib

    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("benchmarks.quality.transfer_matrix")


def test_the_matrix_runs_every_mode_on_the_same_examples_and_resumes(matrix, tiny_bert_dir, tmp_path, state_cache):
    tasks = {"single": toy_task(n=90, seed=1), "other": toy_task(n=90, seed=2)}
    template = config(tiny_bert_dir, lr=5e-3, max_eval=20)
    rows = matrix.run_transfer(tiny_bert_dir, ["single"], ["other"], [30], [0, 1], tmp_path / "out", template,
                               load=tasks.__getitem__, cache=state_cache, command="test")
    assert [(r["mode"], r["seed"]) for r in rows] == [("scratch", 0), ("frozen", 0), ("warm", 0), ("scratch", 1),
                                                      ("frozen", 1), ("warm", 1)]
    assert {r["epochs"] for r in rows} == {matrix.epochs_for(30, template.batch_size)} == {32}  # 60 steps of 16
    saved = json.loads((tmp_path / "out" / "transfer.json").read_text())
    assert len(saved["rows"]) == 6 and {s["mode"] for s in saved["summary"]} == {"frozen", "warm"}
    frozen = next(s for s in saved["summary"] if s["mode"] == "frozen")
    scratch = [r["test"] for r in rows if r["mode"] == "scratch"]
    assert frozen["scratch"] == pytest.approx(sum(scratch) / 2) and frozen["seeds"] == 2
    assert (tmp_path / "out" / "transfer.png").stat().st_size > 0 and "| single | other | 30 |" in \
        (tmp_path / "out" / "transfer.md").read_text()
    folders = sorted(p.name for p in (tmp_path / "out" / "runs").iterdir())
    assert len(folders) == 7  # one source and six target runs
    again = matrix.run_transfer(tiny_bert_dir, ["single"], ["other"], [30], [0, 1], tmp_path / "out", template,
                                load=tasks.__getitem__, cache=state_cache, command="test")
    assert again == rows and sorted(p.name for p in (tmp_path / "out" / "runs").iterdir()) == folders
