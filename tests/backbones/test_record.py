"""The backbone record: worked out once per command, and what it says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentence_transformers_glot.backbones.record import BackboneRecord


def test_a_short_name_is_known_without_converting_anything(monkeypatch):
    def no_conversion(*args, **kwargs):
        raise AssertionError("a short name's record converts nothing")

    monkeypatch.setattr("sentence_transformers_glot.backbones.record.resolve_backbone", no_conversion)
    record = BackboneRecord.of("gemma3-270m")
    assert (record.decoder, record.hidden_size, record.num_layers, record.max_positions) == (True, 640, 18, 32768)
    assert BackboneRecord.of("minilm").decoder is False


def test_a_folder_is_read_from_its_config(tiny_bert_dir, tiny_llama_dir):
    bert = BackboneRecord.of(tiny_bert_dir)
    config = json.loads((Path(tiny_bert_dir) / "config.json").read_text())
    assert (bert.decoder, bert.hidden_size, bert.max_positions) == (False, config["hidden_size"],
                                                                    config["max_position_embeddings"])
    assert BackboneRecord.of(tiny_llama_dir).decoder is True
    assert bert.folder() == tiny_bert_dir and bert.fingerprint().startswith("dir:")


def test_an_unreadable_backbone_is_one_error_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="no-such-org/no-such-model"):
        BackboneRecord.of("no-such-org/no-such-model")
    with pytest.raises(ValueError, match="did you mean 'minilm'"):  # a typo of a short name, said as such
        BackboneRecord.of("minlm")
    with pytest.raises(ValueError, match="does not exist"):
        BackboneRecord.of(str(tmp_path / "nope"))


def test_glot_train_reads_the_backbone_once_for_all_its_runs(tiny_bert_dir, tmp_path, monkeypatch):
    """Three poolings, one command: the backbone's config is read once and its files fingerprinted once (the
    run names, the length check, the pooling builder and the cache all take the record)."""
    from sentence_transformers_glot.backbones import record, registry
    from sentence_transformers_glot.cli import main

    counts = {"config": 0, "fingerprint": 0}
    read, fingerprint = registry.load_config_dict, record.backbone_fingerprint

    def counted_read(*args, **kwargs):
        counts["config"] += 1
        return read(*args, **kwargs)

    def counted_fingerprint(*args, **kwargs):
        counts["fingerprint"] += 1
        return fingerprint(*args, **kwargs)

    for module in (registry, record):
        monkeypatch.setattr(module, "load_config_dict", counted_read)
    monkeypatch.setattr(record, "backbone_fingerprint", counted_fingerprint)
    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "mine.csv"
    data.write_text("text,label\n" + "".join(f"text {i} {'good' if i % 2 else 'bad'},{i % 2}\n" for i in range(60)))
    assert main(["train", "--backbone", tiny_bert_dir, "--task", str(data), "--pooling", "glot", "mean", "adapool",
                 "--epochs", "1", "--no-export", "--runs", str(tmp_path / "runs")]) == 0
    assert counts == {"config": 1, "fingerprint": 1}
    assert len(list((tmp_path / "runs").iterdir())) == 3
