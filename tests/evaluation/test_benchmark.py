"""glot benchmark: every cell under one protocol, resumable, with a GLUE-shaped task from a local copy."""

from __future__ import annotations

import json
import shutil

import pytest

from sentence_transformers_glot.evaluation.benchmark import run_benchmark
from sentence_transformers_glot.evaluation.summary import aggregate
from sentence_transformers_glot.training.config import TrainConfig

datasets = pytest.importorskip("datasets")


@pytest.fixture()
def glue_standins(tmp_path):
    """Tiny local copies with GLUE's schema: SST-2 (single sentence) and STS-B (pairs, 0..5 scores)."""
    words = [f"w{i}" for i in range(40)]
    sst2 = {"sentence": [], "label": [], "idx": []}
    stsb = {"sentence1": [], "sentence2": [], "label": [], "idx": []}
    for i in range(80):
        text = " ".join(words[(i * 7 + j) % 40] for j in range(3 + i % 5))
        label = i % 2
        sst2["sentence"].append(("a " if label else "") + text)
        sst2["label"].append(label)
        sst2["idx"].append(i)
        stsb["sentence1"].append(text)
        stsb["sentence2"].append(text if label else " ".join(reversed(text.split())) + " z")
        stsb["label"].append(4.5 if label else 1.0 + (i % 3))
        stsb["idx"].append(i)
    paths = {}
    for name, columns in (("sst2", sst2), ("stsb", stsb)):
        split = datasets.Dataset.from_dict(columns)
        path = tmp_path / name
        datasets.DatasetDict({"train": split, "validation": split.select(range(20)), "test": split.select(range(20))}
                             ).save_to_disk(str(path))
        paths[name] = {"dataset": str(path)}
    return paths


def test_benchmark_runs_every_cell_and_resumes(tiny_bert_dir, glue_standins, tmp_path, monkeypatch):
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    kwargs = dict(methods=["glot", "mean"], seeds=[0, 1, 2], output=tmp_path / "out", lrs=[5e-3],
                  template=TrainConfig(epochs=1, glot={"threshold": 0.3, "hidden_dim": 8}), task_options=glue_standins)
    rows = run_benchmark([tiny_bert_dir], ["sst2", "stsb"], **kwargs)
    assert len(rows) == 2 * 2 * 3
    assert {r["metric"] for r in rows if r["task"] == "sst2"} == {"accuracy"}
    assert {r["metric"] for r in rows if r["task"] == "stsb"} == {"spearman"}
    summary = aggregate(rows)
    assert all(cell.seeds == 3 and cell.lr == 5e-3 for cell in summary.values())
    saved = json.loads((tmp_path / "out" / "suite.json").read_text())
    assert len(saved["cells"]) == 12 and len(saved["summary"]) == 4
    table = (tmp_path / "out" / "suite.md").read_text()
    assert "sst2 (accuracy)" in table and "stsb (spearman)" in table and "±" in table
    assert (tmp_path / "out" / "suite.png").stat().st_size > 10_000
    # every cell trained once; a second call reads the finished cells back and gives the same rows
    checkpoints = {p: p.stat().st_mtime_ns for p in (tmp_path / "out" / "runs").glob("*/checkpoint.pt")}
    assert len(checkpoints) == 12
    again = run_benchmark([tiny_bert_dir], ["sst2", "stsb"], **kwargs)
    assert again == rows
    assert {p: p.stat().st_mtime_ns for p in checkpoints} == checkpoints, "finished cells are not trained again"
    # without the run folders (another machine, a fresh clone) the committed suite.json resumes the benchmark
    shutil.rmtree(tmp_path / "out" / "runs")
    assert run_benchmark([tiny_bert_dir], ["sst2", "stsb"], **kwargs) == rows
    assert not (tmp_path / "out" / "runs").exists(), "cells in suite.json are not trained again"


