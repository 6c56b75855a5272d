"""``glot stress-test``: the runner end to end and resumed, its flags, and benchmark method names."""

from __future__ import annotations

import argparse
import importlib.util
import json

import pytest
from helpers import STRESS_SIZES, tiny_source

from sentence_transformers_glot.evaluation import stress
from sentence_transformers_glot.evaluation.stress import add_stress_arguments, run_stress_test
from sentence_transformers_glot.training.cache import StateCache

SOURCE = tiny_source()
SIZES = STRESS_SIZES


def test_run_stress_test_end_to_end_and_resume(tiny_bert_dir, tmp_path, monkeypatch):
    settings = dict(backbone=tiny_bert_dir, methods=("glot", "mean"), ratios=(0.0, 0.5), seeds=(0,), n_train=40,
                    n_val=20, n_test=20, template=stress.stress_template(epochs=1, lr=1e-3, max_length=64),
                    source=SOURCE, output_dir=tmp_path / "out", cache=StateCache(tmp_path / "cache", dtype="float32"))
    from sentence_transformers_glot import training

    calls = []
    real_train = training.train

    def counting_train(*args, **kwargs):
        calls.append(args[0].pooling)
        return real_train(*args, **kwargs)

    monkeypatch.setattr("sentence_transformers_glot.training.train", counting_train)
    rows = run_stress_test(**settings)
    assert len(calls) == len(rows) == 2 * 2 * 2
    assert {(r["protocol"], r["ratio"], r["method"]) for r in rows} == {
        (p, r, m) for p in ("paper", "controlled") for r in (0.0, 0.5) for m in ("glot", "mean")}
    for row in rows:
        assert 0 <= row["test"] <= 100 and not row["resumed"]
        assert row["length_only_words"] == (100.0 if row["protocol"] == "paper" else 50.0)
        assert row["truncated"] == 0 and "length_only_tokens" in row
    out = tmp_path / "out"
    saved = json.loads((out / "stress.json").read_text())
    assert len(saved["cells"]) == 8 and saved["settings"]["glot"] == stress.STRESS_GLOT
    table = (out / "stress.md").read_text()
    assert "**paper protocol**" in table and "**controlled protocol**" in table and "length-only (words)" in table
    assert "| glot |" in table and "| 0 | 0.5 |" in table
    if importlib.util.find_spec("matplotlib") is not None:
        assert (out / "stress.png").stat().st_size > 0 and saved["plot"] == "stress.png"
    else:
        assert saved["plot"] is None

    calls.clear()
    again = run_stress_test(**settings)  # everything finished: nothing is trained again
    assert calls == [] and all(r["resumed"] for r in again)
    assert [r["test"] for r in again] == [r["test"] for r in rows]
    finished = sorted((out / "runs").glob("*/metrics.json"))
    assert len(finished) == 8
    finished[0].unlink()  # one cell lost its result: only that cell runs again
    run_stress_test(**settings)
    assert len(calls) == 1


def test_cli_flags_reach_run_stress_test(monkeypatch, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_stress_arguments(parser)
    args = parser.parse_args(["--backbone", "x", "--methods", "glot", "mean", "--ratios", "0", "0.9", "--protocols",
                              "controlled", "--seeds", "0", "1", "--n-train", "100", "--epochs", "2",
                              "--layers", "0,3", "--output", str(tmp_path)])
    seen = {}

    def fake_run(**kwargs):
        seen.update(kwargs)
        return [{"protocol": "controlled", "ratio": 0.0, "seed": 0, "method": "glot", "test": 80.0,
                 "length_only_words": 50.0, "distractor_fraction_words": 0.0}]

    monkeypatch.setattr(stress, "run_stress_test", fake_run)
    assert stress.stress_command(args) == 0
    assert seen["backbone"] == "x" and seen["methods"] == ["glot", "mean"] and seen["ratios"] == [0.0, 0.9]
    assert seen["protocols"] == ["controlled"] and seen["seeds"] == [0, 1] and seen["n_train"] == 100
    assert seen["template"].epochs == 2 and seen["template"].glot.threshold == stress.STRESS_GLOT["threshold"]
    assert seen["output_dir"] == str(tmp_path) and seen["layers"] == [0, 3]
    assert "| glot | 80.0 |" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["--ratios", "1.5"])


def test_methods_take_benchmark_names_and_every_method_pools_the_same_layers(tiny_bert_dir, tmp_path, monkeypatch):
    """``glot-plus`` and ``+options`` parse as in ``glot benchmark``; ``layers`` reaches every method's config."""
    from sentence_transformers_glot.pooling import PRESETS
    from sentence_transformers_glot.training.config import RunResult

    configs = []

    def fake_train(config, run_dir, **kwargs):
        configs.append(config)
        return RunResult(pooling=config.pooling, metric="accuracy", validation=50.0, test=50.0, best_epoch=0,
                         history=[], trainable_parameters=0, cache_seconds=0.0, train_seconds=0.0, model_dir=None)

    monkeypatch.setattr("sentence_transformers_glot.training.train", fake_train)
    rows = run_stress_test(backbone=tiny_bert_dir, methods=("glot-plus", "adapool+ln", "mean"), ratios=(0.5,),
                           protocols=("controlled",), source=SOURCE, output_dir=tmp_path, layers=[0, 2], **SIZES)
    assert [r["method"] for r in rows] == ["glot-plus", "adapool+ln", "mean"]
    plus, adapool, mean = configs
    assert plus.pooling == "glot"
    assert plus.glot.changes() == {**stress.STRESS_GLOT, **PRESETS["glot-plus"], "layers": [0, 2]}
    assert adapool.pooling == "adapool" and adapool.glot.changes("adapool") == {"input_norm": "layer", "layers": [0, 2]}
    assert mean.pooling == "mean" and mean.glot.changes("mean") == {"layers": [0, 2]}
    assert json.loads((tmp_path / "stress.json").read_text())["settings"]["layers"] == [0, 2]
    with pytest.raises(ValueError, match="unknown method 'glot-plush'"):
        run_stress_test(backbone=tiny_bert_dir, methods=("glot-plush",), source=SOURCE, output_dir=tmp_path, **SIZES)
