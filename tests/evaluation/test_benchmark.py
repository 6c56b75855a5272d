"""glot benchmark: every cell under one protocol, resumable, with a GLUE-shaped task from a local copy."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from scipy.stats import ttest_rel

from sentence_transformers_glot.evaluation.benchmark import run_benchmark
from sentence_transformers_glot.evaluation.suite_report import margin_table, markdown_tables
from sentence_transformers_glot.evaluation.summary import aggregate, margins

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
    kwargs = dict(methods=["glot", "mean"], seeds=[0, 1, 2], output=tmp_path / "out", epochs=1, lrs=[5e-3],
                  glot={"threshold": 0.3, "hidden_dim": 8}, task_options=glue_standins)
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


def test_only_finished_reports_finished_cells_and_trains_nothing(tiny_bert_dir, glue_standins, tmp_path, monkeypatch):
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    kwargs = dict(seeds=[0], output=tmp_path / "out", epochs=1, lrs=[5e-3], glot={"threshold": 0.3, "hidden_dim": 8},
                  task_options=glue_standins)
    first = run_benchmark([tiny_bert_dir], ["sst2"], methods=["mean"], **kwargs)
    (tmp_path / "out" / "suite.json").unlink()
    found = run_benchmark([tiny_bert_dir], ["sst2"], methods=["mean", "max"], only_finished=True, **kwargs)
    assert found == first and len(list((tmp_path / "out" / "runs").iterdir())) == 1
    assert json.loads((tmp_path / "out" / "suite.json").read_text())["cells"] == first


def test_markdown_marks_the_best_method_per_task():
    rows = [
        {"backbone": "b", "task": "t", "method": m, "seed": s, "metric": "accuracy", "validation": v, "test": v}
        for m, values in (("glot", (80.0, 82.0)), ("mean", (70.0, 71.0))) for s, v in enumerate(values)
    ]
    table = markdown_tables(rows)
    assert "| glot | **81.00 ± 1.41** |" in table
    assert "| mean | 70.50 ± 0.71 |" in table


def test_learning_rate_is_chosen_on_validation_not_test():
    """Per method, the learning rate with the best mean validation score is kept, even when another one
    would have scored higher on test; the table shows the chosen rate."""
    rows = [
        {"backbone": "b", "task": "t", "method": "mean", "lr": lr, "seed": s, "metric": "accuracy",
         "validation": val + s, "test": test + s}
        for lr, val, test in ((2e-4, 60.0, 90.0), (2e-3, 70.0, 50.0)) for s in (0, 1)
    ] + [{"backbone": "b", "task": "t", "method": "glot", "lr": 2e-4, "seed": s, "metric": "accuracy",
          "validation": 65.0, "test": 55.0} for s in (0, 1)]
    cell = aggregate(rows)[("b", "t", "mean")]
    assert cell.lr == 2e-3 and cell.mean == 50.5 and cell.seeds == 2
    assert cell.validation == {2e-4: 60.5, 2e-3: 70.5}
    table = markdown_tables(rows)
    assert "learning rate chosen on validation" in table
    assert "| mean | 50.50 ± 0.71 (0.002) |" in table
    assert "| glot | **55.00 ± 0.00** (0.0002) |" in table


def test_benchmark_refuses_an_empty_learning_rate_grid(tmp_path):
    with pytest.raises(ValueError, match="`lrs`"):
        run_benchmark(["minilm"], ["movie-polarity"], lrs=[], output=tmp_path)


def test_paper_protocol_reads_the_paper_learning_rate_and_margins_use_a_paired_test():
    """paper: every method at 2e-4 whatever validation says; tuned: the best rate on validation. The margin is
    GLOT minus the baseline with the best mean test score, seed by seed, with a paired t-test."""
    rows = [{"backbone": "b", "task": "t", "method": method, "lr": lr, "seed": seed, "metric": "accuracy",
             "validation": validation, "test": test + offset}
            for method, lr, validation, test in (("glot", 2e-4, 80.0, 80.0), ("glot", 2e-3, 70.0, 60.0),
                                                 ("mean", 2e-4, 60.0, 60.0), ("mean", 2e-3, 75.0, 79.0),
                                                 ("max", 2e-4, 50.0, 50.0), ("max", 2e-3, 55.0, 55.0))
            for seed, offset in enumerate((0.0, 1.0, 2.5))]
    rows += [{**row, "method": "glot-gat", "test": row["test"] + 0.5 * row["seed"]} for row in rows
             if row["method"] == "glot"]
    paper, tuned = aggregate(rows, "paper"), aggregate(rows, "tuned")
    assert paper[("b", "t", "mean")].lr == 2e-4 and paper[("b", "t", "mean")].mean == pytest.approx(61.1667, abs=1e-3)
    assert tuned[("b", "t", "mean")].lr == 2e-3
    found = margins(rows, "paper")[("b", "t", "glot")]
    assert found.baseline == "mean" and found.margin == pytest.approx(20.0) and np.isnan(found.p)  # equal diffs
    gat = margins(rows, "tuned")[("b", "t", "glot-gat")]
    differences = np.array([80.0 - 79.0, 81.5 - 80.0, 83.5 - 81.5])
    assert gat.baseline == "mean" and gat.margin == pytest.approx(differences.mean())
    assert gat.p == pytest.approx(ttest_rel(differences, np.zeros(3)).pvalue) and gat.seeds == 3
    table = margin_table(rows)
    assert "| b | t | glot | +20.00 ± 0.00 (vs mean, p nan) | +1.00 ± 0.00 (vs mean, p nan) |" in table
    assert "| b | t | glot-gat | **+20.50 ± 0.50** (vs mean, p 0.0002) | **+1.50 ± 0.50** (vs mean, p 0.035) |" in table
    assert "paper protocol" in markdown_tables(rows, "paper") and "every method at lr 0.0002" in markdown_tables(
        rows, "paper")
    with pytest.raises(ValueError, match="`protocol` must be one of"):
        aggregate(rows, "best")


def test_benchmark_runs_glot_variants_and_layers_and_writes_both_protocols(tiny_bert_dir, glue_standins, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    rows = run_benchmark([tiny_bert_dir], ["sst2"], methods=["glot", "glot-gat", "mean"], seeds=[0, 1],
                         output=tmp_path / "out", epochs=1, lrs=[2e-4, 5e-3], layers=[-1, 1],
                         glot={"threshold": 0.3, "hidden_dim": 8}, task_options=glue_standins)
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


def test_report_leaves_out_groups_with_unfinished_baselines(monkeypatch):
    """benchmarks/reports/report.py compares GLOT only with baselines that finished every learning rate and seed."""
    import importlib
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))  # the repository root, as for python -m
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


@pytest.mark.parametrize("sink", ["keep", "exclude"])
def test_decoder_diagnosis_reads_the_readout_weights_of_the_pooled_tokens(monkeypatch, sink):
    """benchmarks/quality/decoder_diagnosis.py: the attention statistics are those of the module's own readout
    (weights summing to 1 per sentence), and an excluded sink gets no weight."""
    import importlib
    from pathlib import Path

    import torch
    from helpers import random_batch

    from sentence_transformers_glot import GlotPooling

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    diagnosis = importlib.import_module("benchmarks.quality.decoder_diagnosis")
    x, mask = random_batch(6, 9, 16, seed=4, min_length=3)

    class States:  # the two methods of the hidden-state cache that the diagnosis reads
        def __len__(self):
            return len(x)

        def batch(self, rows):
            return x[rows], mask[rows]

    torch.manual_seed(0)
    pooling = GlotPooling(16, threshold=0.1, hidden_dim=8, attention_sink=sink).eval()
    with torch.no_grad():
        stats = diagnosis.readout_statistics(pooling, States())
    assert 0.0 < stats["entropy"] <= 1.0 and 0.0 < stats["max_weight"] <= 1.0
    if sink == "exclude":
        assert stats["weight_on_first_token"] == 0.0
    else:
        assert 0.0 < stats["weight_on_first_token"] < 1.0
