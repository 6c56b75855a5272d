"""The backbone store: converted backbone folders under ``$GLOT_CACHE_DIR/backbones/<name>`` (default
``~/.cache/sentence-transformers-glot/backbones/<name>``).

A folder is published atomically: a conversion writes into a hidden temp folder beside the target, writes
the manifest ``glot_backbone.json`` last, and renames the folder into place; only a folder whose manifest
matches its files is trusted. A file lock serialises conversions of one name across processes; temp folders
left by a killed conversion are removed by the next one.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from sentence_transformers_glot.io import atomic_write_folder, cache_root, remove_path

logger = logging.getLogger(__name__)


#: Bump when the conversion recipe changes: cached folders with another version are rebuilt.
CACHE_FORMAT_VERSION = 1
#: Written last into a converted folder; a folder without a matching manifest is never used.
MANIFEST_NAME = "glot_backbone.json"
#: Seconds to wait for another process's conversion of the same backbone (``GLOT_LOCK_TIMEOUT`` overrides).
DEFAULT_LOCK_TIMEOUT = 1800.0


# Converter: writes a complete Hugging Face folder (config, weights, tokenizer) into the given empty folder and
# returns facts to record in the manifest.
Converter = Callable[[Path], Mapping[str, Any]]


def notice(message: str) -> None:
    """Log at INFO, and print to stderr when INFO is not shown, so the one-time conversion is never silent."""
    if logger.isEnabledFor(logging.INFO):
        logger.info(message)
    else:
        print(f"[sentence-transformers-glot] {message}", file=sys.stderr, flush=True)


def _folder_files(folder: Path) -> dict[str, int]:
    return {
        str(file.relative_to(folder)): file.stat().st_size
        for file in sorted(folder.rglob("*"))
        if file.is_file() and file.name != MANIFEST_NAME
    }


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a published folder if it is complete and matches the files on disk, else None."""
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format_version") != CACHE_FORMAT_VERSION:
        return None
    files = manifest.get("files")
    if not isinstance(files, dict) or "config.json" not in files:
        return None
    for relative, size in files.items():
        try:
            if (folder / relative).stat().st_size != size:
                return None
        except OSError:
            return None
    return manifest


def _check_converted(folder: Path) -> None:
    if not (folder / "config.json").is_file():
        raise RuntimeError(f"conversion wrote no config.json into {folder}")
    if not any(folder.glob("*.safetensors")):
        raise RuntimeError(f"conversion wrote no .safetensors weights into {folder}")
    if not (folder / "tokenizer_config.json").is_file():
        raise RuntimeError(f"conversion wrote no tokenizer into {folder}")


def _write_manifest(folder: Path, name: str, facts: Mapping[str, Any], seconds: float) -> None:
    manifest = {
        "format_version": CACHE_FORMAT_VERSION,
        "name": name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "conversion_seconds": round(seconds, 1),
        **dict(facts),
        "files": _folder_files(folder),
    }
    target = folder / MANIFEST_NAME
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, default=str)
        handle.flush()
        os.fsync(handle.fileno())


def _temp_prefix(name: str) -> str:
    return f".{name}.tmp-"


def _acquire(path: Path, name: str, timeout: float):
    """The conversion lock ``path``, taken at once or after saying that another process holds it; a lock still
    taken after ``timeout`` seconds raises ``TimeoutError`` naming the file."""
    from filelock import FileLock, Timeout  # installed with huggingface_hub (a transformers dependency)

    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        notice(f"waiting (up to {timeout:.0f} s) for another process converting backbone {name!r} ...")
        try:
            lock.acquire(timeout=timeout)
        except Timeout as err:
            raise TimeoutError(
                f"backbone {name!r}: the conversion lock {path} stayed taken for {timeout:.0f} s. If no other "
                "process is converting, delete that file and retry."
            ) from err
    return lock


def cached_backbone(
    name: str,
    converter: Converter,
    *,
    cache_dir: str | os.PathLike | None = None,
    lock_timeout: float | None = None,
) -> Path:
    """The converted folder ``<cache root>/backbones/<name>``, running ``converter`` once to make it.

    A folder is used only when its manifest (written last) lists files whose sizes match the disk. Otherwise,
    holding the lock ``.<name>.lock``, this removes leftover ``.<name>.tmp-*`` folders (an interrupted
    conversion: their owner no longer holds the lock) and any untrusted folder at the target, runs
    ``converter(temp_folder)``, checks that it wrote config, safetensors weights and a tokenizer, writes the
    manifest, and renames the temp folder into place. A process that finds the lock taken waits for it and
    then uses the other process's result.

    Raises:
        TimeoutError: the lock stayed taken for ``lock_timeout`` seconds (default ``$GLOT_LOCK_TIMEOUT`` or
            1800).
    """
    root = cache_root(cache_dir) / "backbones"
    target = root / name
    if _read_manifest(target) is not None:
        return target
    root.mkdir(parents=True, exist_ok=True)
    if lock_timeout is None:
        lock_timeout = float(os.environ.get("GLOT_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
    lock = _acquire(root / f".{name}.lock", name, lock_timeout)
    try:
        if _read_manifest(target) is not None:  # another process finished while we waited
            return target
        for stale in root.glob(_temp_prefix(name) + "*"):
            logger.info("removing %s, left by an interrupted conversion", stale)
            remove_path(stale)
        start = time.perf_counter()

        def convert(temp: str) -> None:
            facts = converter(Path(temp)) or {}
            _check_converted(Path(temp))
            _write_manifest(Path(temp), name, facts, time.perf_counter() - start)

        if target.exists() or target.is_symlink():
            logger.info("replacing %s: no valid manifest", target)
        # flushed and given umask permissions (safetensors writes 0600 files) before the rename
        atomic_write_folder(target, convert, temp_prefix=f"{_temp_prefix(name)}{os.getpid()}-")
        size = sum(_folder_files(target).values())
        notice(f"backbone {name!r} ready: {target} ({size / 2**20:.0f} MiB, {time.perf_counter() - start:.0f} s)")
        return target
    finally:
        lock.release()
