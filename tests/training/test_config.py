"""TrainConfig: checked on construction (``glot`` a GlotOptions, the layers, warm-up and clipping), and the run
folders written before keep their names."""

from __future__ import annotations

import json

import pytest

from sentence_transformers_glot.data.registry import task_head
from sentence_transformers_glot.options import GlotOptions
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.run_identity import config_dict, config_from_dict, run_name

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
    # what the folder's run_config.json describes (it predates head_norm): its name is the folder's
    earlier = config_from_dict(config)
    assert run_name(earlier, label) == name
    # the same options as a GlotOptions (input_norm as these runs had it: "auto" came later)
    options = GlotOptions.of_pooling(config["pooling"], {"input_norm": "none", **config["glot"]})
    as_options = config_from_dict({**config, "glot": options})
    assert run_name(as_options, label) == name
    # the default now normalises a pair-classification head: that is another run, with another name
    assert (run_name(TrainConfig(**config), label) == name) is (task_head(config["task"]) != "pair-classification")
    # run_config.json round-trips: what a resumed run reads back is the same config
    saved = json.loads(json.dumps(config_dict(earlier)))
    assert saved["glot"] == config["glot"] and config_from_dict(saved) == earlier


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


def test_an_unset_max_eval_does_not_change_a_runs_identity(tmp_path):
    """Run folders written before ``max_eval`` existed keep their names; setting it gives a new run."""
    from sentence_transformers_glot.training.run_identity import config_dict as _config_dict

    assert "max_eval" not in _config_dict(TrainConfig(max_train=100))
    assert _config_dict(TrainConfig(max_eval=5))["max_eval"] == 5
    assert run_name(TrainConfig(max_eval=5)) != run_name(TrainConfig())


def test_head_norm_defaults_to_pair_classification_heads_and_names_only_runs_it_changes():
    # single-text and similarity tasks: the default does what every run did before it, so names stay
    for task in ("movie-polarity", "acceptability", "sentiment-similarity", "cola", "stsb"):
        assert "head_norm" not in config_dict(TrainConfig(task=task)), task
        assert run_name(TrainConfig(task=task)) == run_name(TrainConfig(task=task, head_norm=False))
    # a pair-classification task: the default normalises, so its runs get new names (older folders of that
    # task held runs without it and are not read back as if they had it)
    for task in ("fiqa-pairs", "mrpc", "qqp"):
        assert config_dict(TrainConfig(task=task))["head_norm"] is True, task
        assert run_name(TrainConfig(task=task)) == run_name(TrainConfig(task=task, head_norm=True))
        assert run_name(TrainConfig(task=task)) != run_name(TrainConfig(task=task, head_norm=False))
    assert config_dict(TrainConfig(task="movie-polarity", head_norm=True))["head_norm"] is True
    # a data file's head is known only once it is read: the default is named as such (and reads back as such)
    assert config_dict(TrainConfig(task="my/pairs.csv"))["head_norm"] is None
    # read back, the run is the same run (input_norm "auto" comes back as what it does on the encoder: "none")
    data_file = TrainConfig(task="my/pairs.csv")
    assert config_dict(config_from_dict(config_dict(data_file))) == config_dict(data_file)
    assert config_from_dict(config_dict(TrainConfig(task="fiqa-pairs"))).head_norm is True
    assert config_dict(TrainConfig(task="my/pairs.csv", head="pair-classification"))["head_norm"] is True
    assert "head_norm" not in config_dict(TrainConfig(task="my/pairs.csv", head="similarity"))
    with pytest.raises(ValueError, match="`head_norm` must be True, False or None"):
        TrainConfig(head_norm=1)


def test_input_norm_auto_names_a_run_by_what_it_does_on_the_backbone():
    """input_norm's default became "auto" after runs were named: an encoder's default run keeps its name (auto is
    no normalisation there), a decoder's default run is named as the same run with input_norm="layer" (and not
    as the runs made before, which normalised nothing), and a run_config.json without the option reads back as
    those earlier runs."""
    for backbone, concrete in (("minilm", "none"), ("gemma3-270m", "layer"), ("smollm2-135m", "layer")):
        default = TrainConfig(backbone=backbone, task="movie-polarity")
        explicit = TrainConfig(backbone=backbone, task="movie-polarity", glot={"input_norm": concrete})
        assert default.glot.input_norm == "auto"
        assert run_name(default) == run_name(explicit)
        assert config_dict(default)["glot"] == ({} if concrete == "none" else {"input_norm": "layer"})
        raw = TrainConfig(backbone=backbone, task="movie-polarity", glot={"input_norm": "none"})
        assert (run_name(default) == run_name(raw)) is (concrete == "none")
        assert "input_norm" not in config_dict(raw)["glot"]  # the earlier runs' identity: their names stay
        assert config_from_dict(config_dict(raw)).glot.input_norm == "none"
        assert config_from_dict(config_dict(default)).glot.input_norm == concrete
    # a baseline is named the same way: mean pooling of LayerNormed decoder states is mean+ln's run
    mean = TrainConfig(backbone="gemma3-270m", task="movie-polarity", pooling="mean")
    assert config_dict(mean)["glot"] == {"input_norm": "layer"}


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
