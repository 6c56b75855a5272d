"""The one grid runner: finished cells read back, missing ones trained (or not, when only reading), mean ± std."""

from __future__ import annotations

import json

import pytest

from sentence_transformers_glot.evaluation.grid import format_mean_std, mean_std, run_cell
from sentence_transformers_glot.training.config import RunResult, TrainConfig


def test_mean_and_sample_std():
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0) and mean_std([5.0]) == (5.0, 0.0)
    assert format_mean_std(71.234, 0.81, 3) == "71.2 ± 0.8" and format_mean_std(71.234, 0.0, 1) == "71.2"


def test_a_finished_cell_is_read_back_and_a_missing_one_trained_only_when_asked(tmp_path, monkeypatch):
    result = RunResult(pooling="mean", metric="accuracy", validation=60.0, test=61.0, best_epoch=1, history=[],
                       trainable_parameters=0, cache_seconds=0.0, train_seconds=0.0, model_dir=None)
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "metrics.json").write_text(json.dumps(result.__dict__))
    def no_task():
        raise AssertionError("a finished cell loads no task")

    assert run_cell(TrainConfig(), tmp_path / "done", no_task) == (result, True)
    assert run_cell(TrainConfig(), tmp_path / "missing", no_task, train_missing=False) == (None, False)
    trained = []
    monkeypatch.setattr("sentence_transformers_glot.training.train",
                        lambda config, run_dir, **kw: trained.append((run_dir, kw)) or result)
    assert run_cell(TrainConfig(), tmp_path / "missing", lambda: "task") == (result, False)
    assert trained[0][1]["export"] is False and trained[0][1]["task"] == "task"
    with pytest.raises(AssertionError):
        run_cell(TrainConfig(), tmp_path / "other", no_task)
