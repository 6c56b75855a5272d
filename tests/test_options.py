"""GlotOptions: GlotPooling's keywords as data, checked without torch."""

from __future__ import annotations

import dataclasses
import inspect

from helpers import modules_loaded_after

from sentence_transformers_glot.options import GlotOptions


def test_glot_options_mirror_glotpooling_keywords():
    from sentence_transformers_glot.pooling import GlotPooling

    signature = inspect.signature(GlotPooling.__init__).parameters
    keywords = {name: p.default for name, p in signature.items() if name not in ("self", "word_embedding_dimension")}
    assert {f.name: f.default for f in dataclasses.fields(GlotOptions)} == keywords
    assert GlotPooling(8, **dataclasses.asdict(GlotOptions())).get_config_dict() == GlotPooling(8).get_config_dict()


def test_glot_options_check_themselves_without_torch():
    loaded = modules_loaded_after("from sentence_transformers_glot.options import GlotOptions\n"
                           "import numpy\n"
                           "options = GlotOptions(top_k=numpy.int64(4), threshold=numpy.float32(0.5))\n"
                           "assert type(options.top_k) is int and type(options.threshold) is float\n"
                           "for bad in ({'conv': 'x'}, {'threshold': 2}, {'num_layers': 0, 'sequence_window': 2}):\n"
                           "    try:\n"
                           "        GlotOptions(**bad)\n"
                           "    except ValueError as err:\n"
                           "        assert 'GlotPooling: ' in str(err)\n"
                           "    else:\n"
                           "        raise AssertionError(bad)")
    assert "torch" not in loaded
    from sentence_transformers_glot.options import OPTION_NAMES
    from sentence_transformers_glot.pooling import GlotPooling

    assert GlotPooling.config_keys == ["word_embedding_dimension", *OPTION_NAMES]