def test_an_interrupted_benchmark_keeps_every_committed_row(tiny_bert_dir, glue_standins, tmp_path, monkeypatch):
    """Adding a method to a committed benchmark and killing it mid-way leaves suite.json with every row it
    started from (the later task's too), plus the cells it finished."""
    from sentence_transformers_glot.evaluation import benchmark

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    kwargs = dict(seeds=[0, 1], output=tmp_path / "out", template=TrainConfig(epochs=1), lrs=[5e-3],
                  task_options=glue_standins)
    committed = run_benchmark([tiny_bert_dir], ["sst2", "stsb"], methods=["mean"], **kwargs)
    shutil.rmtree(tmp_path / "out" / "runs")  # a fresh clone: only the committed suite.json
    real, calls = benchmark.run_cell, []

    def killed_on_second_cell(*args, **kw):
        calls.append(args[1].name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(benchmark, "run_cell", killed_on_second_cell)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark([tiny_bert_dir], ["sst2", "stsb"], methods=["mean", "max"], **kwargs)
    cells = json.loads((tmp_path / "out" / "suite.json").read_text())["cells"]
    assert [(r["task"], r["method"], r["seed"]) for r in cells] == [
        ("sst2", "mean", 0), ("sst2", "mean", 1), ("sst2", "max", 0), ("stsb", "mean", 0), ("stsb", "mean", 1)]
    assert [r for r in cells if r["method"] == "mean"] == committed
    # resuming trains only the missing cells and writes all of them in the cells' order
    monkeypatch.setattr(benchmark, "run_cell", real)
    rows = run_benchmark([tiny_bert_dir], ["sst2", "stsb"], methods=["mean", "max"], **kwargs)
    assert [(r["task"], r["method"], r["seed"]) for r in rows] == [
        (t, m, s) for t in ("sst2", "stsb") for m in ("mean", "max") for s in (0, 1)]
    assert json.loads((tmp_path / "out" / "suite.json").read_text())["cells"] == rows
    assert len(list((tmp_path / "out" / "runs").iterdir())) == 4, "committed cells are not trained again"
    # a narrower plan into the same folder (one task, one method) keeps the other plans' rows, after its own
    narrow = run_benchmark([tiny_bert_dir], ["stsb"], methods=["max"], **kwargs)
    cells = json.loads((tmp_path / "out" / "suite.json").read_text())["cells"]
    assert cells[:2] == narrow and sorted(map(json.dumps, cells)) == sorted(map(json.dumps, rows))


def test_only_finished_reports_finished_cells_and_trains_nothing(tiny_bert_dir, glue_standins, tmp_path, monkeypatch):
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    kwargs = dict(seeds=[0], output=tmp_path / "out", template=TrainConfig(epochs=1), lrs=[5e-3],
                  task_options=glue_standins)
    first = run_benchmark([tiny_bert_dir], ["sst2"], methods=["mean"], **kwargs)
    (tmp_path / "out" / "suite.json").unlink()
    found = run_benchmark([tiny_bert_dir], ["sst2"], methods=["mean", "max"], only_finished=True, **kwargs)
    assert found == first and len(list((tmp_path / "out" / "runs").iterdir())) == 1
    assert json.loads((tmp_path / "out" / "suite.json").read_text())["cells"] == first


def test_benchmark_refuses_an_empty_learning_rate_grid(tmp_path):
    with pytest.raises(ValueError, match="`lrs`"):
        run_benchmark(["minilm"], ["movie-polarity"], lrs=[], output=tmp_path)


def test_benchmark_runs_glot_variants_and_layers_and_writes_both_protocols(tiny_bert_dir, glue_standins, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    rows = run_benchmark([tiny_bert_dir], ["sst2"], methods=["glot", "glot-gat", "mean"], seeds=[0, 1],
                         output=tmp_path / "out", lrs=[2e-4, 5e-3], layers=[-1, 1],
                         template=TrainConfig(epochs=1, glot={"threshold": 0.3, "hidden_dim": 8}),
                         task_options=glue_standins)
    assert len(rows) == 3 * 2 * 2 * 2 and {r["layer"] for r in rows} == {-1, 1}
    configs = [json.loads(p.read_text()) for p in (tmp_path / "out" / "runs").glob("*glot-gat*/run_config.json")]
    assert len(configs) == 8 and all(c["glot"]["conv"] == "gat" and c["pooling"] == "glot" for c in configs)
    assert {c["layer"] for c in configs} == {-1, 1}
    saved = json.loads((tmp_path / "out" / "suite.json").read_text())
    assert {s["protocol"] for s in saved["summary"]} == {"paper", "tuned"}
    assert {(m["task"], m["method"]) for m in saved["margins"]} >= {("sst2", "glot-gat"), ("sst2@L1", "glot")}
    text = (tmp_path / "out" / "suite.md").read_text()
    assert "paper protocol" in text and "tuned protocol" in text and "sst2@L1" in text and "GLOT minus" in text
    assert (tmp_path / "out" / "margins.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="unknown method 'glot-transformer'"):
        run_benchmark([tiny_bert_dir], ["sst2"], methods=["glot-transformer"], output=tmp_path / "x")
