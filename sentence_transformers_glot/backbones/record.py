"""A backbone as a command knows it: worked out once per command (:meth:`BackboneRecord.of`) and passed down to
the run's identity, the pooling builder, the length check and the cache, so that nothing below the command
reads the backbone's files again to learn the same facts.

A short name's record comes from the registry without converting anything; a folder's from its
``config.json``; a Hub id's from its config (``AutoConfig``). The folder itself (a packaged decoder is converted
on first use) and the cache's fingerprint of its files are worked out when first asked for, once.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from sentence_transformers_glot.backbones.registry import (
    BACKBONES,
    config_position_limit,
    load_config_dict,
    resolve_backbone,
)
from sentence_transformers_glot.decoders import config_is_decoder


@dataclasses.dataclass
class BackboneRecord:
    """What a command needs to know about its backbone.

    Attributes:
        name: the backbone as the user named it (short name, folder or Hub id): what configs and run names hold.
        decoder: whether it is a decoder-only model (what the ``"auto"`` options resolve from).
        hidden_size: the width of its token states.
        max_positions: the most tokens it takes (None: its config states no limit).
        num_layers: its number of hidden layers.
    """

    name: str
    decoder: bool
    hidden_size: int | None
    max_positions: int | None
    num_layers: int | None
    _folder: str | None = dataclasses.field(default=None, repr=False, compare=False)
    _fingerprint: str | None = dataclasses.field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, name: str) -> BackboneRecord:
        """The record of the backbone ``name``; one that cannot be read raises ``ValueError`` naming it."""
        spec = BACKBONES.get(name.strip().lower()) if isinstance(name, str) else None
        if spec is not None:
            return cls(name, spec.decoder, spec.hidden_size, spec.max_positions, spec.num_layers)
        resolve_backbone(name)  # a missing folder or a short name's typo is named as such (converts nothing here)
        try:
            config = load_config_dict(str(name))
        except OSError as err:
            raise ValueError(f"backbone {name!r}: cannot read its config ({str(err).splitlines()[0]})") from None
        text = config.get("text_config") or config
        return cls(name, config_is_decoder(config), _int(text.get("hidden_size")), config_position_limit(config),
                   _int(text.get("num_hidden_layers")))

    def folder(self) -> str:
        """What ``Transformer`` loads (:func:`~sentence_transformers_glot.backbones.registry.resolve_backbone`),
        resolved on first use (a packaged decoder is converted then, once)."""
        if self._folder is None:
            self._folder = resolve_backbone(self.name)
        return self._folder

    def fingerprint(self) -> str:
        """The hidden-state cache's key of the backbone's files
        (:func:`backbone_fingerprint`), computed once."""
        if self._fingerprint is None:
            self._fingerprint = backbone_fingerprint(self.folder())
        return self._fingerprint


def backbone_fingerprint(path_or_id: str, revision: str | None = None) -> str:
    """A string that changes when the backbone's weights, config or tokenizer change.

    For a local folder: SHA-256 of its config and tokenizer files and of each weight file's size and
    first and last MiB (weights are large; a re-trained checkpoint differs there). For a Hub id: the id
    and the resolved commit of ``revision``.
    """
    folder = Path(path_or_id)
    if not folder.is_dir():
        from huggingface_hub import HfApi

        commit = HfApi().model_info(path_or_id, revision=revision).sha
        return f"hub:{path_or_id}@{commit}"
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = file.relative_to(folder).as_posix()
        if file.suffix in (".json", ".txt", ".model", ".jinja"):
            digest.update(name.encode() + file.read_bytes())
        elif file.suffix in (".safetensors", ".bin", ".gguf"):
            size = file.stat().st_size
            with open(file, "rb") as f:
                head = f.read(1 << 20)
                f.seek(max(0, size - (1 << 20)))
                tail = f.read()
            digest.update(name.encode() + str(size).encode() + head + tail)
    return f"dir:{digest.hexdigest()}"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
