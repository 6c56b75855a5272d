"""Training checkpoints that detect their own damage.

A checkpoint file is one header line, ``GLOT-CHECKPOINT 1 <sha256 of the payload>``, then the payload:
``torch.save`` of the model and optimiser state, the RNG state and the loop's progress. Each save first
moves the current file to ``<name>.prev`` and then writes the new one atomically, so there is always a good
state on disk. :func:`load_checkpoint` checks the digest; a damaged file (flipped bytes, truncation) is
reported and the previous checkpoint is used, or, when that is damaged or missing too, the run starts from
scratch. Checkpoints written before the header existed load without a check.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from pathlib import Path
from typing import Any

import torch

from sentence_transformers_glot.io import atomic_write_bytes

logger = logging.getLogger(__name__)

MAGIC = b"GLOT-CHECKPOINT 1 "
PREVIOUS_SUFFIX = ".prev"


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` with its checksum, keeping the checkpoint it replaces as ``<path>.prev``."""
    path = Path(path)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    if path.exists():
        os.replace(path, _previous(path))
    atomic_write_bytes(path, MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The state saved in one checkpoint file; ``ValueError`` naming the file if it is damaged."""
    data = Path(path).read_bytes()
    if data.startswith(MAGIC):
        header, _, payload = data.partition(b"\n")
        if hashlib.sha256(payload).hexdigest().encode() != header[len(MAGIC):]:
            raise ValueError(f"{path}: checksum mismatch (the file is damaged)")
    else:
        payload = data  # written before checkpoints carried a checksum
    try:
        return torch.load(io.BytesIO(payload), weights_only=True)
    except Exception as err:  # a legacy file that is damaged fails here
        raise ValueError(f"{path}: not a readable checkpoint ({err})") from err


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any] | None:
    """The newest good state saved at ``path`` (or its ``.prev``), or ``None`` to start from scratch.

    Each damaged file is reported (a warning naming it) and removed, so that the next save starts clean.
    """
    path = Path(path)
    damaged = False
    for candidate in (path, _previous(path)):
        if not candidate.exists():
            continue
        try:
            state = read_checkpoint(candidate)
        except FileNotFoundError:  # removed meanwhile (another rank of a data-parallel run saw it damaged)
            continue
        except ValueError as err:
            logger.warning("%s; removed", err)
            candidate.unlink(missing_ok=True)
            damaged = True
            continue
        if candidate != path:
            logger.warning("resuming from the previous checkpoint, %s", candidate)
        return state
    if damaged:
        logger.warning("no good checkpoint in %s: the run starts from scratch", path.parent)
    return None


def _previous(path: Path) -> Path:
    return path.with_name(path.name + PREVIOUS_SUFFIX)
