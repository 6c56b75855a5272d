"""Head training from the cache: baselines through the same code, exact resumes (mid-epoch and during warm-up),
same seed same result, two data-parallel processes, one process per run, and the collapse guard."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import TESTS, config, toy_task

from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.checkpoint import read_checkpoint
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.run import train


@pytest.mark.parametrize("pooling", ["mean", "max", "cls", "adapool"])
def test_baselines_train_through_the_same_code(tiny_bert_dir, tmp_path, state_cache, pooling):
    result = train(config(tiny_bert_dir, pooling=pooling, glot={}, epochs=1), tmp_path / pooling, task=toy_task(),
                   cache=state_cache, export=False)
    assert 0 <= result.test <= 100
    assert result.trainable_parameters > 0  # at least the head


def test_interrupted_run_resumes_to_identical_metrics_and_weights(tiny_bert_dir, tmp_path, state_cache):
    task = toy_task()
    settings = config(tiny_bert_dir, checkpoint_every=2, glot={"threshold": 0.3, "hidden_dim": 16, "dropout": 0.2})
    full = train(settings, tmp_path / "full", task=task, cache=state_cache)
    for stop in (3, 9):  # mid-epoch (8 batches an epoch) at two points, then run to the end
        with pytest.raises(KeyboardInterrupt):
            train(settings, tmp_path / "resumed", task=task, cache=state_cache, stop_after_steps=stop)
    resumed = train(settings, tmp_path / "resumed", task=task, cache=state_cache)
    assert (resumed.validation, resumed.test, resumed.best_epoch) == (full.validation, full.test, full.best_epoch)
    assert [h["validation"] for h in resumed.history] == [h["validation"] for h in full.history]
    from safetensors.torch import load_file

    a = load_file(f"{full.model_dir}/1_GlotPooling/model.safetensors")
    b = load_file(f"{resumed.model_dir}/1_GlotPooling/model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _config(backbone: str, **overrides) -> TrainConfig:
    values = dict(backbone=backbone, task="toy", epochs=2, batch_size=16, lr=5e-3, cache_dtype="float32",
                  glot={"threshold": 0.3, "hidden_dim": 16}, checkpoint_every=0)
    return TrainConfig(**{**values, **overrides})


def test_a_run_interrupted_during_warm_up_resumes_to_the_same_weights(tiny_llama_dir, tmp_path, state_cache):
    task = toy_task()
    settings = _config(tiny_llama_dir, warmup_ratio=0.5, max_grad_norm=0.05, checkpoint_every=2)
    full = train(settings, tmp_path / "full", task=task, cache=state_cache, export=False)
    with pytest.raises(KeyboardInterrupt):
        train(settings, tmp_path / "resumed", task=task, cache=state_cache, stop_after_steps=3)
    resumed = train(settings, tmp_path / "resumed", task=task, cache=state_cache, export=False)
    assert resumed.history == full.history and resumed.test == full.test
    no_warmup = train(_config(tiny_llama_dir, warmup_ratio=0.0, max_grad_norm=None), tmp_path / "plain", task=task,
                      cache=state_cache, export=False)
    assert no_warmup.history != full.history  # the settings do change training
    assert all(h["grad_norm"] > 0 for h in full.history)


def test_same_seed_same_result_and_a_changed_config_is_refused(tiny_bert_dir, tmp_path, state_cache):
    task = toy_task()
    one = train(config(tiny_bert_dir, epochs=1), tmp_path / "one", task=task, cache=state_cache, export=False)
    two = train(config(tiny_bert_dir, epochs=1), tmp_path / "two", task=task, cache=state_cache, export=False)
    assert one.history == two.history and one.test == two.test
    with pytest.raises(ValueError, match="different configuration"):
        train(config(tiny_bert_dir, epochs=1, lr=1e-3), tmp_path / "one", task=task, cache=state_cache)


def test_a_head_that_does_not_fit_the_task_is_refused(tiny_bert_dir, tmp_path, state_cache):
    with pytest.raises(ValueError, match="'similarity' needs a task of text pairs"):
        train(config(tiny_bert_dir, head="similarity"), tmp_path / "a", task=toy_task(), cache=state_cache)
    with pytest.raises(ValueError, match="'classification' needs a task of single texts"):
        train(config(tiny_bert_dir, head="classification"), tmp_path / "b", task=toy_task(pair=True), cache=state_cache)


def _ddp_worker(rank: int, world: int, port: int, backbone: str, run_dir: str, cache_dir: str, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        result = train(config(backbone, epochs=2), run_dir, task=toy_task(),
                       cache=StateCache(cache_dir, dtype="float32"), export=False)
        if rank == 0:
            torch.save(result.__dict__, out)
    finally:
        dist.destroy_process_group()


def test_two_process_data_parallel_training_matches_one_process(tiny_bert_dir, tmp_path):
    """2 CPU processes on gloo, each half of every batch, give the single-process result."""
    import socket

    import torch.multiprocessing as mp

    cache_dir = str(tmp_path / "cache")
    single = train(config(tiny_bert_dir, epochs=2), tmp_path / "single", task=toy_task(),
                   cache=StateCache(cache_dir, dtype="float32"), export=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = str(tmp_path / "ddp.pt")
    mp.spawn(_ddp_worker, args=(2, port, tiny_bert_dir, str(tmp_path / "ddp"), cache_dir, out), nprocs=2, join=True)
    ddp = torch.load(out, weights_only=False)
    assert [h["validation"] for h in ddp["history"]] == [h["validation"] for h in single.history]
    assert json.loads((tmp_path / "ddp" / "metrics.json").read_text())["test"] == ddp["test"] == single.test
    # the averaged half-batch gradients equal the full-batch gradient: same weights after two epochs
    one = read_checkpoint(tmp_path / "single" / "checkpoint.pt")["model"]
    two = read_checkpoint(tmp_path / "ddp" / "checkpoint.pt")["model"]
    assert one.keys() == two.keys()
    for name in one:
        assert torch.allclose(one[name], two[name], atol=1e-5), name


def test_a_second_process_on_the_same_run_waits_and_reads_it_back(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    import os
    import subprocess
    import sys
    import time

    from sentence_transformers_glot.training import model as loop

    run_dir, marker = tmp_path / "run", tmp_path / "holding"
    # the first process takes the run's lock (as `glot train` does), says so, and trains the run while holding it
    first = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
sys.path.insert(0, {str(TESTS)!r})
from pathlib import Path
from helpers import config, toy_task
from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.run import _run_lock, _train
with _run_lock(Path({str(run_dir)!r})):
    Path({str(marker)!r}).write_text("yes")
    time.sleep(1)  # the other process is certainly waiting by now
    _train(config({tiny_bert_dir!r}, epochs=1), Path({str(run_dir)!r}), toy_task(),
           StateCache({str(tmp_path / "cache")!r}, dtype="float32"), False, None)
"""], env=dict(os.environ))
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and first.poll() is None:
        time.sleep(0.05)
    assert marker.exists()
    # the second process must not train: it waits for the first, then reads the finished run back
    monkeypatch.setattr(loop.PoolingWithHead, "forward", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    result = train(config(tiny_bert_dir, epochs=1), run_dir, task=toy_task(),
                   cache=StateCache(tmp_path / "cache", dtype="float32"), export=False)
    assert first.wait(timeout=300) == 0
    assert "being trained by another process" in capsys.readouterr().out
    assert result.test == json.loads((run_dir / "metrics.json").read_text())["test"]


# -------------------------------------------------------------------------------------------------- the collapse guard
def test_a_run_that_cannot_tell_its_inputs_apart_is_flagged_collapsed(tiny_bert_dir, tmp_path, state_cache, capsys):
    task = toy_task()
    for split in task.splits.values():  # one text for every example, balanced labels: only a constant is left
        split.texts[:] = ["w1 w2 w3"] * len(split.texts)
    result = train(_config(tiny_bert_dir, pooling="mean", glot={}), tmp_path / "flat", task=task, cache=state_cache,
                   export=False)
    metrics = json.loads((tmp_path / "flat" / "metrics.json").read_text())
    assert result.collapsed and metrics["collapsed"] is True and "predicts class" in metrics["collapse"]
    printed = capsys.readouterr()
    assert "COLLAPSED" in printed.out + printed.err
    healthy = train(_config(tiny_bert_dir), tmp_path / "ok", task=toy_task(), cache=state_cache, export=False)
    assert not healthy.collapsed and json.loads((tmp_path / "ok" / "metrics.json").read_text())["collapsed"] is False


def test_a_non_finite_loss_stops_the_run_and_is_flagged(tiny_bert_dir, tmp_path, state_cache, monkeypatch):
    from sentence_transformers_glot.training import heads

    calls = {"n": 0}
    original = heads.TaskHead.loss

    def loss(self, output, labels):
        calls["n"] += 1
        value = original(self, output, labels)
        return value * float("nan") if calls["n"] == 5 else value

    monkeypatch.setattr(heads.TaskHead, "loss", loss)
    result = train(_config(tiny_bert_dir), tmp_path / "nan", task=toy_task(), cache=state_cache, export=False)
    assert result.collapsed and "became nan at epoch 1, step 5" in result.collapse
    assert calls["n"] == 5 and np.isfinite(result.test)


def test_a_diverged_run_is_flagged_in_metrics_and_the_log(tiny_bert_dir, tmp_path, state_cache, capsys):
    """lr 5 without warm-up or clipping: finite, growing losses and validation at chance. Flagged, not clean."""
    result = train(config(tiny_bert_dir, lr=5.0, warmup_ratio=0.0, max_grad_norm=None, epochs=2),
                   tmp_path / "run", task=toy_task(n=200), cache=state_cache)
    assert result.collapsed and ("diverged" in result.collapse or "constant answer" in result.collapse)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["collapsed"] is True and saved["collapse"] == result.collapse
    printed = capsys.readouterr()
    assert "COLLAPSED" in printed.out + printed.err


def test_glot_options_are_built_at_most_twice_per_run(tiny_bert_dir, tmp_path, monkeypatch):
    """One GlotOptions for the run's config, one for its GlotPooling (and one for the command's flags): names,
    configs and exports compare with the defaults without building more."""
    from sentence_transformers_glot import options
    from sentence_transformers_glot.cli import main

    built = []
    check = options.GlotOptions.__post_init__
    monkeypatch.setattr(options.GlotOptions, "__post_init__", lambda self: (built.append(1), check(self))[1])
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "mine.csv"
    data.write_text("text,label\n" + "".join(f"text {i} {'good' if i % 2 else 'bad'},{i % 2}\n" for i in range(60)))
    assert main(["train", "--backbone", tiny_bert_dir, "--task", str(data), "--pooling", "glot", "adapool",
                 "--epochs", "1", "--runs", str(tmp_path / "runs")]) == 0
    assert len(built) <= 1 + 2 * 2


def test_every_config_field_is_read_in_at_most_eight_modules_of_a_glot_train(tiny_bert_dir, tmp_path, monkeypatch):
    """Following one TrainConfig field through ``glot train`` (parse, configs, identity, inputs, model, loop,
    report, export) visits few modules: the config is worked out once and passed down."""
    import collections
    import dataclasses
    import sys

    from sentence_transformers_glot.cli import main

    readers = collections.defaultdict(set)
    read = object.__getattribute__

    def traced(self, name):
        module = sys._getframe(1).f_globals.get("__name__", "")
        if not name.startswith("_") and module.startswith("sentence_transformers_glot"):
            readers[name].add(module)
        return read(self, name)

    monkeypatch.setattr(TrainConfig, "__getattribute__", traced, raising=False)
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "mine.csv"
    data.write_text("text,label\n" + "".join(f"text {i} {'good' if i % 2 else 'bad'},{i % 2}\n" for i in range(60)))
    assert main(["train", "--backbone", tiny_bert_dir, "--task", str(data), "--epochs", "1",
                 "--runs", str(tmp_path / "runs")]) == 0
    fields = [spec.name for spec in dataclasses.fields(TrainConfig)]
    assert set(readers) >= {"backbone", "lr", "max_length", "max_grad_norm", "glot"}
    assert {field: len(readers[field]) for field in fields if len(readers[field]) > 8} == {}
