"""Named configurations: GlotPooling.preset, and the layers from the embeddings to the last that glot-plus mixes."""

from __future__ import annotations

import pytest

from sentence_transformers_glot import GlotPooling


def test_spread_layers_run_from_the_embeddings_to_the_last_layer():
    from sentence_transformers_glot.pooling import spread_layers

    assert spread_layers(6) == [0, 1, 2, 3, 4, 5, 6]
    assert spread_layers(30) == [0, 5, 10, 15, 20, 25, 30]
    assert spread_layers(18) == [0, 3, 6, 9, 12, 15, 18]
    assert spread_layers(12, count=4) == [0, 4, 8, 12]
    for depth in range(1, 60):
        layers = spread_layers(depth)
        assert layers[0] == 0 and layers[-1] == depth and len(layers) == min(depth + 1, 7)
        assert layers == sorted(set(layers))
    with pytest.raises(ValueError, match="`num_hidden_layers` must be a positive int"):
        spread_layers(0)


def test_presets_build_the_named_configurations_and_round_trip(tmp_path):
    from sentence_transformers_glot.pooling import PRESETS

    paper = GlotPooling.preset("paper", word_embedding_dimension=16)
    assert paper.get_config_dict() == GlotPooling(16, attention_sink="keep", input_norm="none").get_config_dict()
    plus = GlotPooling.preset("glot-plus", word_embedding_dimension=16, num_hidden_layers=4)
    config = plus.get_config_dict()
    assert {key: config[key] for key in PRESETS["glot-plus"]} == PRESETS["glot-plus"]
    assert plus.layers == [0, 1, 2, 3, 4] and plus.layer_weights.shape == (5,)
    assert GlotPooling.preset("glot-plus", 16, layers=[-2, -1], threshold=0.5).layers == [-2, -1]
    plus.save(str(tmp_path))
    assert GlotPooling.load(str(tmp_path)).get_config_dict() == config  # a preset is plain config, not a name
    with pytest.raises(ValueError, match=r"pass `num_hidden_layers`.*or `layers=\[...\]`"):
        GlotPooling.preset("glot-plus", word_embedding_dimension=16)
    with pytest.raises(ValueError, match="`name` must be one of"):
        GlotPooling.preset("glot++", word_embedding_dimension=16)
