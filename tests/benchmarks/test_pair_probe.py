"""benchmarks/quality/pair_probe.py: the pooled vectors leave a decoder's sink out, and the probes report every
normalisation against the level of a constant answer."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest
import torch
from helpers import ROOT


@pytest.fixture
def pair_probe(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("benchmarks.quality.pair_probe")


def test_pooled_vectors_average_the_real_tokens_and_can_leave_the_first_out(pair_probe):
    x = torch.arange(2 * 4 * 2, dtype=torch.float32).reshape(2, 4, 2)
    mask = torch.tensor([[True, True, True, False], [True, True, True, True]])

    class States:  # the two methods of the hidden-state cache the probe reads
        def __len__(self):
            return 2

        def batch(self, rows):
            return x[rows], mask[rows]

    np.testing.assert_allclose(pair_probe.pooled_vectors(States(), "mean", False), [x[0, :3].mean(0), x[1].mean(0)])
    np.testing.assert_allclose(pair_probe.pooled_vectors(States(), "mean", True),
                               [x[0, 1:3].mean(0), x[1, 1:].mean(0)])
    np.testing.assert_allclose(pair_probe.pooled_vectors(States(), "last", True), [x[0, 2], x[1, 3]])


def test_probe_reports_each_normalisation_beside_the_constant_level(pair_probe, tiny_llama_dir, tmp_path, monkeypatch):
    from sentence_transformers_glot.data import load_task
    from sentence_transformers_glot.metrics import constant_level

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "pairs.csv"
    data.write_text("text_a,text_b,label\n" + "".join(
        f"question {i} about rates,{'answer' if i % 3 == 0 else 'other'} {i},{int(i % 3 == 0)}\n" for i in range(90)))
    output = tmp_path / "probe.json"
    assert pair_probe.main(["--backbones", tiny_llama_dir, "--task", str(data), "--pooled", "mean",
                            "--output", str(output)]) == 0
    (row,) = json.loads(output.read_text())["rows"]
    task = load_task(str(data))
    assert row["sink_left_out"] is True  # a llama backbone is a decoder
    assert row["constant_level"]["test"] == round(constant_level(task.metric, task.splits["test"].labels), 2)
    assert set(row["logistic"]) == set(pair_probe.NORMALISATIONS)
    for best in [*row["logistic"].values(), row["cosine_threshold"]]:
        assert 0.0 <= best["validation"] <= 100.0 and 0.0 <= best["test"] <= 100.0
    with pytest.raises(SystemExit, match="not a pair-classification task"):
        single = tmp_path / "single.csv"
        single.write_text("text,label\n" + "".join(f"sentence {i},{i % 2}\n" for i in range(40)))
        pair_probe.probe(tiny_llama_dir, str(single), None, None, "mean")
