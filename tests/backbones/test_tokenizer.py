"""Decoder tokenizers fit for embeddings: a pad token, right padding, and no chat template in any form."""

from __future__ import annotations

import json

import pytest
from helpers import CHAT_TEMPLATE, tiny_tokenizer

from sentence_transformers_glot.backbones.tokenizer import (
    prepare_decoder_tokenizer,
    save_decoder_tokenizer,
    strip_chat_template,
)


@pytest.mark.parametrize(
    ("kwargs", "pad", "source"),
    [({}, "</s>", "eos"), ({"pad": True}, "<pad>", "tokenizer"), ({"eos": False}, "<unk>", "unk")],
)
def test_prepare_decoder_tokenizer_sets_pad_removes_template_pads_right(kwargs, pad, source):
    tokenizer = tiny_tokenizer(**kwargs)
    facts = prepare_decoder_tokenizer(tokenizer)
    assert tokenizer.pad_token == pad and facts["pad_token"] == pad and facts["pad_token_source"] == source
    assert tokenizer.chat_template is None and facts["had_chat_template"] is True
    assert tokenizer.padding_side == "right" and facts["padding_side_original"] == "left"
    batch = tokenizer(["w1 w2 w3", "w4"], padding=True)
    assert batch["attention_mask"][1] == [1, 0, 0]


def test_saved_decoder_tokenizer_has_no_chat_template(tmp_path):
    from transformers import AutoTokenizer

    tokenizer = tiny_tokenizer()
    tokenizer.save_pretrained(tmp_path / "before")
    saved_before = {p.name for p in (tmp_path / "before").iterdir()}
    before = json.loads((tmp_path / "before" / "tokenizer_config.json").read_text())
    assert "chat_template.jinja" in saved_before or "chat_template" in before  # the template would be saved

    facts = save_decoder_tokenizer(tiny_tokenizer(), tmp_path / "after", max_length=64)
    files = {p.name for p in (tmp_path / "after").iterdir()}
    assert not files & {"chat_template.jinja", "chat_template.json"}
    config = json.loads((tmp_path / "after" / "tokenizer_config.json").read_text())
    assert "chat_template" not in config and config["padding_side"] == "right"
    reloaded = AutoTokenizer.from_pretrained(tmp_path / "after")
    assert reloaded.chat_template is None and reloaded.pad_token == "</s>" and reloaded.padding_side == "right"
    assert reloaded.model_max_length == 64
    assert facts["pad_token_source"] == "eos"


def test_strip_chat_template_removes_every_form(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE, "eos_token": "x"}))
    (tmp_path / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    (tmp_path / "chat_template.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE}))
    (tmp_path / "additional_chat_templates").mkdir()
    (tmp_path / "additional_chat_templates" / "tool_use.jinja").write_text(CHAT_TEMPLATE)
    removed = strip_chat_template(tmp_path)
    assert set(removed) == {
        "chat_template.jinja", "chat_template.json", "additional_chat_templates", "tokenizer_config.json:chat_template",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokenizer_config.json"]
    assert json.loads((tmp_path / "tokenizer_config.json").read_text()) == {"eos_token": "x"}
    assert strip_chat_template(tmp_path) == []
