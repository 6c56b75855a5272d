"""The one table of what came before: older run folders, older saved models and the paper preset all read it."""

from __future__ import annotations

import dataclasses

from sentence_transformers_glot.legacy import ADDED_IN_FORMAT, CHANGED_DEFAULTS, POOLING_BEFORE, TRAINING_BEFORE
from sentence_transformers_glot.options import OPTION_NAMES, GlotOptions
from sentence_transformers_glot.presets import PAPER_TRAINING, PRESETS
from sentence_transformers_glot.saved_format import ADDED_KEYS, FORMAT_VERSION
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.run_identity import config_from_dict


def test_every_option_added_since_the_first_format_has_its_old_value_and_version():
    added = [name for keys in ADDED_IN_FORMAT.values() for name in keys]
    # every entry of the table is an option added after the first format or one whose default changed (conv)
    assert set(POOLING_BEFORE) == set(added) | set(CHANGED_DEFAULTS) and set(POOLING_BEFORE) <= set(OPTION_NAMES)
    assert max(ADDED_IN_FORMAT) == FORMAT_VERSION
    assert ADDED_KEYS == {v: {k: POOLING_BEFORE[k] for k in keys} for v, keys in ADDED_IN_FORMAT.items()}
    GlotOptions(**POOLING_BEFORE)  # the old values are valid options
    assert set(CHANGED_DEFAULTS) <= set(POOLING_BEFORE)


def test_an_old_run_config_and_the_paper_preset_read_the_table():
    fields = {spec.name for spec in dataclasses.fields(TrainConfig)}
    assert set(TRAINING_BEFORE) <= fields
    old = config_from_dict({"backbone": "minilm", "task": "movie-polarity", "pooling": "glot", "glot": {}})
    assert all(getattr(old, name) == value for name, value in TRAINING_BEFORE.items())
    assert all(getattr(old.glot, name) == POOLING_BEFORE[name] for name in CHANGED_DEFAULTS)
    assert PRESETS["paper"] == {"attention_sink": POOLING_BEFORE["attention_sink"],
                                "input_norm": POOLING_BEFORE["input_norm"], "conv": "sage"}
    assert TrainConfig(**PAPER_TRAINING).max_grad_norm is None and PAPER_TRAINING["warmup_ratio"] == 0.0
