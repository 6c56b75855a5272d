"""A run's identity: names that never change, run_config.json read back, options named by what they do."""

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
        assert config_dict(default)["glot"] == ({} if concrete == "none" else {"input_norm": "layer", "conv": "gat"})
        raw = TrainConfig(backbone=backbone, task="movie-polarity", glot={"input_norm": "none", "conv": "sage"})
        assert (run_name(default) == run_name(raw)) is (concrete == "none")
        assert config_dict(raw)["glot"] == {}  # the earlier runs' identity: their names stay
        assert config_from_dict(config_dict(raw)).glot.input_norm == "none"
        assert config_from_dict(config_dict(default)).glot.input_norm == concrete
    # a baseline is named the same way: mean pooling of LayerNormed decoder states is mean+ln's run (a baseline
    # has no conv, so conv's new default leaves its name alone)
    mean = TrainConfig(backbone="gemma3-270m", task="movie-polarity", pooling="mean")
    assert config_dict(mean)["glot"] == {"input_norm": "layer"}
    assert config_from_dict(config_dict(mean)).glot.conv == "auto"


def test_conv_auto_names_a_run_by_the_conv_it_builds():
    """conv's default became "auto" (GAT on decoders, SAGE on encoders) after runs were named: an encoder's
    default run keeps its name, a decoder's default run is the run of --conv gat, and a run_config.json without
    conv reads back as the SAGE runs made before."""
    for backbone, conv in (("minilm", "sage"), ("gemma3-270m", "gat"), ("smollm2-135m", "gat")):
        default = TrainConfig(backbone=backbone, task="movie-polarity")
        assert run_name(default) == run_name(TrainConfig(backbone=backbone, task="movie-polarity",
                                                         glot={"conv": conv}))
        sage = TrainConfig(backbone=backbone, task="movie-polarity", glot={"conv": "sage"})
        assert "conv" not in config_dict(sage)["glot"] and config_from_dict(config_dict(sage)).glot.conv == "sage"
        assert config_from_dict(config_dict(default)).glot.conv == conv
