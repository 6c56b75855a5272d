"""GlotPooling's saved files: ``config.json`` (with its format version and the migration of older ones) and
``model.safetensors`` (checked tensor by tensor against the config)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from safetensors.torch import load_file as load_safetensors
from safetensors.torch import save_file as save_safetensors
from torch import Tensor, nn

from sentence_transformers_glot.io import atomic_write, atomic_write_text, read_json, verify_checksums, write_checksums
from sentence_transformers_glot.legacy import ADDED_IN_FORMAT, POOLING_BEFORE
from sentence_transformers_glot.options import is_int

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
#: 2 added sequence_window, edge_weight, input_norm and layers; 3 added include_prompt; 4 added attention_sink
#: and edge_density; 5 added graph_window; 6 allows input_norm "auto" (no key added: every config since 2 holds
#: input_norm). An older config reads with the values of the keys added since that reproduce the model it was
#: saved from (an older model pooled every token: attention_sink "keep").
FORMAT_VERSION = 6
#: Per format version, the config keys it added and the values that reproduce an older model (from the one table
#: of what came before, :mod:`sentence_transformers_glot.legacy`).
ADDED_KEYS: dict[int, dict[str, Any]] = {version: {key: POOLING_BEFORE[key] for key in keys}
                                         for version, keys in ADDED_IN_FORMAT.items()}


def save_module(state: dict[str, Tensor], config: dict[str, Any], output_path: str) -> None:
    """Write ``config`` as ``config.json``, ``state`` as ``model.safetensors`` and their SHA-256 list
    (:func:`~sentence_transformers_glot.io.write_checksums`) to ``output_path``, each atomically."""
    os.makedirs(output_path, exist_ok=True)
    tensors = {name: t.detach().contiguous().cpu() for name, t in state.items()}
    atomic_write(os.path.join(output_path, WEIGHTS_NAME), lambda path: save_safetensors(tensors, path))
    atomic_write_text(os.path.join(output_path, CONFIG_NAME), json.dumps(config, indent=2))
    write_checksums(output_path)


def verify_saved_files(model_name_or_path: str, subfolder: str = "") -> None:
    """Check a local GlotPooling folder (``model_name_or_path/subfolder``) against its own SHA-256 list and, when the
    model folder holds one (an export, or :func:`~sentence_transformers_glot.loading.save_glot_model`), the
    entries of that list under ``subfolder``; a changed or missing file raises ``ValueError`` naming it. Folders
    saved before lists were written, and Hub ids, have nothing to check."""
    if not os.path.isdir(model_name_or_path):
        return
    verify_checksums(os.path.join(model_name_or_path, subfolder))
    if subfolder:
        verify_checksums(model_name_or_path, under=subfolder)


def read_config(path: str, config_keys: Sequence[str]) -> dict[str, Any]:
    """The saved ``config.json`` at ``path`` with the keys added since its format version (:data:`ADDED_KEYS`);
    raises ``ValueError`` naming the file for a newer format or keys other than ``config_keys``."""
    try:
        config = read_json(path)
    except ValueError as err:
        raise ValueError(f"GlotPooling: {err}") from err
    if not isinstance(config, dict):
        raise ValueError(f"GlotPooling: {path} must hold a JSON object; got {type(config).__name__}.")
    version = config.pop("format_version", FORMAT_VERSION)
    if not is_int(version) or version > FORMAT_VERSION:
        raise ValueError(
            f"GlotPooling: {path} has format_version {version!r}; this sentence-transformers-glot reads "
            f"format_version <= {FORMAT_VERSION}. Upgrade sentence-transformers-glot."
        )
    for added, keys in ADDED_KEYS.items():  # keys a config saved before `added` does not have
        if version < added:
            config = {**{key: value for key, value in keys.items() if key not in config}, **config}
    unknown = sorted(set(config) - set(config_keys))
    missing = sorted(set(config_keys) - set(config))
    if unknown or missing:
        raise ValueError(
            f"GlotPooling: {path} does not match the GlotPooling config: unknown keys {unknown}, missing keys "
            f"{missing}."
        )
    return config


def load_weights(module: nn.Module, path: str) -> None:
    """Load ``model.safetensors`` at ``path`` into ``module`` (as float32); raises ``ValueError`` naming the file
    and every missing, unexpected or mis-shaped tensor."""
    try:
        state = load_safetensors(path)
    except Exception as err:  # safetensors raises its own error types for truncated/corrupt files
        raise ValueError(f"GlotPooling: cannot read {path}: {err}") from err
    expected = module.state_dict()
    problems = []
    for name in sorted(set(expected) - set(state)):
        problems.append(f"missing {name}")
    for name in sorted(set(state) - set(expected)):
        problems.append(f"unexpected {name}")
    for name in sorted(set(state) & set(expected)):
        if state[name].shape != expected[name].shape:
            problems.append(
                f"{name} has shape {tuple(state[name].shape)}, config implies {tuple(expected[name].shape)}")
    if problems:
        raise ValueError(f"GlotPooling: weights in {path} do not match its config.json: " + "; ".join(problems))
    module.load_state_dict({name: t.float() for name, t in state.items()})


def load_pooling_config(cls: type, model_name_or_path: str, config_filename: str | None = None,
                        **hub: Any) -> dict[str, Any]:
    """The keyword arguments of a saved GlotPooling (``cls``): its ``config.json`` found through sentence-
    transformers' ``load_file_path`` (a folder or the Hub; ``hub``: subfolder, token, revision, ...), migrated
    (:func:`read_config`) and checked as GlotOptions (a bad value raises ``ValueError`` naming the file)."""
    from sentence_transformers_glot.options import OPTION_NAMES, GlotOptions

    path = cls.load_file_path(model_name_or_path, filename=config_filename or CONFIG_NAME, **hub)
    if path is None:
        where = os.path.join(model_name_or_path, hub.get("subfolder", ""))
        raise FileNotFoundError(f"GlotPooling: no {config_filename or CONFIG_NAME} in {where}.")
    config = read_config(path, cls.config_keys)
    try:
        GlotOptions(**{name: config[name] for name in OPTION_NAMES})
    except ValueError as err:
        raise ValueError(f"{err} (in {path})") from err
    return config


def load_pooling(cls: type, model_name_or_path: str, **hub: Any) -> nn.Module:
    """A saved GlotPooling (``cls``): its files verified (:func:`verify_saved_files`), its config
    (:func:`load_pooling_config`), then its weights (:func:`load_weights`); errors name the file."""
    where = os.path.join(model_name_or_path, hub.get("subfolder", ""))
    verify_saved_files(model_name_or_path, hub.get("subfolder", ""))
    config = cls.load_config(model_name_or_path, **hub)
    try:
        module = cls(**config)
    except ValueError as err:
        raise ValueError(f"{err} (in {os.path.join(where, CONFIG_NAME)})") from err
    weights_path = cls.load_file_path(model_name_or_path, filename=WEIGHTS_NAME, **hub)
    if weights_path is None:
        raise FileNotFoundError(f"GlotPooling: no {WEIGHTS_NAME} in {where}.")
    load_weights(module, weights_path)
    return module
