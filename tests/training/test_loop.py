"""Head training from the cache: runs end to end, exports a loadable model, resumes exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sentence_transformers_glot import load_glot_model
from sentence_transformers_glot.data import Split, TaskData
from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.checkpoint import read_checkpoint
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.heads import TaskHead
from sentence_transformers_glot.training.loop import train

WORDS = [f"w{i}" for i in range(60)]


def toy_task(pair: bool = False, regression: bool = False, n: int = 120, seed: int = 0) -> TaskData:
    """Label 1 when the text contains 'a' (single) or both texts share their first word (pair)."""
    rng = np.random.default_rng(seed)

    def sentence() -> list[str]:
        return list(rng.choice(WORDS, size=rng.integers(3, 9)))

    splits = {}
    for split, size in (("train", n), ("validation", n // 3), ("test", n // 3)):
        texts, texts_b, labels = [], [], []
        for i in range(size):
            words, label = sentence(), i % 2
            if pair:
                other = sentence()
                if label:
                    other[0] = words[0]
                texts_b.append(" ".join(other))
            elif label:
                words.insert(int(rng.integers(len(words))), "a")
            texts.append(" ".join(words))
            labels.append(float(label) * 5 if regression else label)
        splits[split] = Split(texts, np.array(labels, dtype=np.float32 if regression else np.int64),
                              texts_b if pair else None)
    return TaskData(name=f"toy-{pair}-{regression}-{n}-{seed}",
                    objective="regression" if regression else "classification",
                    metric="spearman" if regression else "accuracy", num_labels=None if regression else 2,
                    splits=splits)


def config(backbone: str, **overrides) -> TrainConfig:
    values = dict(backbone=backbone, task="toy", epochs=3, batch_size=16, lr=5e-3, cache_dtype="float32",
                  glot={"threshold": 0.3, "hidden_dim": 16}, checkpoint_every=0)
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture()
def cache(tmp_path) -> StateCache:
    return StateCache(tmp_path / "cache", dtype="float32")


def test_train_exports_a_model_that_reproduces_the_trained_pooling(tiny_bert_dir, tmp_path, cache):
    task = toy_task()
    result = train(config(tiny_bert_dir), tmp_path / "run", task=task, cache=cache)
    assert 0 <= result.test <= 100 and result.best_epoch in (1, 2, 3)
    assert result.validation >= 65, f"the toy task is learnable; got validation accuracy {result.validation}"
    assert len(result.history) == 3
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test"] == result.test
    model = load_glot_model(result.model_dir, device="cpu")
    head = TaskHead.load(f"{result.model_dir}/task_head")
    texts = task.splits["test"].texts
    logits = head(torch.from_numpy(model.encode(texts)))
    accuracy = 100 * (logits.argmax(-1).numpy() == task.splits["test"].labels).mean()
    assert accuracy == pytest.approx(result.test, abs=1e-9), "the exported model + head gives the reported score"


@pytest.mark.parametrize("pooling", ["mean", "max", "cls", "adapool"])
def test_baselines_train_through_the_same_code(tiny_bert_dir, tmp_path, cache, pooling):
    result = train(config(tiny_bert_dir, pooling=pooling, glot={}, epochs=1), tmp_path / pooling, task=toy_task(),
                   cache=cache, export=False)
    assert 0 <= result.test <= 100
    assert result.trainable_parameters > 0  # at least the head


@pytest.mark.parametrize("kind", ["pair-classification", "similarity", "contrastive"])
def test_pair_heads(tiny_llama_dir, tmp_path, cache, kind):
    regression = kind == "similarity"
    task = toy_task(pair=True, regression=regression)
    head = None if kind != "contrastive" else "contrastive"
    result = train(config(tiny_llama_dir, head=head, epochs=1), tmp_path / kind, task=task, cache=cache, export=False)
    assert np.isfinite(result.test)
    assert result.metric == ("spearman" if regression else "accuracy")


def test_regression_head_on_single_texts(tiny_bert_dir, tmp_path, cache):
    result = train(config(tiny_bert_dir, epochs=2), tmp_path / "reg", task=toy_task(regression=True), cache=cache,
                   export=False)
    assert result.metric == "spearman" and result.validation > 20


def test_interrupted_run_resumes_to_identical_metrics_and_weights(tiny_bert_dir, tmp_path, cache):
    task = toy_task()
    settings = config(tiny_bert_dir, checkpoint_every=2, glot={"threshold": 0.3, "hidden_dim": 16, "dropout": 0.2})
    full = train(settings, tmp_path / "full", task=task, cache=cache)
    for stop in (3, 9):  # mid-epoch (8 batches an epoch) at two points, then run to the end
        with pytest.raises(KeyboardInterrupt):
            train(settings, tmp_path / "resumed", task=task, cache=cache, stop_after_steps=stop)
    resumed = train(settings, tmp_path / "resumed", task=task, cache=cache)
    assert (resumed.validation, resumed.test, resumed.best_epoch) == (full.validation, full.test, full.best_epoch)
    assert [h["validation"] for h in resumed.history] == [h["validation"] for h in full.history]
    from safetensors.torch import load_file

    a = load_file(f"{full.model_dir}/1_GlotPooling/model.safetensors")
    b = load_file(f"{resumed.model_dir}/1_GlotPooling/model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_same_seed_same_result_and_a_changed_config_is_refused(tiny_bert_dir, tmp_path, cache):
    task = toy_task()
    one = train(config(tiny_bert_dir, epochs=1), tmp_path / "one", task=task, cache=cache, export=False)
    two = train(config(tiny_bert_dir, epochs=1), tmp_path / "two", task=task, cache=cache, export=False)
    assert one.history == two.history and one.test == two.test
    with pytest.raises(ValueError, match="different configuration"):
        train(config(tiny_bert_dir, epochs=1, lr=1e-3), tmp_path / "one", task=task, cache=cache)


def test_invalid_training_config():
    with pytest.raises(ValueError, match="`pooling`"):
        TrainConfig(pooling="median")
    with pytest.raises(ValueError, match="`epochs`"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="`head`"):
        TrainConfig(head="ranking")


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


def test_cli_train_on_a_users_csv_prints_both_poolings(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    task = toy_task(n=60)
    rows = ["text,label"] + [f"{t},{y}" for t, y in zip(task.splits["train"].texts, task.splits["train"].labels)]
    (tmp_path / "mine.csv").write_text("\n".join(rows) + "\n")
    code = main(["train", "--backbone", tiny_bert_dir, "--task", str(tmp_path / "mine.csv"), "--pooling", "glot",
                 "mean",
                 "--epochs", "1", "--runs", str(tmp_path / "runs"), "--threshold", "0.3", "--hidden-dim", "8",
                 "--json", str(tmp_path / "results.json")])
    assert code == 0
    out = capsys.readouterr().out
    assert "glot: test accuracy" in out and "mean: test accuracy" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["pooling"] for r in results] == ["glot", "mean"]
    for r in results:
        assert Path(r["model_dir"]).parent.parent == tmp_path / "runs"
        assert (Path(r["model_dir"]) / "modules.json").exists()
    assert len(list((tmp_path / "runs").iterdir())) == 2


def test_a_data_file_edited_in_place_trains_again(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    task = toy_task(n=60)
    pairs = list(zip(task.splits["train"].texts, task.splits["train"].labels))
    data = tmp_path / "mine.csv"
    args = ["train", "--backbone", tiny_bert_dir, "--task", str(data), "--pooling", "mean", "--epochs", "1",
            "--runs", str(tmp_path / "runs"), "--no-export"]
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in pairs))
    assert main(args) == 0
    assert "mean epoch 1/1: validation accuracy" in capsys.readouterr().out  # per-epoch scores are printed
    assert main(args) == 0  # unchanged file: the finished run is read back, no second folder
    assert len(list((tmp_path / "runs").iterdir())) == 1
    data.write_text("text,label\n" + "".join(f"{t},{1 - y}\n" for t, y in pairs))  # same path, flipped labels
    assert main(args) == 0
    assert len(list((tmp_path / "runs").iterdir())) == 2
    capsys.readouterr()


@pytest.mark.parametrize("flags, named", [(["--threshold", "2"], "threshold"), (["--hidden-dim", "0"], "hidden_dim"),
                                           (["--label-column", "stars"], "stars")])
def test_bad_options_fail_before_the_cache_and_leave_no_run_folder(tiny_bert_dir, tmp_path, monkeypatch, capsys,
                                                                   flags, named):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "mine.csv"
    task = toy_task(n=60)
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(task.splits["train"].texts,
                                                                            task.splits["train"].labels)))
    code = main(["train", "--backbone", tiny_bert_dir, "--task", str(data), "--runs", str(tmp_path / "runs"), *flags])
    assert code == 2 and named in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    assert not (tmp_path / "cache" / "states").exists()


def test_an_unreachable_backbone_is_one_line_and_leaves_no_run_folder(tmp_path, monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = tmp_path / "mine.csv"
    task = toy_task(n=60)
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(task.splits["train"].texts,
                                                                            task.splits["train"].labels)))
    code = main(["train", "--backbone", "no-such-org/no-such-model", "--task", str(data),
                 "--runs", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("glot: error:") and "no-such-org/no-such-model" in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_cli_reports_bad_names_clearly(tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    assert main(["train", "--task", "movie-polarityy", "--runs", str(tmp_path)]) == 2
    assert "movie-polarity" in capsys.readouterr().err


def test_a_head_that_does_not_fit_the_task_is_refused(tiny_bert_dir, tmp_path, cache):
    with pytest.raises(ValueError, match="'similarity' needs a task of text pairs"):
        train(config(tiny_bert_dir, head="similarity"), tmp_path / "a", task=toy_task(), cache=cache)
    with pytest.raises(ValueError, match="'classification' needs a task of single texts"):
        train(config(tiny_bert_dir, head="classification"), tmp_path / "b", task=toy_task(pair=True), cache=cache)


@pytest.mark.parametrize("pair", [False, True])
def test_training_without_a_cache_matches_the_float32_cache(tiny_bert_dir, tmp_path, cache, pair):
    """--no-cache runs the frozen backbone on every batch: same states as the fp32 cache (up to the rounding a
    different batch gives the backbone), so the same metrics, and nothing written to the cache."""
    from sentence_transformers_glot.training import loop
    from sentence_transformers_glot.training.live import live_task_states

    task = toy_task(pair=pair)
    cached = train(config(tiny_bert_dir), tmp_path / "cached", task=task, cache=cache, export=False)
    nothing = StateCache(tmp_path / "never-used", dtype="float32")
    live = train(config(tiny_bert_dir, cache=False), tmp_path / "live", task=task, cache=nothing, export=False)
    assert not (tmp_path / "never-used").exists()
    assert abs(live.test - cached.test) <= 100 / len(task.splits["test"].texts) + 1e-9  # one example at most
    for ours, theirs in zip(live.history, cached.history):
        assert abs(ours["validation"] - theirs["validation"]) <= 100 / len(task.splits["validation"].texts) + 1e-9
        assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-4)
    on_the_fly = live_task_states(config(tiny_bert_dir, cache=False), task)["train"][0]
    stored = loop.cache_task_states(config(tiny_bert_dir), task, cache)["train"][0]
    (x, m), (y, n) = on_the_fly.batch([5, 0, 9]), stored.batch([5, 0, 9])
    assert torch.equal(m, n) and torch.allclose(x, y, atol=1e-5)
    assert "cache" not in json.loads((tmp_path / "cached" / "run_config.json").read_text())  # old names stay
    assert json.loads((tmp_path / "live" / "run_config.json").read_text())["cache"] is False


def test_a_second_process_on_the_same_run_waits_and_reads_it_back(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    import os
    import subprocess
    import sys
    import time

    from sentence_transformers_glot.training import loop

    run_dir, marker = tmp_path / "run", tmp_path / "holding"
    # the first process takes the run's lock (as `glot train` does), says so, and trains the run while holding it
    first = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from pathlib import Path
from test_training import config, toy_task
from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.loop import _run_lock, _train
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
