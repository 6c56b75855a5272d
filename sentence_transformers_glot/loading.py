"""Save a GLOT model atomically, and load one without handing out a blanket ``trust_remote_code``.

Since sentence-transformers 6.0 a module class outside the ``sentence_transformers.*`` namespace, such as
``sentence_transformers_glot.pooling.GlotPooling``, loads only with ``trust_remote_code=True``, even from a
local folder. That flag would also let the backbone's config run repository code (``auto_map``).
:func:`load_glot_model` first checks that the model names only sentence-transformers and
sentence-transformers-glot classes and no repository code, and only then passes the flag.
"""

from __future__ import annotations

import os
from typing import Any

from sentence_transformers import SentenceTransformer
from sentence_transformers.util import load_file_path

from sentence_transformers_glot.assembly import prepare_model
from sentence_transformers_glot.identity import name_model
from sentence_transformers_glot.io import atomic_write_folder, read_json, verify_checksums, write_checksums
from sentence_transformers_glot.model_card import use_glot_card

TRUSTED_PREFIXES = ("sentence_transformers.", "sentence_transformers_glot.")


def _json(model_name_or_path: str, filename: str, **hub: Any) -> Any:
    path = load_file_path(model_name_or_path, filename, **hub)
    if path is None:
        return None
    return read_json(path)


def check_glot_model(model_name_or_path: str, **hub: Any) -> list[dict[str, Any]]:
    """Return the model's ``modules.json`` after checking it needs no code beyond the two packages.

    Raises:
        ValueError: a module class comes from another package, or a module's config has an ``auto_map``
            (repository code). Load such a model with ``SentenceTransformer(..., trust_remote_code=True)``
            only if you trust its source.
    """
    modules = _json(model_name_or_path, "modules.json", **hub)
    if modules is None:
        raise ValueError(
            f"load_glot_model: {model_name_or_path} has no modules.json; is it a saved SentenceTransformer?")
    foreign = [m["type"] for m in modules if not m["type"].startswith(TRUSTED_PREFIXES)]
    if foreign:
        raise ValueError(
            f"load_glot_model: {model_name_or_path} uses module classes outside sentence-transformers(-glot): "
            f"{foreign}. Load it with SentenceTransformer(path, trust_remote_code=True) if you trust it."
        )
    for module in modules:
        config = _json(model_name_or_path, os.path.join(module["path"], "config.json") if module["path"] else
                       "config.json", **hub)
        if isinstance(config, dict) and "auto_map" in config:
            raise ValueError(
                f"load_glot_model: {model_name_or_path}/{module['path']} asks for repository code (auto_map). "
                "Load it with SentenceTransformer(path, trust_remote_code=True) if you trust it."
            )
    return modules


def load_glot_model(model_name_or_path: str, **kwargs: Any) -> SentenceTransformer:
    """Load a saved GLOT model (a local folder or a Hub id) as a ``SentenceTransformer``.

    Equivalent to ``SentenceTransformer(model_name_or_path, trust_remote_code=True, **kwargs)`` once the
    folder's checksums (an export of ``glot train``: ``glot_checksums.json``) match and
    :func:`check_glot_model` has verified that the flag admits no code beyond sentence-transformers and
    sentence-transformers-glot. Keyword arguments go to ``SentenceTransformer``. The model gets a name from a
    hash of its weights and config (:func:`~sentence_transformers_glot.identity.name_model`), so that
    ``mteb.evaluate(model, tasks)`` keeps its results apart from every other model's.
    """
    hub = {k: kwargs[k] for k in ("token", "cache_folder", "revision", "local_files_only") if k in kwargs}
    if os.path.isdir(str(model_name_or_path)):  # an export of `glot train` lists its files' SHA-256
        verify_checksums(model_name_or_path)
    check_glot_model(str(model_name_or_path), **hub)
    model = SentenceTransformer(str(model_name_or_path), trust_remote_code=True, **kwargs)
    folder = model_name_or_path if os.path.isdir(str(model_name_or_path)) else None
    name_model(model, folder)  # a name of its own, so that mteb never gives it another model's cached results
    from sentence_transformers_glot.pooling import GlotPooling

    # sentence-transformers 5.x has no on_model_ready
    prepare_model(model, [module for module in model if isinstance(module, GlotPooling)])
    return model


def save_glot_model(model: SentenceTransformer, path: str | os.PathLike, **kwargs: Any) -> None:
    """``model.save(path, **kwargs)``, atomically: the model is written to a temporary folder beside ``path``
    and renamed into place, so an interrupted save never leaves a folder at ``path`` that looks like a model
    (see :func:`~sentence_transformers_glot.io.atomic_write_folder`), with the SHA-256 of every file
    (``glot_checksums.json``, verified by :func:`load_glot_model`). The model card says how to install the
    plugin and load the model (:func:`~sentence_transformers_glot.model_card.use_glot_card`)."""
    use_glot_card(model)

    def write(tmp: str) -> None:
        model.save(tmp, **kwargs)
        write_checksums(tmp)

    atomic_write_folder(path, write)
