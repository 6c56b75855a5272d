"""On-disk cache of a frozen backbone's token states.

The backbone never changes during head training, so each text's token states are computed once and
memory-mapped afterwards, across epochs, runs and pooling configurations.

Key. A cache entry is named by the SHA-256 of everything that changes the states: the backbone's
fingerprint (its config, tokenizer files and weight files; for a Hub id, the resolved revision), the
maximum sequence length, the layer (or list of layers), the storage dtype, the cache format version, and
the texts themselves (in order). Two tasks that share texts share states; a changed text, backbone,
revision, max_length or layer is a different entry.

Layout. ``<root>/<key>/`` holds ``meta.json`` and shards of ``shard_size`` texts: ``shard-NNNNN.tokens.npy``
(the real tokens of the shard's texts, concatenated, ``(T, d)``, or ``(T, n, d)`` for an entry of ``n``
layers), ``shard-NNNNN.lengths.npy`` and, written
last, ``shard-NNNNN.json`` with both files' SHA-256. A shard without a valid commit record, or whose
checksums disagree, is rebuilt; a build that was killed resumes at the first missing shard. A file lock
makes concurrent builders of one entry take turns. Under ``torch.distributed`` (torchrun) the ranks split
the missing shards between them and every rank then reads the whole entry (:meth:`StateCache._build_distributed`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from filelock import FileLock
from torch import Tensor
from tqdm.auto import tqdm

from sentence_transformers_glot.backbones.record import backbone_fingerprint  # noqa: F401  (importable from here)
from sentence_transformers_glot.backbones.states import Layer
from sentence_transformers_glot.distributed import rank_and_world
from sentence_transformers_glot.io import atomic_write, atomic_write_text, read_json, sha256_file, states_root
from sentence_transformers_glot.options import CACHE_DTYPES

CACHE_FORMAT = 1
DEFAULT_SHARD_SIZE = 2048


def _layer_json(layer: Layer) -> int | list[int]:
    return layer if isinstance(layer, int) else [int(i) for i in layer]


def cache_key(fingerprint: str, texts: Sequence[str], max_length: int, layer: Layer, dtype: str) -> str:
    """SHA-256 naming a cache entry; see the module docstring for what it covers.

    ``layer`` is one hidden-state index, or a list of them for an entry that stores several layers.
    """
    digest = hashlib.sha256()
    header = {"format": CACHE_FORMAT, "backbone": fingerprint, "max_length": max_length,
              "layer": _layer_json(layer), "dtype": dtype}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for text in texts:
        encoded = text.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "little") + encoded)
    return digest.hexdigest()


def _save_npy(path: str, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, array)


@dataclass
class TokenStates:
    """Read-only, memory-mapped token states of ``n`` texts.

    ``packed(indices)`` returns the texts' float32 token states packed in order, ``(N, d)`` (``(N, n, d)`` for an
    entry of ``n`` layers), and the ``(B, L)`` bool mask of the real tokens they fill: what
    :meth:`GlotPooling.pool_packed <sentence_transformers_glot.pooling.GlotPooling.pool_packed>` reads, never
    padded (training's path). ``batch(indices)`` returns them zero-padded, ``(B, L, d)``, with the mask.
    ``dim`` is ``d``.
    """

    shards: list[np.ndarray]
    lengths: np.ndarray
    shard_size: int
    dim: int

    def __post_init__(self) -> None:
        self._offsets = [np.concatenate([[0], np.cumsum(self.lengths[i : i + self.shard_size])])
                         for i in range(0, len(self.lengths), self.shard_size)]

    def __len__(self) -> int:
        return len(self.lengths)

    def _rows(self, indices: Sequence[int] | np.ndarray) -> list[np.ndarray]:
        rows = []
        for index in np.asarray(indices, dtype=np.int64):
            shard, local = divmod(int(index), self.shard_size)
            start = self._offsets[shard][local]
            rows.append(self.shards[shard][start : start + self.lengths[index]])  # a view of the memory map
        return rows

    def batch(self, indices: Sequence[int] | np.ndarray) -> tuple[Tensor, Tensor]:
        return pad_states(self._rows(indices), self.shards[0].shape[1:])

    def packed(self, indices: Sequence[int] | np.ndarray) -> tuple[Tensor, Tensor]:
        return pack_states(self._rows(indices), self.shards[0].shape[1:])


def pad_states(rows: Sequence[np.ndarray], token_shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Per-text ``(length_i, *token_shape)`` states -> zero-padded float32 ``(B, L, *token_shape)`` and a bool
    mask ``(B, L)`` (right padding; ``L`` at least 1)."""
    lengths = np.array([len(row) for row in rows], dtype=np.int64)
    out = np.zeros((len(rows), int(lengths.max(initial=1)), *token_shape), dtype=np.float32)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    mask = np.arange(out.shape[1])[None, :] < lengths[:, None]
    return torch.from_numpy(out), torch.from_numpy(mask)


def pack_states(rows: Sequence[np.ndarray], token_shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Per-text ``(length_i, *token_shape)`` states -> float32 ``(N, *token_shape)``, the rows one after another,
    and the ``(B, L)`` bool mask of the real tokens they fill (right padding; ``L`` at least 1): the layout of
    :func:`pad_states` without its padding."""
    lengths = np.array([len(row) for row in rows], dtype=np.int64)
    packed = np.concatenate(rows).astype(np.float32, copy=False) if rows else np.zeros((0, *token_shape), np.float32)
    mask = np.arange(int(lengths.max(initial=1)))[None, :] < lengths[:, None]
    return torch.from_numpy(np.ascontiguousarray(packed)), torch.from_numpy(mask)


class StateCache:
    """Builds and opens cache entries under ``root``.

    Args:
        root: cache folder (default :func:`sentence_transformers_glot.io.states_root`:
            ``$GLOT_CACHE_DIR/states`` or ``~/.cache/sentence-transformers-glot/states``).
        shard_size: texts per shard; a killed build loses at most one shard of work.
        dtype: storage dtype, ``"float16"`` (half the disk, ~1e-3 relative error) or ``"float32"``.
    """

    def __init__(self, root: str | os.PathLike | None = None, shard_size: int = DEFAULT_SHARD_SIZE,
                 dtype: str = "float16") -> None:
        if dtype not in CACHE_DTYPES:
            raise ValueError(f"StateCache: `dtype` must be 'float16' or 'float32'; got {dtype!r}.")
        self.root = Path(root) if root is not None else states_root()
        self.shard_size = shard_size
        self.dtype = dtype

    def get_or_build(
        self,
        texts: Sequence[str],
        encode: Callable[[list[str]], list[np.ndarray]],
        fingerprint: str,
        max_length: int,
        layer: Layer = -1,
        description: str = "",
        batch_size: int = 64,
    ) -> TokenStates:
        """Token states of ``texts``, computed with ``encode`` where not cached yet.

        ``encode(list_of_texts)`` returns one ``(length_i, d)`` array of real-token states per text
        (``(length_i, n, d)`` when ``layer`` lists ``n`` layers).
        """
        if len(texts) == 0:
            raise ValueError(f"StateCache: no texts to encode for {description or 'this split'}.")
        key = cache_key(fingerprint, texts, max_length, layer, self.dtype)
        folder = self.root / key
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"format": CACHE_FORMAT, "backbone": fingerprint, "max_length": max_length,
                "layer": _layer_json(layer), "dtype": self.dtype, "num_texts": len(texts),
                "shard_size": self.shard_size, "description": description}
        build = _ShardBuilder(self, folder, texts, encode, batch_size, description)
        rank, world = rank_and_world()
        if world == 1:
            with FileLock(str(folder) + ".lock"):
                self._write_meta(folder, meta)
                build(self._missing(folder, len(texts)))
        else:
            self._build_distributed(folder, meta, build, rank, world)
        return self._open(folder, len(texts))

    def _write_meta(self, folder: Path, meta: dict) -> None:
        meta_path = folder / "meta.json"
        if _json_or_none(meta_path) != meta:  # a missing or damaged meta.json is written again
            atomic_write_text(meta_path, json.dumps(meta, indent=2))

    def _missing(self, folder: Path, num_texts: int) -> list[int]:
        shards = (num_texts + self.shard_size - 1) // self.shard_size
        return [shard for shard in range(shards) if not self._valid_shard(folder, shard)]

    def _build_distributed(self, folder: Path, meta: dict, build: _ShardBuilder, rank: int, world: int) -> None:
        """Each rank builds every ``world``-th missing shard, then waits for the others' shards on their locks.

        The ranks agree on the missing shards between two barriers (nothing is written meanwhile), and each
        takes the locks of its own shards before a third barrier: a rank that waits on a shard's lock thus
        waits for the rank building it, and builds the shard itself only if that rank died (its lock was
        released with the shard still invalid). Barriers only frame this quick start, so a long build never
        runs into the process group's timeout.
        """
        import torch.distributed as dist

        if rank == 0:
            with FileLock(str(folder) + ".lock"):
                self._write_meta(folder, meta)
        dist.barrier()
        missing = self._missing(folder, meta["num_texts"])
        dist.barrier()
        mine = missing[rank::world]
        locks = {shard: self._shard_lock(folder, shard) for shard in mine}
        for lock in locks.values():
            lock.acquire()
        dist.barrier()
        try:
            for shard in mine:
                build([shard], lock_held=True)
                locks[shard].release()
        finally:
            for lock in locks.values():
                lock.release(force=True)
        for shard in missing:  # the others' shards: wait for their builders, then check
            if shard not in locks:
                build([shard])

    def _shard_lock(self, folder: Path, shard: int) -> FileLock:
        return FileLock(str(folder / f"shard-{shard:05d}.lock"))

    # -- shards
    def _paths(self, folder: Path, shard: int) -> tuple[Path, Path, Path]:
        stem = f"shard-{shard:05d}"
        return folder / f"{stem}.tokens.npy", folder / f"{stem}.lengths.npy", folder / f"{stem}.json"

    def _valid_shard(self, folder: Path, shard: int) -> bool:
        tokens, lengths, record = self._paths(folder, shard)
        if not (record.exists() and tokens.exists() and lengths.exists()):
            return False
        return _json_or_none(record) == {"tokens": sha256_file(tokens), "lengths": sha256_file(lengths)}

    def _build_shard(self, folder: Path, shard: int, texts: list[str], encode, batch_size: int, bar,
                     description: str = "") -> None:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths batch together
        states: list[np.ndarray | None] = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            for i, state in zip(chunk, encode([texts[i] for i in chunk])):
                with np.errstate(over="ignore"):  # an overflow is detected and explained just below
                    stored = np.asarray(state, dtype=self.dtype)
                if not np.isfinite(stored).all() and np.isfinite(state).all():
                    raise ValueError(
                        f"StateCache: token states of {description or 'this split'} reach "
                        f"{float(np.abs(state).max()):.3g}, beyond {self.dtype}'s range (a decoder's first-token "
                        "'attention sink' state in a middle layer does this). Cache them as float32: "
                        "StateCache(dtype='float32'), or --cache-dtype float32 on the command line."
                    )
                states[i] = stored
            bar.update(len(chunk))
        tokens_path, lengths_path, record_path = self._paths(folder, shard)
        lengths = np.array([len(s) for s in states], dtype=np.int64)
        atomic_write(tokens_path, lambda p: _save_npy(p, np.concatenate(states)))
        atomic_write(lengths_path, lambda p: _save_npy(p, lengths))
        record = {"tokens": sha256_file(tokens_path), "lengths": sha256_file(lengths_path)}
        atomic_write_text(record_path, json.dumps(record))

    def _open(self, folder: Path, num_texts: int) -> TokenStates:
        shards, lengths = [], []
        for shard in range((num_texts + self.shard_size - 1) // self.shard_size):
            tokens_path, lengths_path, _ = self._paths(folder, shard)
            shards.append(np.load(tokens_path, mmap_mode="r"))
            lengths.append(np.load(lengths_path))
        lengths_all = np.concatenate(lengths)
        if len(lengths_all) != num_texts:
            raise RuntimeError(f"StateCache: {folder} holds {len(lengths_all)} texts, expected {num_texts}.")
        return TokenStates(shards=shards, lengths=lengths_all, shard_size=self.shard_size, dim=shards[0].shape[-1])


def _json_or_none(path: Path) -> object:
    """A cache file's JSON, or ``None`` when it is missing or damaged (the cache then rebuilds what it covers)."""
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


class _ShardBuilder:
    """Builds shards of one cache entry with a progress bar; each under its own lock, re-checked inside it (a
    concurrent builder may have finished it meanwhile)."""

    def __init__(self, cache: StateCache, folder: Path, texts: Sequence[str], encode, batch_size: int,
                 description: str) -> None:
        self.cache, self.folder, self.texts, self.encode = cache, folder, texts, encode
        self.batch_size, self.description = batch_size, description

    def __call__(self, shards: list[int], lock_held: bool = False) -> None:
        if not shards:
            return
        size, n = self.cache.shard_size, len(self.texts)
        total = sum(min(size, n - shard * size) for shard in shards)
        with tqdm(total=total, desc=f"caching states {self.description}".strip(), unit="text") as bar:
            for shard in shards:
                with contextlib.nullcontext() if lock_held else self.cache._shard_lock(self.folder, shard):
                    if self.cache._valid_shard(self.folder, shard):
                        bar.update(min(size, n - shard * size))
                        continue
                    self.cache._build_shard(self.folder, shard, list(self.texts[shard * size : (shard + 1) * size]),
                                            self.encode, self.batch_size, bar, self.description)
