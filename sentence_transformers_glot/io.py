"""File infrastructure shared by the whole package: atomic writes, fsync, SHA-256 of a file, JSON files that
name themselves when damaged, cache roots.

Atomic writes: a reader sees the old file (or folder) or the complete new one, never a partial write, and
what is published has the permissions of the process's umask, as a plain write would.
This module imports only the standard library, so the data tools and ``glot --help`` stay light.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

PACKAGE_CACHE = Path("~") / ".cache" / "sentence-transformers-glot"


# ---------------------------------------------------------------------------------------------------------------
# Cache roots
# ---------------------------------------------------------------------------------------------------------------


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir``, else ``$GLOT_CACHE_DIR``, else ``~/.cache/sentence-transformers-glot``."""
    root = cache_dir or os.environ.get("GLOT_CACHE_DIR") or PACKAGE_CACHE
    return Path(os.path.expanduser(str(root)))


def states_root() -> Path:
    """The token-state cache: ``<cache_root()>/states``."""
    return cache_root() / "states"


def data_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The data cache: ``cache_dir``, else ``$GLOT_DATA_DIR``, else ``~/.cache/sentence-transformers-glot/data``
    (the data cache does not follow ``$GLOT_CACHE_DIR``)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("GLOT_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return PACKAGE_CACHE.expanduser() / "data"


# ---------------------------------------------------------------------------------------------------------------
# Checksums and flushing
# ---------------------------------------------------------------------------------------------------------------


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """Hex SHA-256 of a file's bytes, read in ``chunk``-byte blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


#: The file in an exported model folder that lists the SHA-256 of every other file in it.
CHECKSUMS_NAME = "glot_checksums.json"


def write_checksums(folder: str | os.PathLike) -> Path:
    """Write ``CHECKSUMS_NAME`` into ``folder`` (atomically): the SHA-256 of every file under it, by relative
    path (a list further down, a module's own, is listed too)."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() != CHECKSUMS_NAME)
    sums = {p.relative_to(folder).as_posix(): sha256_file(p) for p in files}
    path = folder / CHECKSUMS_NAME
    atomic_write_text(path, json.dumps({"sha256": sums}, indent=1))
    return path


def verify_checksums(folder: str | os.PathLike, under: str = "") -> bool:
    """Check the files ``CHECKSUMS_NAME`` lists in ``folder`` (only those under the subfolder ``under``, when given);
    ``False`` when the folder has no such list (a model saved before lists were written), ``True`` when all match.
    A missing or changed file raises ``ValueError`` naming it."""
    folder = Path(folder)
    listing = folder / CHECKSUMS_NAME
    if not listing.is_file():
        return False
    entries = read_json(listing)
    sums = entries.get("sha256") if isinstance(entries, dict) else None
    if not isinstance(sums, dict):
        raise ValueError(f"{listing}: not a checksum list; save or export the model again.")
    prefix = under.strip("/") + "/" if under.strip("/") else ""
    for name, expected in sums.items():
        if not name.startswith(prefix):
            continue
        path = folder / name
        if not path.is_file():
            raise ValueError(f"{path}: missing from the saved model (its checksum list names it); save or export the "
                             "model again (a run folder: rerun `glot train` on it).")
        if sha256_file(path) != expected:
            raise ValueError(f"{path}: damaged (its SHA-256 differs from the one written when it was saved); save or "
                             "export the model again (a run folder: rerun `glot train` on it).")
    return True


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def fsync_tree(folder: str | os.PathLike) -> None:
    """Flush every file below ``folder`` to disk."""
    for file in sorted(Path(folder).rglob("*")):
        if file.is_file():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def umask_permissions(path: str | os.PathLike) -> None:
    """Give ``path`` (and, for a folder, everything below it) the permissions a plain ``open`` / ``mkdir``
    would: ``0o666`` / ``0o777`` less the umask. The temporary files and folders of the atomic writes are
    created private (0600 / 0700), and some writers (safetensors) make 0600 files; without this, other users
    and containers could not read exported models, checkpoints or caches."""
    umask = current_umask()
    path = Path(path)
    for item in [path, *sorted(path.rglob("*"))] if path.is_dir() else [path]:
        if item.is_symlink():
            continue
        os.chmod(item, (0o777 if item.is_dir() else 0o666) & ~umask)


# ---------------------------------------------------------------------------------------------------------------
# Atomic writes
# ---------------------------------------------------------------------------------------------------------------


def write_error(target: str | os.PathLike, error: BaseException) -> OSError | None:
    """A one-line ``OSError`` naming ``target`` and the cause when ``error`` is a full disk, a read-only folder
    or a missing permission (as ``OSError``, numpy's short-write message, or a safetensors error); ``None`` for
    anything else."""
    import errno

    text = str(error)
    target = Path(target)
    code = getattr(error, "errno", None)
    folder = target.parent if target.parent.exists() else target
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if code == errno.ENOSPC or "requested and" in text or "StorageFull" in text or "No space left" in text:
        try:
            free = f"{shutil.disk_usage(folder).free / 2**20:,.0f} MiB free"
        except OSError:
            free = "free space unknown"
        return OSError(f"cannot write {target}: no space left on the disk that holds {folder} ({free}); free some "
                       "space or choose another folder (--output, --runs, $GLOT_CACHE_DIR)")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "Read-only file system" in text:
        cause = "the file system is read-only" if code == errno.EROFS or "Read-only" in text else "permission denied"
        return OSError(f"cannot write {target}: {cause}; choose a folder you can write to (--output, --runs, "
                       "$GLOT_CACHE_DIR)")
    return None


def atomic_write(target: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``target``, flush it to disk, rename it to ``target``.

    If ``write`` raises (or the process is interrupted), ``target`` is untouched and the temporary file removed.
    """
    target = Path(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as err:
        raise (write_error(target, err) or err) from err
    os.close(fd)
    try:
        write(tmp)
        umask_permissions(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        better = write_error(target, err)
        if better is not None:
            raise better from err
        raise


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    atomic_write(target, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    atomic_write_bytes(target, text.encode("utf-8"))


def check_writable_folder(folder: str | os.PathLike, option: str) -> None:
    """Raise ``OSError`` naming ``option`` unless ``folder`` is, or can be made, a folder this process can write.

    Checked before long work (a cache build, a training run), so an unwritable output fails at once.
    """
    path = Path(folder).absolute()
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"{option} {str(folder)!r}: {existing} is a file, not a folder; choose another "
                                 "folder")
    probe = existing / f".glot-write-check-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as err:
        raise PermissionError(f"{option} {str(folder)!r}: cannot write in {existing} ({err.strerror}); choose a "
                              "folder you can write to") from None


def read_text_file(path: str | os.PathLike, encoding: str = "utf-8") -> str:
    """The text of the file ``path``; bytes that are not ``encoding`` raise ``ValueError`` naming the file, the
    line and the fix (an ``encoding`` option: every command that reads users' files has ``--encoding``)."""
    data = Path(path).read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ValueError(f"{Path(path).name}, line {line}: not {encoding} text (byte {data[error.start]:#04x}); "
                         "pass the file's encoding (e.g. --encoding latin-1) or save it as UTF-8") from None
    except LookupError:
        raise ValueError(f"encoding={encoding!r}: not a text encoding Python knows (e.g. utf-8, latin-1, "
                         "cp1252)") from None


def read_json(path: str | os.PathLike) -> object:
    """The JSON value in the file ``path``; a file that is not valid UTF-8 JSON raises ``ValueError`` naming it.

    Every run, model and cache file is read through here, so a damaged one says which it is and what to do.
    """
    try:
        return json.loads(Path(path).read_bytes().decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start}); repair or delete the file.") from err
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err.msg}, line {err.lineno} column {err.colno}); "
                         "repair or delete the file.") from err


