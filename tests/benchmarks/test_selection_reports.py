"""benchmarks/reports/conv_choice.py and selection_table.py: the conv per backbone kind on validation, and what
--pooling auto chooses, found among a benchmark's runs by their configuration hash."""

from __future__ import annotations

import dataclasses
import json

import pytest
from helpers import ROOT

from sentence_transformers_glot.backbones.record import BackboneRecord
from sentence_transformers_glot.evaluation.methods import method_pooling
from sentence_transformers_glot.training.run_identity import run_name

COMMAND = ("glot benchmark --backbones {backbone} --tasks movie-polarity --methods glot-sage glot-gat adapool mean "
           "{token} --seeds 0 1 2 --max-train 2000 --lrs 2e-4 2e-3 --output x")


@pytest.fixture()
def reports(monkeypatch):
    import importlib

    monkeypatch.syspath_prepend(str(ROOT))
    return (importlib.import_module("benchmarks.reports.conv_choice"),
            importlib.import_module("benchmarks.reports.selection_table"))


def suite(folder, backbone: str, token: str, score) -> None:
    """A suite.json as glot benchmark writes it: every (method, lr, seed) row named as the benchmark names it."""
    _, table = reports_modules()
    command = COMMAND.format(backbone=backbone, token=token)
    template = table.benchmark_template(command)
    record = BackboneRecord.of(backbone)
    rows = []
    for method in ("glot-sage", "glot-gat", "adapool", "mean", token):
        pooling, options = method_pooling(method, template.glot.changes("glot"))
        for lr in (2e-4, 2e-3):
            for seed in (0, 1, 2):
                config = dataclasses.replace(template, backbone=backbone, task="movie-polarity", pooling=pooling,
                                             glot=options, lr=lr, seed=seed)
                validation, test = score(method, lr, seed)
                rows.append({"backbone": backbone, "task": "movie-polarity", "layer": -1, "method": method, "lr": lr,
                             "seed": seed, "metric": "accuracy", "validation": validation, "test": test,
                             "train_seconds": 10.0 if method.startswith("glot") else 2.0,
                             "run": run_name(config, method, record)})
    folder.mkdir()
    (folder / "suite.json").write_text(json.dumps({"header": {"command": command}, "cells": rows}))


def reports_modules():
    import importlib

    return (importlib.import_module("benchmarks.reports.conv_choice"),
            importlib.import_module("benchmarks.reports.selection_table"))


def test_auto_reads_validation_seed_by_seed_and_is_compared_with_the_oracle_and_mean(reports, tmp_path):
    conv_choice, table = reports

    def score(method, lr, seed):  # validation favours last on seed 0, GAT otherwise; test favours GAT
        validation = {"glot-gat": 80.0, "last": 81.0 if seed == 0 else 70.0}.get(method, 60.0) + (lr == 2e-3)
        test = {"glot-gat": 85.0 + seed, "last": 75.0, "mean": 70.0 + seed}.get(method, 65.0)
        return validation, test

    suite(tmp_path / "dec", "smollm2-135m", "last", score)
    (row,) = table.selection_rows([tmp_path / "dec"])
    assert row["chosen"] == {"last": 1, "glot-gat": 2} and row["best_on_test"] == "glot-gat"
    assert [c["lr"] for c in row["per_seed"]] == [2e-3] * 3  # the better validation learning rate
    assert row["chosen_test"] == pytest.approx((75 + 86 + 87) / 3) and row["gap"] == pytest.approx(-10 / 3)
    assert row["versus_mean"] == pytest.approx((5 + 15 + 15) / 3) and not row["below_mean_beyond_noise"]
    assert row["cost_in_glot_runs"] == pytest.approx((4 * 10 + 6 * 2) / 10)  # ten runs over one GLOT run
    assert "last 1" in table.markdown([row])
    rows = conv_choice.cell_rows([tmp_path / "dec"])
    summary = conv_choice.kind_summary(rows)
    assert summary["decoder"]["choice"] == "gat" and summary["decoder"]["gat_above_sage"] == 1
    assert rows[0]["auto_vs_mean"] == pytest.approx(15.0)  # GAT (auto on a decoder) against mean pooling, on test


def test_a_cell_missing_a_candidate_run_is_left_out(reports, tmp_path):
    _, table = reports
    suite(tmp_path / "enc", "minilm", "cls", lambda method, lr, seed: (60.0, 60.0))
    saved = json.loads((tmp_path / "enc" / "suite.json").read_text())
    saved["cells"] = [c for c in saved["cells"] if c["method"] != "cls"]
    (tmp_path / "enc" / "suite.json").write_text(json.dumps(saved))
    assert table.selection_rows([tmp_path / "enc"]) == []
