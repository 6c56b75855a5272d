"""--pooling auto: the candidates for the backbone's kind, a choice made on validation only, the record in
selection.json, metrics.json and the card, resume without retraining, the budget, and what it refuses."""

from __future__ import annotations

import json

import pytest
from helpers import config, toy_task

from sentence_transformers_glot.backbones.record import BackboneRecord
from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.config import RunResult
from sentence_transformers_glot.training.selection import (
    SelectionBudget,
    candidate_configs,
    candidates,
    choose,
    select_pooling,
    selection_folder,
    summarise,
)


def fake(validation: float, test: float) -> RunResult:
    return RunResult("glot", "accuracy", validation, test, 1, [], 1, 0.0, 0.0, None)


def test_candidates_follow_the_backbone_kind_and_every_run_takes_the_budget(tiny_bert_dir, tiny_llama_dir):
    encoder, decoder = BackboneRecord.of(tiny_bert_dir), BackboneRecord.of(tiny_llama_dir)
    assert list(candidates(encoder)) == ["glot-sage", "glot-gat", "adapool", "mean", "cls"]
    assert list(candidates(decoder)) == ["glot-sage", "glot-gat", "adapool", "mean", "last"]
    budget = SelectionBudget(select_seeds=[0, 1], select_lrs=[1e-3, 1e-2], select_epochs=1)
    plan = candidate_configs(config(tiny_bert_dir, glot={"threshold": 0.3, "input_norm": "rms"}), budget, encoder)
    assert len(plan) == 5 * 2 * 2 and {c.epochs for _, c in plan} == {1}
    assert {(c.lr, c.seed) for _, c in plan} == {(1e-3, 0), (1e-3, 1), (1e-2, 0), (1e-2, 1)}
    configs = {name: c for name, c in plan}
    assert configs["glot-gat"].glot.conv == "gat" and configs["glot-sage"].glot.threshold == 0.3
    assert configs["mean"].pooling == "mean" and configs["mean"].glot.input_norm == "rms"  # a baseline's option
    with pytest.raises(ValueError, match="build it with pooling='glot'"):
        candidate_configs(config(tiny_bert_dir, pooling="mean", glot={}), budget, encoder)
    with pytest.raises(ValueError, match="chooses the pooling for one task; drop --also-tasks"):
        candidate_configs(config(tiny_bert_dir, also_tasks=["other.csv"]), budget, encoder)
    with pytest.raises(ValueError, match="--pooling auto trains every candidate from scratch"):
        candidate_configs(config(tiny_bert_dir, init_from="runs/elsewhere"), budget, encoder)
    with pytest.raises(ValueError, match="--pooling auto chooses the conv itself"):
        candidate_configs(config(tiny_bert_dir, glot={"conv": "gin"}), budget, encoder)
    with pytest.raises(ValueError, match="`select_lrs` must be positive"):
        SelectionBudget(select_lrs=[])
    with pytest.raises(ValueError, match="`select_epochs` must be an int >= 1"):
        SelectionBudget(select_epochs=0)


def test_the_choice_reads_validation_only_and_reports_the_others_test_only_on_request():
    template = config("minilm")
    runs = [("glot-sage", template, fake(70.0, 50.0)), ("glot-sage", template, fake(72.0, 51.0)),
            ("mean", template, fake(71.5, 90.0)), ("mean", template, fake(70.0, 95.0))]
    records = summarise(runs, report_test=False)
    assert choose(records)["candidate"] == "glot-sage"  # 71.0 > 70.75 on validation, whatever the test says
    assert records[0]["validation_mean"] == pytest.approx(71.0) and records[0]["seeds"] == 2
    assert all("test_mean" not in cell for r in records for cell in r["lrs"])
    shown = summarise(runs, report_test=True)
    assert shown[1]["lrs"][0]["test_mean"] == pytest.approx(92.5) and not shown[1]["lrs"][0]["test_used_for_choice"]
    tie = summarise([("mean", template, fake(70.0, 0.0)), ("cls", template, fake(70.0, 99.0))], False)
    assert choose(tie)["candidate"] == "mean"  # the first candidate on a tie


def test_select_pooling_exports_the_winner_with_its_record_and_resumes(tiny_bert_dir, tmp_path):
    from pathlib import Path

    from sentence_transformers_glot import load_glot_model

    task = toy_task()
    cache = StateCache(tmp_path / "cache", dtype="float32")
    template = config(tiny_bert_dir, epochs=2)
    budget = SelectionBudget(select_lrs=[5e-3, 5e-2])
    selection = select_pooling(template, tmp_path / "runs", budget, task=task, cache=cache)
    record = json.loads((tmp_path / "runs" / selection_folder(template, budget, BackboneRecord.of(tiny_bert_dir))
                         / "selection.json").read_text())
    assert len(record["candidates"]) == 5 and record["choice"] == selection.choice and "Test scores" in record["rule"]
    best = max(record["candidates"], key=lambda c: c["validation_mean"])
    assert best["candidate"] == selection.choice and best["lr"] == selection.lr
    assert all("test_mean" not in cell for c in record["candidates"] for cell in c["lrs"])
    assert Path(selection.folder).parent == tmp_path / "runs"
    metrics = json.loads((Path(selection.folder) / "metrics.json").read_text())
    assert metrics["selection"]["choice"] == selection.choice and metrics["test"] == selection.result.test
    model = load_glot_model(selection.model_dir)  # checksums verified
    assert model.encode(["w1 w2", "a w3"]).shape[0] == 2
    card = (Path(selection.folder) / "model" / "README.md").read_text()
    assert "How the pooling was chosen" in card and f"{selection.choice} (chosen)" in card
    assert all(c["candidate"] in card for c in record["candidates"])
    # ten candidate runs, none exported; a second call trains nothing and chooses the same
    runs = [p for p in (tmp_path / "runs").iterdir() if "-auto-" not in p.name]
    assert len(runs) == 10 and not any((p / "model").exists() for p in runs)
    stamps = {p: (p / "checkpoint.pt").stat().st_mtime_ns for p in runs}
    again = select_pooling(template, tmp_path / "runs", budget, task=task, cache=cache)
    assert (again.choice, again.lr, again.result.validation) == (selection.choice, selection.lr,
                                                                 selection.result.validation)
    assert {p: (p / "checkpoint.pt").stat().st_mtime_ns for p in runs} == stamps, "a finished candidate trained again"
