"""A model's stable identity: a SHA-256 of what decides its embeddings, and the name and revision MTEB files
its results under.

mteb caches results per model name (``model_card_data.model_name``) and revision, and by default reuses what it
finds; a GLOT model saved from a run has no name, so every one of them would read ``no_model_name_available``
and a second head on the same backbone would silently receive the first head's scores.
:func:`name_model` gives a model the name ``glot-local/<folder name>-<12 hex>`` from :func:`model_fingerprint`
(every parameter and buffer by content, with its name, dtype and shape; each module's class and config; the
backbone's Hugging Face config and tokenizer; max length, prompts, similarity function and ``truncate_dim``):
two models with other weights or options get other names, the same model loaded twice gets the same name.
:func:`~sentence_transformers_glot.loading.load_glot_model` names every model it loads, and a model with GLOT's
card data (:class:`~sentence_transformers_glot.model_card.GlotModelCardData`: every model holding a GlotPooling
on sentence-transformers 6.x, or after ``use_glot_card``) answers mteb with :func:`live_identity`, so that
weights changed after loading (further training, ``p.data`` edits) and settings changed since
(``model.truncate_dim = 64``, ``max_seq_length``, prompts, a ``Normalize`` module) get a new name.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

#: Organisation part of the derived model names (mteb wants ``org/name``).
NAME_PREFIX = "glot-local"


def _update_tensor(digest: Any, name: str, tensor: Any) -> None:
    import torch

    tensor = tensor.detach().to("cpu").contiguous()
    digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}\n".encode())
    digest.update(memoryview(tensor.reshape(-1).view(torch.uint8).numpy()))


def _jsonable(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _settings(model: SentenceTransformer) -> str:
    """The model's own settings that change its embeddings: truncation, prompts, similarity, Matryoshka width."""
    return _jsonable({name: getattr(model, name, None) for name in
                      ("max_seq_length", "prompts", "default_prompt_name", "similarity_fn_name", "truncate_dim")})


def state_key(model: SentenceTransformer) -> tuple[str, str, str]:
    """What decides ``model``'s embeddings apart from its tokenizer and backbone config, read afresh: a SHA-256 of
    every parameter and buffer's content (so that changes through ``.data``, ``copy_`` or a swapped tensor
    count, which torch's version counters miss), each module's class and config (a ``Normalize`` added or
    removed counts), and :func:`_settings`. One pass over the weights: about 0.1 s for MiniLM's 90 MB."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        _update_tensor(digest, name, tensor)
    modules = [(f"{type(m).__module__}.{type(m).__qualname__}",
                m.get_config_dict() if callable(getattr(m, "get_config_dict", None)) else None)
               for m in model.children()]
    return digest.hexdigest(), _jsonable(modules), _settings(model)


def model_fingerprint(model: SentenceTransformer, key: tuple[str, str, str] | None = None) -> str:
    """SHA-256 (hex) of what decides a SentenceTransformer's embeddings: :func:`state_key` (weights, module configs,
    settings; give ``key`` when already computed), the backbone's Hugging Face config and the tokenizer."""
    digest = hashlib.sha256()
    for part in key or state_key(model):
        digest.update(f"{part}\n".encode())
    for module in model.children():
        auto_model = getattr(module, "auto_model", None)
        if auto_model is not None and hasattr(auto_model, "config"):
            hf_config = {k: v for k, v in auto_model.config.to_dict().items()
                         if k not in ("_name_or_path", "transformers_version", "name_or_path")}
            digest.update(f"hf config {_jsonable(hf_config)}\n".encode())
        tokenizer = getattr(module, "tokenizer", None)
        if tokenizer is not None:
            backend = getattr(tokenizer, "backend_tokenizer", None)
            if backend is not None:  # without the padding/truncation state that each encode call sets
                state = {k: v for k, v in json.loads(backend.to_str()).items() if k not in ("padding", "truncation")}
                text = _jsonable(state)
            else:
                text = _jsonable(sorted(tokenizer.get_vocab().items()))
            digest.update(f"tokenizer {type(tokenizer).__name__} {getattr(tokenizer, 'padding_side', None)} "
                          f"{getattr(tokenizer, 'do_lower_case', None)}\n".encode())
            digest.update(text.encode())
    return digest.hexdigest()


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "model"


