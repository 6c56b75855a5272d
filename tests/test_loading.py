"""load_glot_model loads a GLOT folder without a blanket trust_remote_code: a foreign module type or auto_map code
is refused."""

from __future__ import annotations

import json

import pytest
from helpers import glot_model

from sentence_transformers_glot import load_glot_model
from sentence_transformers_glot.loading import check_glot_model


def test_load_glot_model_refuses_foreign_code(tiny_bert_dir, tmp_path):
    model = glot_model(tiny_bert_dir, threshold=0.3)
    model.save(str(tmp_path))
    modules_path = tmp_path / "modules.json"
    modules = json.loads(modules_path.read_text())
    assert [m["type"].split(".")[0] for m in modules] == ["sentence_transformers", "sentence_transformers_glot"]
    check_glot_model(str(tmp_path))
    modules[1]["type"] = "evil_package.Pooling"
    modules_path.write_text(json.dumps(modules))
    with pytest.raises(ValueError, match="evil_package.Pooling"):
        load_glot_model(str(tmp_path))
    modules[1]["type"] = "sentence_transformers_glot.pooling.GlotPooling"
    modules_path.write_text(json.dumps(modules))
    config = json.loads((tmp_path / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="auto_map"):
        load_glot_model(str(tmp_path))