def remove_path(path: str | os.PathLike) -> None:
    """Remove a folder tree, a file or a link; silent when it is already gone."""
    path = Path(path)
    shutil.rmtree(path, ignore_errors=True)
    if path.exists() or path.is_symlink():  # ignore_errors hides failures; a file or link needs unlink
        with contextlib.suppress(OSError):
            path.unlink()


def atomic_write_folder(target: str | os.PathLike, write: Callable[[str], None], *,
                        temp_prefix: str | None = None) -> None:
    """Call ``write(tmp_folder)`` on a hidden temporary folder beside ``target``, then rename it to ``target``.

    ``target`` holds either nothing, its previous complete contents, or the complete new contents, never a
    partial write. An existing ``target`` is first renamed aside (``.<name>.*.old``) and removed after the
    new folder is in place; only a crash between those two renames leaves ``target`` missing, with the old
    contents still in the ``.old`` folder. On an exception the temporary folder is removed.

    Args:
        temp_prefix: name prefix of the temporary folder (default ``.<name>.``), for a caller that cleans up
            the leftovers of interrupted writes by name.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix or f".{target.name}.", suffix=".part", dir=target.parent))
    except OSError as err:
        raise (write_error(target, err) or err) from err
    try:
        write(str(tmp))
        umask_permissions(tmp)  # the folder and its files as a plain mkdir / open would make them
        fsync_tree(tmp)
        if target.is_symlink() or target.is_file():  # not a folder: nothing to keep aside
            remove_path(target)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old)  # replaces the empty placeholder folder
            os.replace(tmp, target)
            remove_path(old)
        else:
            os.replace(tmp, target)
    except BaseException as err:
        remove_path(tmp)
        better = write_error(target, err)
        if better is not None:
            raise better from err
        raise
