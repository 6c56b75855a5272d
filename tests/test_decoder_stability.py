"""Issue 21's fixes for decoder backbones: the attention sink left out, a per-sentence threshold, warm-up and
clipping, the collapse guard and capacity-matched heads."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import random_batch, to_left_padding
from test_training import toy_task

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.nn.functional import exclude_first_token
from sentence_transformers_glot.nn.graph import build_graph, density_thresholds, normalize_tokens
from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.config import TrainConfig, config_dict
from sentence_transformers_glot.training.heads import TaskHead
from sentence_transformers_glot.training.loop import constant_prediction, train


# ------------------------------------------------------------------------------------------------ attention sink
def test_exclude_first_token_drops_the_first_real_token_on_either_padding_side():
    right = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=torch.bool)
    left = torch.tensor([[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=torch.bool)
    assert exclude_first_token(right).tolist() == [[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]]  # one token: kept
    assert exclude_first_token(left).tolist() == [[0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert exclude_first_token(torch.zeros(2, 0, dtype=torch.bool)).shape == (2, 0)


@pytest.mark.parametrize("backend", ["dense", "scatter"])
@pytest.mark.parametrize("conv", ["sage", "gat"])
def test_an_excluded_sink_pools_as_if_the_first_token_were_not_there(backend, conv):
    torch.manual_seed(0)
    x, mask = random_batch(4, 9, 16, seed=1, min_length=3)
    x[:, 0] *= 500.0  # a huge-norm first state, as a decoder's sink
    exclude = GlotPooling(16, threshold=0.2, hidden_dim=8, conv=conv, backend=backend, attention_sink="exclude")
    keep = GlotPooling(16, threshold=0.2, hidden_dim=8, conv=conv, backend=backend, attention_sink="keep")
    keep.load_state_dict(exclude.state_dict())
    expected = keep.pool(x[:, 1:], mask[:, 1:])  # right padding: the first real token is position 0
    assert torch.allclose(exclude.pool(x, mask), expected, atol=1e-5)
    x_left, mask_left = to_left_padding(x, mask)
    assert torch.allclose(exclude.pool(x_left, mask_left), expected, atol=1e-5)
    assert not torch.allclose(keep.pool(x, mask), expected, atol=1e-3)  # the sink did change the kept pooling


@pytest.mark.parametrize("name", ["mean", "max", "last", "adapool"])
def test_baselines_can_skip_the_sink_too(name):
    x, mask = random_batch(3, 6, 8, seed=2, min_length=2)
    pooled = GlotPooling.baseline(name, 8, attention_sink="exclude")
    plain = GlotPooling.baseline(name, 8, attention_sink="keep")
    plain.load_state_dict(pooled.state_dict())
    assert torch.allclose(pooled.pool(x, mask), plain.pool(x[:, 1:], mask[:, 1:]), atol=1e-6)


def test_auto_excludes_the_sink_on_decoders_only(tiny_llama_dir, tiny_bert_dir):
    from transformers import AutoConfig

    pooling = GlotPooling(8)
    with pytest.warns(RuntimeWarning, match="has not seen its backbone"):
        assert not pooling.excludes_sink
    pooling.set_backbone(AutoConfig.from_pretrained(tiny_llama_dir))
    assert pooling.excludes_sink
    pooling.set_backbone(AutoConfig.from_pretrained(tiny_bert_dir))
    assert not pooling.excludes_sink
    assert GlotPooling(8, attention_sink="keep").excludes_sink is False
    assert GlotPooling(8, attention_sink="exclude").excludes_sink is True
    with pytest.raises(ValueError, match="`attention_sink` must be one of"):
        GlotPooling(8, attention_sink="drop")


def test_a_sentence_transformer_tells_auto_its_backbone(tiny_llama_dir):
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot._compat import Transformer

    transformer = Transformer(tiny_llama_dir)
    pooling = GlotPooling(transformer.auto_model.config.hidden_size, threshold=0.3, hidden_dim=8)
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    if pooling.backbone_is_decoder is None:  # sentence-transformers 5.x has no on_model_ready hook
        pooling.set_backbone(model)
    assert pooling.excludes_sink
    texts = ["w1 w2 w3", "w4 w5"]
    features = model.tokenize(texts)
    real = features["attention_mask"].bool()
    assert pooling.token_mask(real).sum() == real.sum() - len(texts)
    assert np.isfinite(model.encode(texts)).all()


def test_configs_saved_before_attention_sink_load_keeping_every_token(tmp_path):
    pooling = GlotPooling(8, threshold=0.3, hidden_dim=4, attention_sink="exclude")
    pooling.save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["format_version"] == 5 and config["attention_sink"] == "exclude"
    for key in ("attention_sink", "edge_density", "graph_window"):
        config.pop(key)
    config["format_version"] = 3
    (tmp_path / "config.json").write_text(json.dumps(config))
    old = GlotPooling.load(str(tmp_path))
    assert old.attention_sink == "keep" and old.edge_density == 0.05
    x, mask = random_batch(2, 5, 8, seed=3)
    pooling.attention_sink = "keep"
    assert torch.equal(old.pool(x, mask), pooling.pool(x, mask))


# ------------------------------------------------------------------------------------------------ threshold="auto"
def test_auto_threshold_keeps_the_asked_density_in_every_sentence():
    x, mask = random_batch(5, 12, 16, seed=4, min_length=4)
    unit = normalize_tokens(torch.where(mask[..., None], x, 0.0))
    for density in (0.05, 0.2, 1.0):
        graph = build_graph(unit, mask, "auto", backend="dense", normalized=True, edge_density=density)
        n = mask.sum(1)
        wanted = 2 * torch.round(density * n * (n - 1) / 2)  # m pairs, both directions
        assert torch.equal(graph.adj.sum((1, 2)), wanted.float())


def test_auto_threshold_is_batch_and_padding_invariant():
    x, mask = random_batch(4, 10, 16, seed=5, min_length=3)
    unit = normalize_tokens(torch.where(mask[..., None], x, 0.0))
    together = density_thresholds(unit, mask, 0.1)
    lengths = [int(n) for n in mask.sum(1)]
    alone = torch.stack([density_thresholds(unit[i : i + 1, :n], mask[i : i + 1, :n], 0.1)[0]
                         for i, n in enumerate(lengths)])
    assert torch.allclose(together, alone, atol=1e-6)  # equal up to float rounding of differently shaped products
    left_x, left_mask = to_left_padding(x, mask)
    left_unit = normalize_tokens(torch.where(left_mask[..., None], left_x, 0.0))
    assert torch.allclose(density_thresholds(left_unit, left_mask, 0.1), together, atol=1e-6)


@pytest.mark.parametrize("conv", ["sage", "gat", "gcn"])
def test_auto_threshold_gives_the_same_pooling_on_both_backends_and_padding_sides(conv):
    x, mask = random_batch(4, 11, 16, seed=6, min_length=3)
    dense = GlotPooling(16, threshold="auto", edge_density=0.1, hidden_dim=8, conv=conv, backend="dense",
                        attention_sink="exclude")
    sparse = GlotPooling(16, threshold="auto", edge_density=0.1, hidden_dim=8, conv=conv, backend="scatter",
                         attention_sink="exclude")
    sparse.load_state_dict(dense.state_dict())
    expected = dense.pool(x, mask)
    assert torch.allclose(sparse.pool(x, mask), expected, atol=1e-5)
    assert torch.allclose(dense.pool(*to_left_padding(x, mask)), expected, atol=1e-5)


def test_auto_threshold_round_trips_and_bad_values_name_the_parameter(tmp_path):
    pooling = GlotPooling(8, threshold="auto", edge_density=0.2, hidden_dim=4)
    pooling.save(str(tmp_path))
    loaded = GlotPooling.load(str(tmp_path))
    assert loaded.threshold == "auto" and loaded.edge_density == 0.2
    with pytest.raises(ValueError, match="`threshold` must be"):
        GlotPooling(8, threshold="0.8")
    with pytest.raises(ValueError, match="`edge_density` must be"):
        GlotPooling(8, threshold="auto", edge_density=0.0)


def test_the_command_line_takes_auto_and_the_sink_choice():
    from sentence_transformers_glot.cli import build_parser

    args = build_parser().parse_args(["train", "--threshold", "auto", "--attention-sink", "keep",
                                      "--warmup-ratio", "0.2", "--max-grad-norm", "0.5", "--head-dim", "64"])
    assert (args.threshold, args.attention_sink, args.warmup_ratio, args.max_grad_norm, args.head_dim) == (
        "auto", "keep", 0.2, 0.5, 64)
    assert build_parser().parse_args(["train", "--threshold", "0.7"]).threshold == 0.7
    assert build_parser().parse_args(["benchmark", "--max-grad-norm", "none"]).max_grad_norm is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--threshold", "high"])


# ------------------------------------------------------------------------------------------------ training settings
def test_warmup_and_clipping_are_checked_and_part_of_the_run_identity():
    assert config_dict(TrainConfig(warmup_ratio=0.0, max_grad_norm=None)).keys() == config_dict(
        TrainConfig(warmup_ratio=0.0, max_grad_norm=None, head_dim=None)).keys()
    legacy = config_dict(TrainConfig(warmup_ratio=0.0, max_grad_norm=None))
    assert "warmup_ratio" not in legacy and "max_grad_norm" not in legacy  # older run folders keep their names
    current = config_dict(TrainConfig())
    assert current["warmup_ratio"] == 0.1 and current["max_grad_norm"] == 1.0
    for bad, match in (({"warmup_ratio": 1.5}, "warmup_ratio"), ({"max_grad_norm": 0}, "max_grad_norm"),
                       ({"head_dim": 0}, "head_dim")):
        with pytest.raises(ValueError, match=match):
            TrainConfig(**bad)


@pytest.fixture()
def cache(tmp_path) -> StateCache:
    return StateCache(tmp_path / "cache", dtype="float32")


def _config(backbone: str, **overrides) -> TrainConfig:
    values = dict(backbone=backbone, task="toy", epochs=2, batch_size=16, lr=5e-3, cache_dtype="float32",
                  glot={"threshold": 0.3, "hidden_dim": 16}, checkpoint_every=0)
    return TrainConfig(**{**values, **overrides})


def test_a_run_interrupted_during_warm_up_resumes_to_the_same_weights(tiny_llama_dir, tmp_path, cache):
    task = toy_task()
    settings = _config(tiny_llama_dir, warmup_ratio=0.5, max_grad_norm=0.05, checkpoint_every=2)
    full = train(settings, tmp_path / "full", task=task, cache=cache, export=False)
    with pytest.raises(KeyboardInterrupt):
        train(settings, tmp_path / "resumed", task=task, cache=cache, stop_after_steps=3)
    resumed = train(settings, tmp_path / "resumed", task=task, cache=cache, export=False)
    assert resumed.history == full.history and resumed.test == full.test
    no_warmup = train(_config(tiny_llama_dir, warmup_ratio=0.0, max_grad_norm=None), tmp_path / "plain", task=task,
                      cache=cache, export=False)
    assert no_warmup.history != full.history  # the settings do change training
    assert all(h["grad_norm"] > 0 for h in full.history)


# ------------------------------------------------------------------------------------------------ collapse guard
def test_constant_predictions_are_recognised():
    targets = np.array([0, 1] * 50)
    assert "predicts class 0 for 100.0%" in constant_prediction(np.zeros(100, dtype=int), targets, "classification")
    assert constant_prediction(targets.copy(), targets, "classification") is None
    assert constant_prediction(np.zeros(100), np.zeros(100), "classification") is None  # one-class data: no signal
    assert "one score" in constant_prediction(np.full(100, 2.5), targets * 5.0, "regression")
    assert constant_prediction(targets * 1.0, targets * 5.0, "regression") is None


def test_a_run_that_cannot_tell_its_inputs_apart_is_flagged_collapsed(tiny_bert_dir, tmp_path, cache, capsys):
    task = toy_task()
    for split in task.splits.values():  # one text for every example, balanced labels: only a constant is left
        split.texts[:] = ["w1 w2 w3"] * len(split.texts)
    result = train(_config(tiny_bert_dir, pooling="mean", glot={}), tmp_path / "flat", task=task, cache=cache,
                   export=False)
    metrics = json.loads((tmp_path / "flat" / "metrics.json").read_text())
    assert result.collapsed and metrics["collapsed"] is True and "predicts class" in metrics["collapse"]
    printed = capsys.readouterr()
    assert "COLLAPSED" in printed.out + printed.err
    healthy = train(_config(tiny_bert_dir), tmp_path / "ok", task=toy_task(), cache=cache, export=False)
    assert not healthy.collapsed and json.loads((tmp_path / "ok" / "metrics.json").read_text())["collapsed"] is False


def test_a_non_finite_loss_stops_the_run_and_is_flagged(tiny_bert_dir, tmp_path, cache, monkeypatch):
    from sentence_transformers_glot.training import heads

    calls = {"n": 0}
    original = heads.TaskHead.loss

    def loss(self, output, labels):
        calls["n"] += 1
        value = original(self, output, labels)
        return value * float("nan") if calls["n"] == 5 else value

    monkeypatch.setattr(heads.TaskHead, "loss", loss)
    result = train(_config(tiny_bert_dir), tmp_path / "nan", task=toy_task(), cache=cache, export=False)
    assert result.collapsed and "became nan at epoch 1, step 5" in result.collapse
    assert calls["n"] == 5 and np.isfinite(result.test)


# --------------------------------------------------------------------------------------------- capacity-matched heads
@pytest.mark.parametrize("kind", ["classification", "pair-classification", "similarity"])
def test_head_dim_gives_heads_the_same_size_whatever_the_pooled_width(kind, tmp_path):
    def size(head: TaskHead) -> int:
        return sum(p.numel() for p in head.parameters() if p is not head.reduce.weight and p is not head.reduce.bias)

    labels = {"num_labels": 2} if kind != "similarity" else {}
    narrow, wide = TaskHead(kind, 384, head_dim=64, **labels), TaskHead(kind, 896, head_dim=64, **labels)
    assert size(narrow) == size(wide)
    u, v = torch.randn(3, 896), torch.randn(3, 896)
    out = wide(u, v if kind != "classification" else None)
    assert out.shape[0] == 3
    wide.save(str(tmp_path))
    again = TaskHead.load(str(tmp_path))
    assert again.head_dim == 64 and torch.equal(again(u, v if kind != "classification" else None), out)


def test_a_layer_mix_makes_the_backbone_emit_hidden_states_when_the_model_is_assembled(tiny_bert_dir):
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot._compat import Transformer

    transformer = Transformer(tiny_bert_dir)
    assert not transformer.auto_model.config.output_hidden_states
    model = SentenceTransformer(modules=[transformer, GlotPooling(32, threshold=0.3, hidden_dim=8, layers=[0, 1, 2])],
                                device="cpu")
    if not hasattr(GlotPooling.__mro__[1], "on_model_ready"):
        pytest.skip("sentence-transformers 5.x has no on_model_ready hook (the README shows config_kwargs)")
    assert transformer.auto_model.config.output_hidden_states
    assert model.encode(["w1 w2 w3"]).shape == (1, 32 + 2 * 8)
