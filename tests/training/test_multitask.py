"""Multi-task training: one shared pooling and a head per task, proportional or balanced sampling, the best epoch
by the mean validation score, every head exported, and resume to the same result."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import config, toy_task, write_csv

from sentence_transformers_glot.training import train
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.export import head_folder
from sentence_transformers_glot.training.multitask import schedule
from sentence_transformers_glot.training.run_identity import run_name


def files(tmp_path):
    """Two task files: single texts with classes, and text pairs with scores."""
    single, pairs = toy_task(n=60, seed=1), toy_task(pair=True, regression=True, n=150, seed=2)
    rows = [[t, int(y)] for s in single.splits.values() for t, y in zip(s.texts, s.labels)]
    first = write_csv(tmp_path / "single.csv", ["text", "label"], rows)
    rows = [[a, b, float(y)] for s in pairs.splits.values() for a, b, y in zip(s.texts, s.texts_b, s.labels)]
    second = write_csv(tmp_path / "pairs.csv", ["sentence1", "sentence2", "score"], rows)
    return str(first), str(second)


def test_the_schedule_mixes_every_batch_or_the_same_number_of_each():
    batches = {"a": [np.array([i]) for i in range(6)], "b": [np.array([10 + i]) for i in range(2)]}
    steps = schedule(batches, "proportional", seed=0, epoch=0)
    assert sorted(int(b[0]) for _, b in steps) == [0, 1, 2, 3, 4, 5, 10, 11]
    assert steps != schedule(batches, "proportional", seed=0, epoch=1)  # another order every epoch
    balanced = schedule(batches, "balanced", seed=0, epoch=0)
    assert [name for name, _ in balanced].count("a") == [name for name, _ in balanced].count("b") == 4
    assert sorted(int(b[0]) for n, b in balanced if n == "b") == [10, 10, 11, 11]  # the smaller task repeated


def test_one_pooling_a_head_per_task_every_head_exported_and_resume(tiny_bert_dir, tmp_path, state_cache):
    first, second = files(tmp_path)
    settings = config(tiny_bert_dir, task=first, also_tasks=[second], epochs=2, checkpoint_every=2)
    full = train(settings, tmp_path / "full", cache=state_cache)
    per_task = json.loads((tmp_path / "full" / "tasks.json").read_text())
    assert list(per_task) == [first, second] and full.metric == "mean"
    assert full.test == pytest.approx(np.mean([t["test"] for t in per_task.values()]))
    assert full.validation == pytest.approx(np.mean([t["validation"] for t in per_task.values()]))
    model = tmp_path / "full" / "model"
    assert (model / "task_head" / "head_config.json").is_file()
    other = json.loads((model / "task_heads" / head_folder(second) / "head_config.json").read_text())
    assert other["kind"] == "similarity"
    assert len(full.history) == 2 and all(set(h["tasks"]) == {first, second} for h in full.history)
    with pytest.raises(KeyboardInterrupt):
        train(settings, tmp_path / "resumed", cache=state_cache, stop_after_steps=3)
    resumed = train(settings, tmp_path / "resumed", cache=state_cache)
    assert resumed.history == full.history and resumed.test == full.test
    balanced = train(TrainConfig(**{**vars(settings), "sampling": "balanced"}), tmp_path / "balanced",
                     cache=state_cache, export=False)
    assert balanced.history != full.history


def test_multi_task_settings_are_checked_and_named(tiny_bert_dir, tmp_path):
    first, second = files(tmp_path)
    assert run_name(config(tiny_bert_dir, task=first)) != run_name(config(tiny_bert_dir, task=first,
                                                                          also_tasks=[second]))
    with pytest.raises(ValueError, match="`also_tasks` must name other tasks than `task`"):
        TrainConfig(task="movie-polarity", also_tasks=["movie-polarity"])
    with pytest.raises(ValueError, match="drop --no-cache and --head"):
        TrainConfig(task="movie-polarity", also_tasks=["subjectivity"], head="classification")
    with pytest.raises(ValueError, match="`sampling` must be one of"):
        TrainConfig(sampling="random")


def test_a_multi_task_run_can_start_from_a_frozen_pooling(tiny_bert_dir, tmp_path, state_cache):
    import torch
    from safetensors.torch import load_file

    first, second = files(tmp_path)
    source = train(config(tiny_bert_dir, task=first, epochs=1), tmp_path / "source", cache=state_cache)
    settings = config(tiny_bert_dir, task=first, also_tasks=[second], epochs=1, init_from=str(tmp_path / "source"),
                      freeze_pooling=True)
    result = train(settings, tmp_path / "multi", cache=state_cache)
    before = load_file(f"{source.model_dir}/1_GlotPooling/model.safetensors")
    after = load_file(f"{result.model_dir}/1_GlotPooling/model.safetensors")
    assert all(torch.equal(before[k], after[k]) for k in before)  # the shared pooling stayed the source's
