"""TrainConfig.glot is a GlotOptions: checked on construction, given as one or as a dict of changes, and the run
folders written before keep their names."""

from __future__ import annotations

import json

import pytest

from sentence_transformers_glot.options import GlotOptions
from sentence_transformers_glot.training.config import TrainConfig, config_dict, run_name

# (config as run_config.json holds it, the name of the folder an earlier version wrote for it)
EARLIER_RUNS = [
    ({"backbone": "minilm", "task": "fiqa-pairs", "pooling": "glot", "glot": {"conv": "gat"}, "lr": 0.002,
      "warmup_ratio": 0.1, "max_grad_norm": 1.0, "max_train": 4000}, "minilm-fiqa-pairs-glot-gat-seed0-2cab5c32"),
    ({"backbone": "minilm", "task": "reuters-r8", "pooling": "glot", "glot": {"graph_window": 64}, "lr": 0.002,
      "warmup_ratio": 0.1, "max_grad_norm": 1.0, "max_length": 512, "max_train": 1000, "max_eval": 500},
     "minilm-reuters-r8-glot-seed0-a86002cc"),
    ({"backbone": "gemma3-270m", "task": "fiqa-pairs", "pooling": "adapool", "glot": {}, "lr": 0.002,
      "warmup_ratio": 0.1, "max_grad_norm": 1.0, "max_train": 2000, "max_eval": 1000},
     "gemma3-270m-fiqa-pairs-adapool-seed0-51bce209"),
]


@pytest.mark.parametrize("config,name", EARLIER_RUNS)
def test_run_names_are_those_of_the_folders_written_when_glot_was_a_dict(config, name):
    label = "glot-gat" if config["glot"].get("conv") == "gat" else None  # glot benchmark's method name
    assert run_name(TrainConfig(**config), label) == name
    as_options = {**config, "glot": GlotOptions.of_pooling(config["pooling"], config["glot"])}
    assert run_name(TrainConfig(**as_options), label) == name
    # run_config.json round-trips: what a resumed run reads back is the same config
    saved = json.loads(json.dumps(config_dict(TrainConfig(**config))))
    assert saved["glot"] == config["glot"] and TrainConfig(**saved) == TrainConfig(**config)


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
    with pytest.raises(ValueError, match="`glot` must be a GlotOptions or a dict"):
        TrainConfig(glot=[("conv", "gat")])
