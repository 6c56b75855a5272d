"""Benchmark method names: options after ``+``, the presets, layer groups and task labels."""

from __future__ import annotations

import pytest


def test_benchmark_methods_carry_options():
    from sentence_transformers_glot.evaluation.methods import is_glot, layer_options, method_pooling, task_label

    assert method_pooling("glot-gat+seq2+cos+ln") == (
        "glot", {"conv": "gat", "sequence_window": 2, "edge_weight": "cosine", "input_norm": "layer"})
    assert method_pooling("adapool+rms") == ("adapool", {"input_norm": "rms"})
    assert method_pooling("mean+noln") == ("mean", {"input_norm": "none"})  # the raw states, as before "auto"
    assert method_pooling("glot", {"threshold": 0.5}) == ("glot", {"threshold": 0.5})
    with pytest.raises(ValueError, match=r"a baseline takes only \+ln, \+rms, \+noln, \+keepsink, not \+seq2"):
        method_pooling("mean+seq2")
    with pytest.raises(ValueError, match=r"unknown option \+wide"):
        method_pooling("glot+wide")
    with pytest.raises(ValueError, match=r"unknown option \+seq0"):
        method_pooling("glot+seq0")
    assert is_glot("glot+seq2") and is_glot("glot-gat+ln") and not is_glot("adapool+ln")
    from sentence_transformers_glot.pooling import PRESETS

    assert method_pooling("glot-plus", {"threshold": 0.5}) == ("glot", {"threshold": 0.5, **PRESETS["glot-plus"]})
    assert method_pooling("glot-plus+rms")[1]["input_norm"] == "rms" and is_glot("glot-plus")
    with pytest.raises(ValueError, match=r"unknown method 'paper'"):
        method_pooling("paper")  # not a benchmark method: `glot+keepsink+noln` trains the paper's pooling
    assert layer_options(3) == (3, {}) and layer_options([8, 9]) == (-1, {"layers": [8, 9]})
    assert task_label({"task": "acceptability", "layer": [8, 9]}) == "acceptability@L8+9"
    assert task_label({"task": "acceptability", "layer": 3}) == "acceptability@L3"
