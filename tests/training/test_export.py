"""The training export: a normal sentence-transformers folder (the trained pooling; the backbone emitting the
layers a layer mix reads; a parameter-free baseline as plain Pooling) whose model and head give the run's score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers import config, toy_task, trained
from sentence_transformers import SentenceTransformer

from sentence_transformers_glot import GlotPooling, load_glot_model
from sentence_transformers_glot.training.heads import TaskHead
from sentence_transformers_glot.training.predict import load_predictor
from sentence_transformers_glot.training.run import train


def test_train_exports_a_model_that_reproduces_the_trained_pooling(tiny_bert_dir, tmp_path, state_cache):
    task = toy_task()
    result = train(config(tiny_bert_dir), tmp_path / "run", task=task, cache=state_cache)
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


def test_training_on_mixed_layers_exports_a_model_that_reproduces_it(tiny_bert_dir, tmp_path):
    """The cache stores the chosen layers; the exported model computes them from its own hidden states."""
    from sentence_transformers_glot import load_glot_model
    from sentence_transformers_glot.training.cache import StateCache
    from sentence_transformers_glot.training.config import TrainConfig
    from sentence_transformers_glot.training.heads import TaskHead
    from sentence_transformers_glot.training.run import train

    task = toy_task()
    config = TrainConfig(backbone=tiny_bert_dir, task="toy", epochs=2, batch_size=16, lr=5e-3, cache_dtype="float32",
                         glot={"threshold": 0.3, "hidden_dim": 16, "layers": [1, 2], "sequence_window": 1,
                               "input_norm": "layer"}, checkpoint_every=0)
    result = train(config, tmp_path / "run", task=task, cache=StateCache(tmp_path / "cache", dtype="float32"))
    model = load_glot_model(result.model_dir, device="cpu")
    assert model[1].layers == [1, 2] and model[0].auto_model.config.output_hidden_states
    head = TaskHead.load(f"{result.model_dir}/task_head")
    logits = head(torch.from_numpy(model.encode(task.splits["test"].texts)))
    accuracy = 100 * (logits.argmax(-1).numpy() == task.splits["test"].labels).mean()
    assert accuracy == pytest.approx(result.test, abs=1e-9)


@pytest.mark.parametrize("baseline", ["mean", "max", "cls", "last"])
def test_parameter_free_baselines_export_as_plain_pooling(tiny_bert_dir, tmp_path, baseline):
    result = trained(tiny_bert_dir, tmp_path, toy_task(), pooling=baseline, glot={})
    folder = Path(result.model_dir)
    types = [m["type"] for m in json.loads((folder / "modules.json").read_text())]
    assert all(t.startswith("sentence_transformers.") for t in types), types
    plain = SentenceTransformer(str(folder), device="cpu")  # no plugin class, no trust_remote_code
    reference = SentenceTransformer(modules=[plain[0], GlotPooling.baseline(baseline, 32)], device="cpu")
    texts = ["a b c d", "e f", "g h i j k l"]
    torch.testing.assert_close(torch.as_tensor(plain.encode(texts)), torch.as_tensor(reference.encode(texts)),
                               atol=1e-5, rtol=1e-5)
    assert load_predictor(folder).predict(texts)  # the head still predicts