def result_name(model: SentenceTransformer, folder: str | os.PathLike | None = None,
                name: str | None = None) -> tuple[str, str]:
    """The mteb ``(model name, revision)`` of a model: see the module docstring.

    Args:
        model: the loaded model (fingerprinted with :func:`model_fingerprint`).
        folder: the folder it was loaded from; its name (with the parent's name when the folder is called
            ``model``, as in run folders) starts the derived name. Without it, the model card's name or ``model``.
        name: use this name instead of the derived one (``org/name``; ``glot-local/`` is prepended when it has no
            ``/``). The revision is still the fingerprint, so two models never share results.
    """
    fingerprint = model_fingerprint(model)
    if name is None:
        if folder is not None:
            path = Path(folder).expanduser().resolve()
            base = f"{path.parent.name}-{path.name}" if path.name == "model" and path.parent.name else path.name
        else:
            card_name = getattr(getattr(model, "model_card_data", None), "model_name", None)
            if _current(card_name, fingerprint):  # named by name_model, and unchanged since
                return card_name, fingerprint[:32]
            base = str(card_name).rstrip("/").rsplit("/", 1)[-1] if card_name else "model"
        name = f"{NAME_PREFIX}/{_clean(base)}-{fingerprint[:12]}"
    elif "/" not in name:
        name = f"{NAME_PREFIX}/{name}"
    return name, fingerprint[:32]


def name_model(model: SentenceTransformer, folder: str | os.PathLike | None = None) -> str:
    """Set ``model.model_card_data.model_name`` (what mteb names results by) to :func:`result_name`, unless the
    model has a name of its own (or one from an earlier call that still matches its weights); returns it."""
    card = getattr(model, "model_card_data", None)
    if card is None:
        return ""
    name = getattr(card, "model_name", None)
    if not name or (name.startswith(f"{NAME_PREFIX}/") and not _current(name, model_fingerprint(model))):
        card.model_name = result_name(model, folder)[0]  # unnamed, or ours but the weights changed since
    return card.model_name


def _current(name: str | None, fingerprint: str) -> bool:
    return bool(name) and name.startswith(f"{NAME_PREFIX}/") and name.endswith(f"-{fingerprint[:12]}")


def is_users_name(model: SentenceTransformer, name: str | None) -> bool:
    """Whether a card's ``name`` was given by a user: not empty, not derived here (``glot-local/...``) and not
    sentence-transformers' default (the model's class name, "... based on <base model>")."""
    return bool(name) and not name.startswith(f"{NAME_PREFIX}/") and not name.startswith(type(model).__name__)


def live_identity(model: SentenceTransformer, stored_name: str | None) -> tuple[str, str]:
    """The ``(model name, revision)`` mteb should file ``model``'s results under right now.

    ``stored_name`` is the card's own name: a user's name (kept, with the current fingerprint as the revision),
    or none, sentence-transformers' default, or one derived earlier (``glot-local/<base>-<12 hex>``), which
    are all replaced by ``glot-local/<base>-<current 12 hex>``. Each call reads the weights' content
    (:func:`state_key`); the tokenizer and backbone config are fingerprinted again only when that key changed.
    """
    key = state_key(model)
    cached = getattr(model, "_glot_identity", None)
    if cached is None or cached[0] != key:
        cached = (key, model_fingerprint(model, key))
        model._glot_identity = cached
    fingerprint = cached[1]
    if is_users_name(model, stored_name):
        return stored_name, fingerprint[:32]
    base = "model"
    if stored_name and stored_name.startswith(f"{NAME_PREFIX}/"):
        base = re.sub(r"-[0-9a-f]{12}$", "", stored_name[len(NAME_PREFIX) + 1 :]) or "model"
    return f"{NAME_PREFIX}/{_clean(base)}-{fingerprint[:12]}", fingerprint[:32]
