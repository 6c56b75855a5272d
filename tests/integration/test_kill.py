"""SIGKILL at four points of a training run, then resume: the same metrics and weights as a run never killed.

Each killed run is a child process that patches one function of the library to ``SIGKILL`` itself at a
chosen moment: while the hidden-state cache is half built, between two checkpoints, half-way through a
checkpoint write, and half-way through the model export. Each child resumes the run the previous one
left behind; a last child finishes it. Saving a model folder is checked the same way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from helpers import TESTS, config, toy_task
from safetensors.torch import load_file

from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.run import train

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    import torch
    torch.set_num_threads(1)
    from pathlib import Path
    from sentence_transformers_glot.io import atomic_write
    from sentence_transformers_glot.training import checkpoint, export, run
    from sentence_transformers_glot.training.cache import StateCache
    from helpers import config, toy_task

    point = {point!r}

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "cache":  # after the first shard of the first split is on disk
        build = StateCache._build_shard
        def _build_shard(self, folder, shard, *args, **kwargs):
            if shard == 1:
                die()
            return build(self, folder, shard, *args, **kwargs)
        StateCache._build_shard = _build_shard
    elif point == "step":  # inside the 5th optimiser step, between two checkpoints
        calls = [0]
        step = torch.optim.AdamW.step
        def step_then_die(self, *args, **kwargs):
            calls[0] += 1
            if calls[0] == 5:
                die()
            return step(self, *args, **kwargs)
        torch.optim.AdamW.step = step_then_die
    elif point == "checkpoint":  # the 2nd checkpoint of this process is half written
        calls = [0]
        def write_then_die(target, data):
            calls[0] += 1
            if calls[0] == 2:  # the old checkpoint is already moved to .prev; the new one dies half written
                return atomic_write(target, lambda tmp: (Path(tmp).write_bytes(data[: len(data) // 2]), die()))
            return atomic_write(target, lambda tmp: Path(tmp).write_bytes(data))
        checkpoint.atomic_write_bytes = write_then_die
    elif point == "export":  # the model folder is written but not yet renamed into place
        atomic_write_folder = export.atomic_write_folder
        export.atomic_write_folder = lambda target, write: atomic_write_folder(target, lambda tmp: (write(tmp), die()))

    settings = config({backbone!r}, checkpoint_every=2, glot={{"threshold": 0.3, "hidden_dim": 16, "dropout": 0.2}})
    cache = StateCache({cache!r}, dtype="float32", shard_size=16)
    run.train(settings, {run!r}, task=toy_task(), cache=cache)
    """
)


def run_child(point: str, backbone: str, run_dir: Path, cache_dir: Path) -> int:
    code = CHILD.format(tests=str(TESTS), point=point, backbone=backbone, run=str(run_dir), cache=str(cache_dir))
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run([sys.executable, "-c", code], timeout=300, env=env).returncode


def test_training_killed_at_four_points_resumes_to_identical_metrics_and_weights(tiny_bert_dir, tmp_path):
    settings = config(tiny_bert_dir, checkpoint_every=2, glot={"threshold": 0.3, "hidden_dim": 16, "dropout": 0.2})
    full = train(settings, tmp_path / "full", task=toy_task(),
                 cache=StateCache(tmp_path / "cache-full", dtype="float32"))

    run_dir, cache_dir = tmp_path / "killed", tmp_path / "cache-killed"
    for point in ("cache", "step", "checkpoint", "export"):
        assert run_child(point, tiny_bert_dir, run_dir, cache_dir) == -signal.SIGKILL, point
        assert not (run_dir / "metrics.json").exists(), point
        assert not (run_dir / "model").exists(), f"a half-exported model folder after the kill at {point!r}"
    assert run_child("none", tiny_bert_dir, run_dir, cache_dir) == 0

    resumed = json.loads((run_dir / "metrics.json").read_text())
    assert [h["validation"] for h in resumed["history"]] == [h["validation"] for h in full.history]
    expected = (full.validation, full.test, full.best_epoch)
    assert (resumed["validation"], resumed["test"], resumed["best_epoch"]) == expected
    a = load_file(f"{full.model_dir}/1_GlotPooling/model.safetensors")
    b = load_file(run_dir / "model" / "1_GlotPooling" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    visible = sorted(p.name for p in run_dir.iterdir() if not p.name.startswith("."))
    assert visible == sorted(p.name for p in (tmp_path / "full").iterdir()), "killed writes leave only hidden files"


SAVE_CHILD = textwrap.dedent(
    """
    import os, signal
    from sentence_transformers import SentenceTransformer
    from sentence_transformers_glot import GlotPooling, save_glot_model
    from sentence_transformers_glot._compat import Transformer
    from sentence_transformers_glot import pooling

    transformer = Transformer({backbone!r})
    model = SentenceTransformer(modules=[transformer, GlotPooling(transformer.get_word_embedding_dimension(),
                                                                   hidden_dim=8)], device="cpu")
    save = pooling.GlotPooling.save
    def save_then_die(self, path, *args, **kwargs):
        save(self, path, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)  # after the pooling's files, before the folder is renamed
    pooling.GlotPooling.save = save_then_die
    save_glot_model(model, {target!r})
    """
)


@pytest.mark.parametrize("existing", [False, True])
def test_a_save_killed_half_way_leaves_no_model_or_the_old_one(tiny_bert_dir, tmp_path, existing):
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot import GlotPooling, load_glot_model, save_glot_model
    from sentence_transformers_glot._compat import Transformer

    target = tmp_path / "model"
    sentences = ["w1 w2 w3", "a b c d"]
    if existing:
        transformer = Transformer(tiny_bert_dir)
        old = SentenceTransformer(modules=[transformer, GlotPooling(32, hidden_dim=4)], device="cpu")
        save_glot_model(old, target)
        before = old.encode(sentences, convert_to_tensor=True)
    code = SAVE_CHILD.format(backbone=tiny_bert_dir, target=str(target))
    assert subprocess.run([sys.executable, "-c", code], timeout=300).returncode == -signal.SIGKILL
    if existing:
        after = load_glot_model(str(target), device="cpu").encode(sentences, convert_to_tensor=True)
        assert torch.equal(before, after), "the previous model is intact"
    else:
        assert not target.exists()
    assert all(p.name.startswith(".model.") for p in tmp_path.iterdir() if p != target)


def test_save_glot_model_replaces_a_folder_and_cleans_up_on_error(tiny_bert_dir, tmp_path, monkeypatch):
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot import GlotPooling, load_glot_model, save_glot_model
    from sentence_transformers_glot._compat import Transformer

    target = tmp_path / "model"
    models = [SentenceTransformer(modules=[Transformer(tiny_bert_dir), GlotPooling(32, hidden_dim=h)], device="cpu")
              for h in (4, 6)]
    for model in models:  # the second save replaces the first
        save_glot_model(model, target)
    loaded = load_glot_model(str(target), device="cpu")
    assert loaded[1].hidden_dim == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"], "no temporary folders left"

    def broken_save(self, path, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(GlotPooling, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_glot_model(models[0], target)
    assert load_glot_model(str(target), device="cpu")[1].hidden_dim == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
