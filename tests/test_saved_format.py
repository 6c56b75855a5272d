"""A saved GlotPooling's files: format versions read with the values that reproduce older models, and the
checksum list every save writes and every load verifies."""

from __future__ import annotations

import json

import pytest

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.saved_format import FORMAT_VERSION, read_config, verify_saved_files


def test_an_older_format_reads_with_the_keys_added_since(tmp_path):
    GlotPooling(8, hidden_dim=4).save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["format_version"] == FORMAT_VERSION
    for key in ("include_prompt", "attention_sink", "edge_density", "graph_window"):
        del config[key]
    config["format_version"] = 2
    (tmp_path / "old.json").write_text(json.dumps(config))
    read = read_config(str(tmp_path / "old.json"), GlotPooling.config_keys)
    assert (read["include_prompt"], read["attention_sink"], read["graph_window"]) == (True, "keep", None)
    config["format_version"] = FORMAT_VERSION + 1
    (tmp_path / "new.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="Upgrade sentence-transformers-glot"):
        read_config(str(tmp_path / "new.json"), GlotPooling.config_keys)


def test_every_save_lists_its_files_and_a_changed_one_is_named(tmp_path):
    GlotPooling(8, hidden_dim=4).save(str(tmp_path / "m" / "1_GlotPooling"))
    verify_saved_files(str(tmp_path / "m"), "1_GlotPooling")  # intact
    weights = tmp_path / "m" / "1_GlotPooling" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x00")
    with pytest.raises(ValueError, match="model.safetensors: damaged"):
        verify_saved_files(str(tmp_path / "m"), "1_GlotPooling")
    verify_saved_files("org/hub-model", "1_GlotPooling")  # a Hub id: nothing local to check
