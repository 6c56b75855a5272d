"""Decoder tokenizers fit for embeddings.

The converted decoder tokenizers carry no chat template (sentence-transformers >= 6 would otherwise wrap
plain sentences in chat messages), always have a pad token (the GGUF's own, else eos) and pad on the right
(written into ``tokenizer_config.json``; Gemma's tokenizer class defaults to left). With right padding and
causal attention a sentence's real tokens keep positions 0..n-1 and never see a pad, so its token states are
those of encoding it alone; GlotPooling and sentence-transformers' ``lasttoken`` pooling handle either side.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
TEMPLATE_DIR = "additional_chat_templates"


def prepare_decoder_tokenizer(tokenizer: Any, *, padding_side: str = "right") -> dict[str, Any]:
    """Make a decoder tokenizer fit for embeddings, in place; returns what it found and changed.

    Removes the chat template (sentence-transformers >= 6 renders plain text through it when present), sets
    a pad token when there is none (eos, else unk), and sets ``padding_side``.
    """
    facts: dict[str, Any] = {
        "padding_side_original": tokenizer.padding_side,
        "had_chat_template": bool(getattr(tokenizer, "chat_template", None)),
    }
    tokenizer.chat_template = None
    if tokenizer.pad_token is None:
        fallback = "eos" if tokenizer.eos_token is not None else "unk"
        pad = tokenizer.eos_token if fallback == "eos" else tokenizer.unk_token
        if pad is None:
            raise ValueError("the tokenizer has no pad, eos or unk token to pad with")
        tokenizer.pad_token = pad
        facts["pad_token_source"] = fallback
    else:
        facts["pad_token_source"] = "tokenizer"
    facts["pad_token"] = tokenizer.pad_token
    facts["eos_token"] = tokenizer.eos_token
    tokenizer.padding_side = padding_side
    facts["padding_side"] = padding_side
    return facts


def strip_chat_template(folder: str | os.PathLike) -> list[str]:
    """Delete every chat template saved in ``folder``; returns what was removed.

    Removes ``chat_template.jinja``, ``chat_template.json``, the ``additional_chat_templates`` folder and the
    ``chat_template`` key of ``tokenizer_config.json`` / ``processor_config.json``.
    """
    folder = Path(folder)
    removed = []
    for file_name in TEMPLATE_FILES:
        if (folder / file_name).is_file():
            (folder / file_name).unlink()
            removed.append(file_name)
    if (folder / TEMPLATE_DIR).is_dir():
        shutil.rmtree(folder / TEMPLATE_DIR)
        removed.append(TEMPLATE_DIR)
    for config_name in ("tokenizer_config.json", "processor_config.json"):
        config_file = folder / config_name
        if not config_file.is_file():
            continue
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if "chat_template" in config:
            del config["chat_template"]
            config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            removed.append(f"{config_name}:chat_template")
    return removed


def save_decoder_tokenizer(tokenizer: Any, folder: str | os.PathLike, *, max_length: int | None = None) -> dict:
    """``prepare_decoder_tokenizer`` + ``save_pretrained`` + ``strip_chat_template``; returns the facts."""
    facts = prepare_decoder_tokenizer(tokenizer)
    if max_length:
        tokenizer.model_max_length = int(max_length)
    tokenizer.save_pretrained(str(folder))
    facts["removed_chat_template_files"] = strip_chat_template(folder)
    # Some tokenizer classes default to left padding and save_pretrained may omit the side: write it.
    config_file = Path(folder) / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if config.get("padding_side") != tokenizer.padding_side:
        config["padding_side"] = tokenizer.padding_side
        config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return facts
