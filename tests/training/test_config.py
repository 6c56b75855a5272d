"""TrainConfig: checked on construction (``glot`` a GlotOptions, the layers, warm-up and clipping), and the run
folders written before keep their names."""

from __future__ import annotations

import pytest

from sentence_transformers_glot.options import GlotOptions
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.run_identity import config_dict


def test_glot_is_a_checked_options_object():
    config = TrainConfig(glot={"conv": "gat", "threshold": 0.5})
    assert isinstance(config.glot, GlotOptions) and config.glot.conv == "gat" and config.glot.threshold == 0.5
    mean = TrainConfig(pooling="mean", glot={"input_norm": "layer"})
    assert (mean.glot.num_layers, mean.glot.readout, mean.glot.input_norm) == (0, "mean", "layer")
    assert mean.glot.changes("mean") == {"input_norm": "layer"}
    with pytest.raises(ValueError, match="`conv` must be one of"):
        TrainConfig(glot={"conv": "transformer"})
    with pytest.raises(ValueError, match="no option 'treshold'"):
        TrainConfig(glot={"treshold": 0.5})
    with pytest.raises(ValueError, match="sequence_window"):  # a baseline's options are checked with its preset
        TrainConfig(pooling="mean", glot={"sequence_window": 2})
    with pytest.raises(ValueError, match="pooling='cls' is GlotPooling with"):
        TrainConfig(pooling="cls", glot=GlotOptions())
    with pytest.raises(ValueError, match="pooling 'mean' takes only the options .* not conv"):  # as a dict is
        TrainConfig(pooling="mean", glot=GlotOptions(num_layers=0, readout="mean", conv="gat"))
    assert TrainConfig(pooling="mean", glot=GlotOptions.of_pooling("mean", {"input_norm": "rms"})).glot.input_norm \
        == "rms"
    with pytest.raises(ValueError, match="`glot` must be a GlotOptions or a dict"):
        TrainConfig(glot=[("conv", "gat")])


def test_invalid_training_config():
    with pytest.raises(ValueError, match="`pooling`"):
        TrainConfig(pooling="median")
    with pytest.raises(ValueError, match="`epochs`"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="`head`"):
        TrainConfig(head="ranking")


def test_layer_and_layers_together_are_refused():
    from sentence_transformers_glot.training.config import TrainConfig

    with pytest.raises(ValueError, match=r"`layer`=3 and glot `layers`=\[1, 2\] both choose"):
        TrainConfig(layer=3, glot={"layers": [1, 2]})
    assert TrainConfig(glot={"layers": [1, 2]}).state_layers == [1, 2]
    assert TrainConfig(layer=3).state_layers == 3


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


@pytest.mark.parametrize("field, value", [("lr", 1e38), ("lr", float("nan")), ("lr", float("inf")), ("lr", 0.0),
                                          ("weight_decay", -1.0), ("weight_decay", float("nan")),
                                          ("warmup_ratio", float("nan")), ("max_grad_norm", float("inf")),
                                          ("max_grad_norm", 0.0), ("threads", 10**6), ("head_dim", 10**9)])
def test_every_number_is_checked_before_any_work(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig: `{field}` must be"):
        TrainConfig(**{field: value})


def test_weight_decay_that_would_flip_the_weights_is_refused():
    with pytest.raises(ValueError, match="lr` x `weight_decay` must be <= 1"):
        TrainConfig(lr=0.5, weight_decay=3.0)
    assert TrainConfig(lr=1e8, warmup_ratio=0.0).lr == 1e8  # huge but finite: trains, and is flagged if it diverges
