"""Transfer between tasks: a run's pooling started from trained weights (``--init-from``), and optionally frozen
(``--freeze-pooling``), so that only the new task head trains.

The source is a run folder (its exported ``model/``), an exported model folder (a sentence-transformers folder
holding a GlotPooling module) or a saved GlotPooling folder. Its pooling must be the one the run would build: the
same options (``"auto"`` made concrete for the backbone) on the same kind of backbone; anything else is refused in
one line naming what differs. The source's weights file is part of the run's identity
(:func:`source_weights`), so a run started from other weights is another run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sentence_transformers_glot.decoders import config_is_decoder
from sentence_transformers_glot.options import resolve_auto_options

#: The HF config entries that must agree between the source's backbone and the run's.
BACKBONE_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")


def pooling_folder(init_from: str | os.PathLike) -> Path:
    """The folder of the GlotPooling that ``init_from`` names: a run folder's ``model/``, an exported model's
    GlotPooling module (from its ``modules.json``), or a GlotPooling folder itself; ``ValueError`` otherwise."""
    source = Path(init_from)
    if (source / "run_config.json").is_file():
        if not (source / "model" / "modules.json").is_file():
            raise ValueError(f"--init-from {source}: the run holds no exported model (it was trained with "
                             "--no-export, or has not finished); train it again without --no-export.")
        source = source / "model"
    if (source / "modules.json").is_file():
        modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
        found = [m for m in modules if m.get("type", "").endswith(".GlotPooling")]
        if not found:
            raise ValueError(f"--init-from {source}: the model has no GlotPooling module (its pooling is "
                             f"{', '.join(m.get('type', '?') for m in modules[1:]) or 'none'}); start from a GLOT "
                             "or AdaPool run instead.")
        return source / found[0]["path"]
    if (source / "config.json").is_file() and (source / "model.safetensors").is_file():
        return source
    raise ValueError(f"--init-from {source}: not a run folder, an exported model or a saved GlotPooling "
                     "(no run_config.json, modules.json or config.json with model.safetensors there).")


def source_weights(init_from: str | os.PathLike) -> Path:
    """The weights file of the source's pooling (hashed into the run's identity)."""
    return pooling_folder(init_from) / "model.safetensors"


def _backbone_config(pooling: Path) -> dict[str, Any] | None:
    """The HF config of the backbone the source was trained on, when the source says (an exported model's)."""
    model = pooling.parent
    config = model / "config.json"
    if (model / "modules.json").is_file() and config.is_file():
        return json.loads(config.read_text(encoding="utf-8"))
    return None


def init_pooling(pooling: Any, init_from: str | os.PathLike, backbone_folder: str) -> None:
    """Load the source's pooling weights into ``pooling`` (built for the run), after checking that the source has
    the same options and was trained on the same kind of backbone; ``ValueError`` naming what differs."""
    from sentence_transformers_glot.pooling import GlotPooling

    folder = pooling_folder(init_from)
    source = GlotPooling.load(str(folder))  # its checksums verified
    run_backbone = json.loads((Path(backbone_folder) / "config.json").read_text(encoding="utf-8"))
    decoder = config_is_decoder(run_backbone)  # a saved module's "auto" options compare as what they do here
    ours, theirs = ({**c, **resolve_auto_options(c, decoder)}
                    for c in (pooling.get_config_dict(), source.get_config_dict()))
    different = [f"{key}={theirs.get(key)!r} (this run: {ours.get(key)!r})" for key in ours
                 if key != "format_version" and ours.get(key) != theirs.get(key)]
    if different:
        raise ValueError(f"--init-from {init_from}: its pooling differs from this run's: {', '.join(different)}; give "
                         "the run the source's options (or drop --init-from).")
    source_backbone = _backbone_config(folder)
    if source_backbone is not None:
        mismatch = [f"{key} {source_backbone.get(key)!r} (this run: {run_backbone.get(key)!r})"
                    for key in BACKBONE_KEYS if source_backbone.get(key) != run_backbone.get(key)]
        if mismatch:
            raise ValueError(f"--init-from {init_from}: it was trained on another backbone: {', '.join(mismatch)}; "
                             "use a source trained on this run's backbone.")
    pooling.load_state_dict(source.state_dict())
