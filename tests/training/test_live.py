"""Training without a cache (``cache=False``): the frozen backbone's states on every batch equal the float32
cache's, so do the metrics, and nothing is written."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import config, toy_task

from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.run import train


@pytest.mark.parametrize("pair", [False, True])
def test_training_without_a_cache_matches_the_float32_cache(tiny_bert_dir, tmp_path, state_cache, pair):
    """--no-cache runs the frozen backbone on every batch: same states as the fp32 cache (up to the rounding a
    different batch gives the backbone), so the same metrics, and nothing written to the cache."""
    from sentence_transformers_glot.training import run as loop
    from sentence_transformers_glot.training.live import live_task_states

    task = toy_task(pair=pair)
    cached = train(config(tiny_bert_dir), tmp_path / "cached", task=task, cache=state_cache, export=False)
    nothing = StateCache(tmp_path / "never-used", dtype="float32")
    live = train(config(tiny_bert_dir, cache=False), tmp_path / "live", task=task, cache=nothing, export=False)
    assert not (tmp_path / "never-used").exists()
    assert abs(live.test - cached.test) <= 100 / len(task.splits["test"].texts) + 1e-9  # one example at most
    for ours, theirs in zip(live.history, cached.history):
        assert abs(ours["validation"] - theirs["validation"]) <= 100 / len(task.splits["validation"].texts) + 1e-9
        assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-4)
    on_the_fly = live_task_states(config(tiny_bert_dir, cache=False), task)["train"][0]
    stored = loop.cache_task_states(config(tiny_bert_dir), task, state_cache)["train"][0]
    (x, m), (y, n) = on_the_fly.batch([5, 0, 9]), stored.batch([5, 0, 9])
    assert torch.equal(m, n) and torch.allclose(x, y, atol=1e-5)
    assert "cache" not in json.loads((tmp_path / "cached" / "run_config.json").read_text())  # old names stay
    assert json.loads((tmp_path / "live" / "run_config.json").read_text())["cache"] is False
